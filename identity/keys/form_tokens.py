"""The keyed half of the pages' CSRF protection (OWASP CSRF Prevention Cheat Sheet, "signed
double-submit cookie"): a random cookie value, and the form token
``HMAC-SHA-256(key, "jati-csrf/v1" NUL value)`` that only the holder of the key can compute.
The key is derived from the master key (HKDF, :mod:`identity.keys.derived_keys`); tokens are
compared in constant time (:func:`hmac.compare_digest`). The cookie and the form field are
:mod:`identity.http.pages.csrf`'s."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import CSRF_KEY_LABEL, DerivedKeyHolder

__all__ = ["FormTokens"]

_DOMAIN = b"jati-csrf/v1\x00"


class FormTokens(DerivedKeyHolder):
    """Form tokens bound to a cookie value, under a key derived from the master key."""

    __slots__ = ()
    LABEL = CSRF_KEY_LABEL

    @staticmethod
    def new_value() -> str:
        """A fresh cookie value: 256 random bits, base64url (43 characters)."""
        return secrets.token_urlsafe(32)

    def token(self, value: str) -> str:
        """The form token for a cookie value."""
        digest = hmac.new(self._key, _DOMAIN + value.encode("ascii"), hashlib.sha256)
        return b64url_encode(digest.digest())

    def matches(self, value: str, submitted: str) -> bool:
        """Whether ``submitted`` is the token of ``value``, compared in constant time."""
        return hmac.compare_digest(self.token(value).encode("ascii"), submitted.encode("utf-8"))
