"""Redaction of personal data and credentials from application logs.

DESIGN.md §3: application logs never contain personal data or tokens. This filter is the
last line of defence (code should not log such values in the first place): it rewrites
every record's message, arguments and extra fields, replacing NIKs, email addresses, phone
numbers, bearer tokens, JWTs and password fields with ``[REDACTED:<kind>]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Credentials first, so their digits are not mistaken for phone numbers.
    ("token", re.compile(r"(?i)\b(bearer|basic|dpop)\s+[A-Za-z0-9._~+/=-]+")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_.~-]*")),
    (
        "secret",
        re.compile(
            r"(?i)\b(password|passwd|client_secret|secret|refresh_token|access_token|id_token"
            r"|code_verifier|code|assertion)(\"?\s*[:=]\s*)(?:\"[^\"]*\"|[^\s\"&,;}]+)"
        ),
    ),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    # NIK: 16 digits (PDP.md), possibly grouped with spaces, dots or dashes.
    ("nik", re.compile(r"(?<!\d)\d{6}[ .-]?\d{6}[ .-]?\d{4}(?!\d)")),
    # Phone numbers: +62 / 62 / 0 prefixes (Indonesia) and other E.164 numbers.
    (
        "phone",
        re.compile(
            r"(?<![\w+])(?:\+?62|0)[ .-]?\(?\d{2,4}\)?(?:[ .-]?\d{3,4}){2}(?!\d)"
            r"|\+\d{1,3}(?:[ .-]?\d{2,5}){2,5}(?!\d)"
        ),
    ),
)


def redact(text: str) -> str:
    """Replace every personal value or credential in ``text`` with a marker."""
    for kind, pattern in _PATTERNS:
        if kind == "token":
            text = pattern.sub(r"\1 [REDACTED:token]", text)
        elif kind == "secret":
            text = pattern.sub(r'\1\2"[REDACTED:secret]"', text)
        else:
            text = pattern.sub(f"[REDACTED:{kind}]", text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        # A bare 16-digit integer is still a NIK.
        return redact(str(value)) if isinstance(value, int) and len(str(value)) >= 8 else value
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return redact(str(value))


#: LogRecord attributes that are not user data; everything else is redacted.
_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "request_id"}


class RedactionFilter(logging.Filter):
    """A logging filter that redacts a record in place; install it on every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        for key, value in list(vars(record).items()):
            if key not in _RECORD_FIELDS:
                setattr(record, key, _redact_value(value))
        return True
