"""Sealing: authenticated encryption of values that travel through the browser.

Four values leave Jati sealed and come back: a pending authorization request (the ``req``
value the pages carry, :mod:`identity.oidc.sealed_request`), a pending login (the
``jati_login`` cookie of the second-factor step, :mod:`identity.http.pages.login`), an
activation ticket (the ``jati_activate`` cookie, :mod:`identity.http.pages.activate`) and a
passkey ceremony's state (the ``jati_webauthn`` cookie, :mod:`identity.http.pages.passkeys`).
Each is sealed under its own key, derived from the master key with HKDF (RFC 5869,
:func:`identity.keys.derived_keys.derive_key`) and its label below, and travels as unpadded
base64url (RFC 4648 §5). Sealed values are confidential and tamper-evident:
:meth:`SivSealer.open` and :meth:`GcmSealer.open` answer None for a value that is
malformed, altered or sealed under another key.

- :class:`SivSealer`: AES-256-SIV (RFC 5297), no nonce and no associated data. Safe however
  many values an attacker makes Jati seal (AES-GCM's random 96-bit nonces would cap a key at
  about 2^32 seals); equal plaintexts seal alike, so each must hold something random.
- :class:`GcmSealer`: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce; the sealed
  bytes are the nonce, then the ciphertext and its tag, with fixed associated data.

The labels and the layouts are part of the values already out in browsers: changing one
makes them unreadable (a new version is a new label).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import derive_key

__all__ = [
    "ACTIVATION_TICKET_AD",
    "CONSOLE_ACTIVATION_AD",
    "PAGE_INTENT_AD",
    "PENDING_LOGIN_AD",
    "WEBAUTHN_CEREMONY_AD",
    "GcmSealer",
    "SivSealer",
]

#: Key of the sealed pending authorization requests (64 bytes: AES-256-SIV, RFC 5297).
#: Key of the pending-login cookie (32 bytes: AES-256-GCM).
#: Associated data of every pending-login cookie.
PENDING_LOGIN_AD = b"jati-pending-login/v1"
#: Associated data of every activation-ticket cookie (``jati_activate``,
#: :mod:`identity.http.pages.activate`).
ACTIVATION_TICKET_AD = b"jati-activation-ticket/v1"
#: Associated data of every passkey ceremony cookie (``jati_webauthn``,
#: :mod:`identity.http.pages.passkeys`).
WEBAUTHN_CEREMONY_AD = b"jati-webauthn-ceremony/v1"
#: Associated data of every kept-intent cookie (``jati_intent``,
#: :mod:`identity.http.pages.intent`).
PAGE_INTENT_AD = b"jati-page-intent/v1"
#: Associated data of a staff member's activation ticket (a hidden field of the console's
#: activation page, :mod:`identity.http.console.pages`).
CONSOLE_ACTIVATION_AD = b"jati-console-activation/v1"

_NONCE_BYTES = 12


def _encode(sealed: bytes) -> str:
    return b64url_encode(sealed)


def _decode(value: str) -> bytes:
    """Unpadded base64url to bytes. Raises ValueError (``binascii.Error``) when malformed."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class SivSealer:
    """AES-256-SIV (RFC 5297) under the 64-byte key derived from ``master_key`` for
    ``label``; deterministic, so plaintexts must differ (hold a random id)."""

    __slots__ = ("_siv",)

    def __init__(self, master_key: bytes, label: bytes) -> None:
        self._siv = AESSIV(derive_key(master_key, label, 64))

    def __repr__(self) -> str:
        return "SivSealer(<key hidden>)"

    def seal(self, plaintext: bytes) -> str:
        return _encode(self._siv.encrypt(plaintext, None))

    def open(self, value: str) -> bytes | None:
        """The plaintext sealed in ``value``, or None (malformed, altered, another key)."""
        try:
            return self._siv.decrypt(_decode(value), None)
        except (InvalidTag, ValueError):
            return None


class GcmSealer:
    """AES-256-GCM under the 32-byte key derived from ``master_key`` for ``label``, with
    ``associated_data`` bound to every value: ``nonce (12 bytes) || ciphertext || tag``."""

    __slots__ = ("_aead", "_associated_data")

    def __init__(self, master_key: bytes, label: bytes, associated_data: bytes) -> None:
        self._aead = AESGCM(derive_key(master_key, label))
        self._associated_data = associated_data

    def __repr__(self) -> str:
        return "GcmSealer(<key hidden>)"

    def seal(self, plaintext: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        return _encode(nonce + self._aead.encrypt(nonce, plaintext, self._associated_data))

    def open(self, value: str) -> bytes | None:
        """The plaintext sealed in ``value``, or None (malformed, altered, another key)."""
        try:
            raw = _decode(value)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._associated_data)
        except (InvalidTag, ValueError):
            return None
