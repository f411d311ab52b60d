"""Keyed subject pseudonyms for audit entries (DESIGN.md §3, UU PDP Art. 31).

NIKs are enumerable (PDP.md), so an unkeyed hash of one is no pseudonym at all. The subject
of an audit entry is ``base64url(HMAC-SHA-256(key, "jati-audit-subject/v1" || 0x00 || id))``
over the citizen's *internal* id, under a deployment secret derived from the master key.
Without the key, entries cannot be linked to a person; with it, an auditor's query for one
citizen finds all of that citizen's entries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_DOMAIN = b"jati-audit-subject/v1\x00"
KEY_BYTES = 32


class SubjectPseudonymizer:
    """Maps an internal subject id to its stable, keyed pseudonym (43 characters)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise ValueError(f"the pseudonym key must be at least {KEY_BYTES} bytes")
        self._key = key

    def pseudonym(self, subject_id: str) -> str:
        if not subject_id:
            raise ValueError("an empty subject id has no pseudonym")
        digest = hmac.new(self._key, _DOMAIN + subject_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def __repr__(self) -> str:
        return "SubjectPseudonymizer(<key hidden>)"
