"""The checks of what a citizen sends with a data-subject request (UU PDP Art. 14), made
before anything is recorded. An error names the part that is wrong, never a value sent
(:class:`~consent.errors.InvalidSubjectRequest`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from consent.errors import InvalidSubjectRequest
from consent.requests.records import RequestKind, RequestStatus

__all__ = [
    "MAX_CORRECTION_FIELDS",
    "MAX_CORRECTION_VALUE_CHARS",
    "checked_changes",
    "checked_kind",
    "checked_status",
    "looks_like_request_id",
]

#: Limits on a correction as received (values are checked again by the identity service).
MAX_CORRECTION_FIELDS = 8
MAX_CORRECTION_VALUE_CHARS = 1000
_FIELD_NAME = re.compile(r"[a-z][a-z_]{0,31}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REQUEST_ID = re.compile(r"[a-z2-7]{26}")

_Choice = TypeVar("_Choice", bound=StrEnum)


def _one_of(choices: type[_Choice], value: _Choice | str, part: str) -> _Choice:
    """``value`` as one of ``choices``; otherwise an error on ``part`` listing them."""
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise InvalidSubjectRequest(part, f"must be one of: {allowed}") from None


def checked_kind(value: RequestKind | str) -> RequestKind:
    return _one_of(RequestKind, value, "kind")


def checked_status(value: RequestStatus | str) -> RequestStatus:
    return _one_of(RequestStatus, value, "status")


def checked_changes(changes: Mapping[str, str] | None) -> dict[str, str]:
    """The shape of a correction: a few field names, each with a text value. Nothing the
    client sent is repeated in an error, not even a field name (it could carry personal
    data); the identity service then names the field it refuses, from its own list."""
    if not changes:
        raise InvalidSubjectRequest("fields", "name one or more fields and their new values")
    if len(changes) > MAX_CORRECTION_FIELDS:
        raise InvalidSubjectRequest("fields", f"at most {MAX_CORRECTION_FIELDS} fields")
    checked: dict[str, str] = {}
    for name, value in changes.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidSubjectRequest("fields", "field names are lower-case words")
        if not isinstance(value, str) or not _is_text(value):
            raise InvalidSubjectRequest("fields", "each new value must be text")
        if len(value) > MAX_CORRECTION_VALUE_CHARS:
            raise InvalidSubjectRequest(
                "fields", f"a new value has at most {MAX_CORRECTION_VALUE_CHARS} characters"
            )
        checked[name] = value
    return checked


def _is_text(value: str) -> bool:
    """Text that can be stored: no NUL (PostgreSQL text cannot hold one) and no lone
    surrogate (JSON's ``\\ud800`` escape gives one; it has no UTF-8 form)."""
    return "\x00" not in value and _LONE_SURROGATE.search(value) is None


def looks_like_request_id(value: str) -> bool:
    """Whether ``value`` has the form of :func:`~consent.requests.records.new_request_id`."""
    return bool(_REQUEST_ID.fullmatch(value))
