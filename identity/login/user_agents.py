"""A short, coarse summary of the browser behind a session, for the account page's list of
devices ("Perangkat dan sesi"): ``"Firefox on Windows"``, ``"Chrome di Android"``.

Only the browser family and the operating system family are kept, never a version, a device
model or the raw ``User-Agent`` header: that is all the citizen needs to recognise a device,
and collecting no more is the principle of limited and specific collection (UU PDP
Art. 16(2)(a), data minimisation). The summary is derived on the server from the header
with a small table of patterns, checked in order (the first match wins: Edge and Opera
announce themselves as Chrome too, Chrome as Safari); anything else is None, shown as
"unknown browser". The header is attacker-controlled text: it is only matched against
fixed patterns and never stored, echoed or logged; what is stored comes from this table.
It is stored as ``"Firefox/Windows"`` (either part may be empty) and shown by the page in
the citizen's language (``"Firefox di Windows"``): :func:`stored_summary`, :func:`parse_stored`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["BrowserSummary", "browser_summary", "parse_stored", "stored_summary"]

#: Longest header read; a longer one is cut (the patterns sit near the start anyway).
MAX_HEADER_CHARS = 512

#: A table of (compiled pattern, family name); the first match wins.
PatternTable = tuple[tuple[re.Pattern[str], str], ...]


def _table(*rows: tuple[str, str]) -> PatternTable:
    return tuple((re.compile(pattern), name) for pattern, name in rows)


#: Browser families; the more specific tokens come first.
BROWSERS = _table(
    (r"\bEdg(?:e|A|iOS)?/", "Edge"),
    (r"\b(?:OPR|OPiOS)/|\bOpera\b", "Opera"),
    (r"\bSamsungBrowser/", "Samsung Internet"),
    (r"\bYaBrowser/", "Yandex Browser"),
    (r"\bUCBrowser/", "UC Browser"),
    (r"\b(?:Firefox|FxiOS)/", "Firefox"),
    (r"\b(?:Chrome|CriOS|Chromium)/", "Chrome"),
    (r"\bVersion/[\d.]+.*\bSafari/", "Safari"),
)

#: Operating system families (Android says Linux too, iPadOS and iOS say "like Mac OS X").
SYSTEMS = _table(
    (r"\b(?:iPhone|iPad|iPod)\b", "iOS"),
    (r"\bAndroid\b", "Android"),
    (r"\bCrOS\b", "ChromeOS"),
    (r"\bWindows\b", "Windows"),
    (r"\bMac OS X\b|\bMacintosh\b", "macOS"),
    (r"\bLinux\b|\bX11\b", "Linux"),
)


class BrowserSummary(NamedTuple):
    """The browser family and the operating system family (either may be None)."""

    browser: str | None
    system: str | None


def _first(table: PatternTable, header: str) -> str | None:
    return next((name for pattern, name in table if pattern.search(header)), None)


def browser_summary(header: str | None) -> BrowserSummary | None:
    """The families named by a ``User-Agent`` header, or None when neither is known."""
    if not header:
        return None
    head = header[:MAX_HEADER_CHARS]
    summary = BrowserSummary(_first(BROWSERS, head), _first(SYSTEMS, head))
    return None if summary == (None, None) else summary


def stored_summary(header: str | None) -> str | None:
    """The summary as stored with a session: ``"Firefox/Windows"``, ``"Firefox/"``,
    ``"/Android"``, or None. Built only from the tables' names, so it holds nothing the
    header said beyond the two families."""
    summary = browser_summary(header)
    if summary is None:
        return None
    return f"{summary.browser or ''}/{summary.system or ''}"


def parse_stored(text: str | None) -> BrowserSummary | None:
    """A stored summary back as its two families (None for none or an unreadable one)."""
    if not text or text.count("/") != 1:
        return None
    browser, system = text.split("/")
    summary = BrowserSummary(browser or None, system or None)
    return None if summary == (None, None) else summary
