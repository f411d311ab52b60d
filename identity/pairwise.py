"""Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1).

Each relying app sees the citizen under a ``sub`` computed for its *sector identifier*: apps
of one sector (one organisation's apps, one redirect host) share it, apps of different
sectors get unrelated values and cannot join their users. §8.1 suggests
``SHA-256(sector || local id || salt)``; we use the keyed form, HMAC-SHA-256 under a key
derived from the master key over ``sector || 0x00 || internal citizen id``. The input is the
internal, random citizen id, never the NIK: NIKs are enumerable, and a hash over one would
let anyone holding the key (or a leaked table) test guesses.
"""

from __future__ import annotations

import base64
import hmac

from identity.derived_keys import PAIRWISE_SUBJECT_KEY, derive_key


class PairwiseSubjects:
    """Computes the ``sub`` a sector sees for a citizen."""

    __slots__ = ("_key",)

    def __init__(self, master_key: bytes) -> None:
        self._key = derive_key(master_key, PAIRWISE_SUBJECT_KEY)

    def __repr__(self) -> str:
        return "PairwiseSubjects(<key hidden>)"

    def subject(self, sector_identifier: str, subject_id: str) -> str:
        """A 43-character base64url ``sub`` for (sector, citizen)."""
        if not sector_identifier or not subject_id:
            raise ValueError("a pairwise subject needs a sector identifier and a citizen id")
        if "\x00" in sector_identifier or "\x00" in subject_id:
            raise ValueError("sector identifiers and ids cannot contain NUL")
        message = sector_identifier.encode() + b"\x00" + subject_id.encode()
        digest = hmac.digest(self._key, message, "sha256")
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
