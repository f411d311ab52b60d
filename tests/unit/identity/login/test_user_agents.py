"""The browser summary kept with a session: families only, never a version or the header."""

from __future__ import annotations

import pytest

from identity.login.user_agents import (
    BrowserSummary,
    browser_summary,
    parse_stored,
    stored_summary,
)

HEADERS = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0": (
        "Firefox",
        "Windows",
    ),
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36": ("Chrome", "Android"),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87": ("Edge", "Windows"),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15": ("Safari", "macOS"),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1": ("Safari", "iOS"),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1": ("Chrome", "iOS"),
    "Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36": ("Samsung Internet", "Android"),
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Safari/537.36 OPR/111.0.0.0": ("Opera", "Linux"),
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36": ("Chrome", "ChromeOS"),
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0": (
        "Firefox",
        "Linux",
    ),
}


@pytest.mark.parametrize(("header", "families"), HEADERS.items())
def test_the_families_of_common_browsers(header: str, families: tuple[str, str]) -> None:
    assert browser_summary(header) == BrowserSummary(*families)
    stored = stored_summary(header)
    assert stored == "/".join(families)
    assert parse_stored(stored) == BrowserSummary(*families)


@pytest.mark.parametrize("header", [None, "", "curl/8.5.0", "python-requests/2.32", "x" * 5000])
def test_an_unknown_browser_is_none(header: str | None) -> None:
    assert browser_summary(header) is None and stored_summary(header) is None


def test_one_family_alone_is_kept() -> None:
    assert stored_summary("Dalvik/2.1.0 (Linux; U; Android 14)") == "/Android"
    assert parse_stored("/Android") == BrowserSummary(None, "Android")
    assert stored_summary("Firefox/128.0") == "Firefox/"
    assert parse_stored("Firefox/") == BrowserSummary("Firefox", None)


def test_nothing_of_the_header_but_the_table_names_is_kept() -> None:
    hostile = "Mozilla/5.0 (Windows NT 10.0) <script>alert(1)</script> Firefox/1 NIK=3171234"
    stored = stored_summary(hostile)
    assert stored == "Firefox/Windows"
    assert stored_summary("Mozilla/5.0 (Windows NT 10.0) Firefox/128.0.1 build 20240101") == (
        "Firefox/Windows"  # no version survives
    )


@pytest.mark.parametrize("text", [None, "", "/", "a/b/c", "no-slash"])
def test_an_unreadable_stored_summary_is_none(text: str | None) -> None:
    assert parse_stored(text) is None


def test_a_long_header_is_read_only_at_its_start() -> None:
    assert stored_summary("Mozilla/5.0 (Windows NT 10.0) " + " " * 600 + "Firefox/1") == (
        "/Windows"
    )
