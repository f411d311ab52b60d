"""Devices on which a citizen has signed in before: what a locked address still lets through.

Many citizens share one address (a mobile carrier's NAT, an office, a proxy), so a limit
per address alone would let one of them lock out all the others. Jati follows OWASP's
"Slow Down Online Guessing Attacks with Device Cookies" (Authentication Cheat Sheet) and
NIST SP 800-63B §5.2.2 (the verifier may disregard failures for a client that has
authenticated before): after a successful password check the browser receives a *device
proof* for that account, and an attempt on that account carrying it is throttled per account
only, never per address (:mod:`identity.login.throttle`).

A proof is ``base64url(issued_at || tag)``: ``issued_at`` the second it was issued (8 bytes,
big-endian), ``tag`` the first 16 bytes of HMAC-SHA-256 under a key derived from the master
key (:data:`DEVICE_KEY_LABEL`) over a domain label, the account's NIK blind index and
``issued_at``. So a proof:

- is worth something only for the account it was issued for (a proof for the attacker's own
  account does nothing for anybody else's), and cannot be forged (128-bit tag);
- names nobody: no NIK, no citizen id, nothing stored on the server (data minimisation);
  after an erasure the blind index is gone and nothing links the proof to anyone;
- counts for :data:`DEVICE_LIFETIME` from its issue, and is issued anew at each login.

The cookie (:data:`DEVICE_COOKIE`; ``HttpOnly``, ``SameSite=Strict``, ``Path=/login``,
``Secure`` under https) holds up to :data:`MAX_ACCOUNTS` proofs, newest first, joined by
``.``: a family's shared phone keeps working for each of them.

Danger: a copied proof lets its holder past a locked *address* for that one account; the
account's own limit (5 failures, then a lockout) still holds, and a proof is obtained only
by knowing the account's password. A citizen who has never signed in on the device still
waits out a locked address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime, timedelta

__all__ = [
    "DEVICE_COOKIE",
    "DEVICE_LIFETIME",
    "MAX_ACCOUNTS",
    "KnownDevices",
]

DEVICE_COOKIE = "jati_device"
#: HKDF label of the key that tags device proofs.
DEVICE_LIFETIME = timedelta(days=90)
MAX_ACCOUNTS = 4

_DOMAIN = b"jati-login-device/v1\x00"
_TAG_BYTES = 16
_PROOF_BYTES = 8 + _TAG_BYTES
_PROOF_CHARS = 32  # base64url of 24 bytes, no padding needed
_MAX_COOKIE_CHARS = MAX_ACCOUNTS * (_PROOF_CHARS + 1)


class KnownDevices:
    """Issues and recognises device proofs (see the module docstring).

    Args:
        key: at least 32 bytes, derived from the master key with :data:`DEVICE_KEY_LABEL`.
        lifetime: how long a proof counts from its issue.
    """

    def __init__(self, *, key: bytes, lifetime: timedelta = DEVICE_LIFETIME) -> None:
        if len(key) < 32:
            raise ValueError("the device key must be at least 32 bytes")
        self._key = key
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return "KnownDevices(<key hidden>)"

    def recognises(self, cookie: str | None, nik_index: bytes, *, now: datetime) -> bool:
        """Whether ``cookie`` holds a live proof for the account with ``nik_index``."""
        return any(self._valid(issued, tag, nik_index) for issued, tag in self._proofs(cookie, now))

    def remember(self, cookie: str | None, nik_index: bytes, *, now: datetime) -> str:
        """The cookie value after a successful login: a new proof for this account first,
        then the other live proofs it held (at most :data:`MAX_ACCOUNTS` in all)."""
        issued = int(now.timestamp())
        kept = [
            _encode(other, tag)
            for other, tag in self._proofs(cookie, now)
            if not self._valid(other, tag, nik_index)
        ]
        return ".".join([_encode(issued, self._tag(issued, nik_index)), *kept][:MAX_ACCOUNTS])

    def _proofs(self, cookie: str | None, now: datetime) -> list[tuple[int, bytes]]:
        """The well-formed, unexpired proofs in ``cookie``, in its order."""
        if not cookie or len(cookie) > _MAX_COOKIE_CHARS:
            return []
        latest = now.timestamp()
        earliest = (now - self.lifetime).timestamp()
        found = []
        for part in cookie.split(".")[:MAX_ACCOUNTS]:
            decoded = _decode(part)
            if decoded is not None and earliest < decoded[0] <= latest + 60:
                found.append(decoded)
        return found

    def _tag(self, issued: int, nik_index: bytes) -> bytes:
        message = _DOMAIN + nik_index + issued.to_bytes(8, "big")
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_TAG_BYTES]

    def _valid(self, issued: int, tag: bytes, nik_index: bytes) -> bool:
        return hmac.compare_digest(tag, self._tag(issued, nik_index))


def _encode(issued: int, tag: bytes) -> str:
    return base64.urlsafe_b64encode(issued.to_bytes(8, "big") + tag).decode()


def _decode(part: str) -> tuple[int, bytes] | None:
    if len(part) != _PROOF_CHARS or not part.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(part)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _PROOF_BYTES:
        return None
    return int.from_bytes(raw[:8], "big"), raw[8:]
