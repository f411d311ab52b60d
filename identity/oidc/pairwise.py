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
import binascii
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import (
    PAIRWISE_SUBJECT_KEY,
    SELF_SUBJECT_KEY,
    DerivedKeyHolder,
    derive_key,
)


class PairwiseSubjects(DerivedKeyHolder):
    """Computes the ``sub`` a sector sees for a citizen."""

    __slots__ = ()
    LABEL = PAIRWISE_SUBJECT_KEY

    def subject(self, sector_identifier: str, subject_id: str) -> str:
        """A 43-character base64url ``sub`` for (sector, citizen)."""
        if not sector_identifier or not subject_id:
            raise ValueError("a pairwise subject needs a sector identifier and a citizen id")
        if "\x00" in sector_identifier or "\x00" in subject_id:
            raise ValueError("sector identifiers and ids cannot contain NUL")
        message = f"{sector_identifier}\x00{subject_id}".encode()
        digest = hmac.digest(self._key, message, "sha256")
        return b64url_encode(digest)


class SelfSubjects:
    """The ``sub`` of tokens for Jati's own APIs (the citizen API, audience = the issuer).

    Jati must map such a token back to its citizen, which a keyed hash cannot do without a
    lookup table. The ``sub`` is therefore the citizen id under deterministic authenticated
    encryption (AES-256-SIV, RFC 5297), with a key derived from the master key: stable per
    citizen, opaque to the app holding the token (it is not the id any relying app sees),
    and a forged or altered value does not open.
    """

    __slots__ = ("_siv",)
    _AD = b"jati/identity/self-subject/v1"

    def __init__(self, master_key: bytes) -> None:
        self._siv = AESSIV(derive_key(master_key, SELF_SUBJECT_KEY, length=64))

    def __repr__(self) -> str:
        return "SelfSubjects(<key hidden>)"

    def subject(self, subject_id: str) -> str:
        sealed = self._siv.encrypt(subject_id.encode(), [self._AD])
        return b64url_encode(sealed)

    def citizen_id(self, sub: str) -> str | None:
        """The citizen id inside ``sub``, or None if it is not one of ours."""
        try:
            sealed = base64.urlsafe_b64decode(sub + "=" * (-len(sub) % 4))
            return self._siv.decrypt(sealed, [self._AD]).decode()
        except (ValueError, InvalidTag, binascii.Error, UnicodeDecodeError):
            return None
