"""Encryption of personal data at rest (docs/citizens.md; UU PDP Art. 35, 39;
Permenkominfo 20/2016).

Each citizen has a 256-bit data key. Every personal field (NIK, name, birth date, address,
email, phone) is sealed with AES-256-GCM under that key, with associated data binding the
citizen id and the field name, so a ciphertext copied to another citizen or another field
does not open. The data key is stored wrapped (AES-256-GCM) under a key-encryption key
derived from the master key, bound to the citizen id. Erasure (Art. 43-44) destroys the
wrapped data key: crypto-shredding, with nothing else to rewrite.

Lookup by NIK uses a keyed blind index (HMAC-SHA-256 under its own derived key): NIKs are
enumerable, so an unkeyed hash would be no protection at all.

Formats: a sealed value is ``0x01 || 12-byte nonce || ciphertext+tag``; a wrapped key is the
same, over the 32-byte data key. Nonces are random (96 bits); a data key seals a handful of
fields in its life, far below the GCM random-nonce limit.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identity.errors import UnreadableField
from identity.keys.derived_keys import DATA_KEY_WRAPPING_LABEL, NIK_INDEX_LABEL, derive_key

VERSION = 0x01
NONCE_BYTES = 12
KEY_BYTES = 32
_FIELD_AD = b"jati/field/v1\x00"
_WRAP_AD = b"jati/data-key/v1\x00"
_VERSION_BYTE = bytes([VERSION])


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    return _sealed(AESGCM(key), os.urandom(NONCE_BYTES), plaintext, associated)


def _sealed(aead: AESGCM, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
    return _VERSION_BYTE + nonce + aead.encrypt(nonce, plaintext, associated)


def _open(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != VERSION:
        raise UnreadableField("not a sealed value of a supported version")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, associated)
    except InvalidTag:
        raise UnreadableField("the value does not open with this key and context") from None


def _context(subject_id: str, field: str = "") -> bytes:
    if "\x00" in subject_id or "\x00" in field:
        raise ValueError("ids and field names cannot contain NUL")
    return subject_id.encode() + b"\x00" + field.encode()


class FieldCipher:
    """Seals and opens personal fields; wraps and unwraps per-citizen data keys."""

    __slots__ = ("_index_key", "_kek")

    def __init__(self, master_key: bytes) -> None:
        self._kek = derive_key(master_key, DATA_KEY_WRAPPING_LABEL)
        self._index_key = derive_key(master_key, NIK_INDEX_LABEL)

    def __repr__(self) -> str:
        return "FieldCipher(<keys hidden>)"

    def wrap_data_key(self, subject_id: str, data_key: bytes) -> bytes:
        if len(data_key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        return _seal(self._kek, data_key, _WRAP_AD + _context(subject_id))

    def unwrap_data_key(self, subject_id: str, wrapped: bytes) -> bytes:
        return _open(self._kek, wrapped, _WRAP_AD + _context(subject_id))

    @staticmethod
    def seal(data_key: bytes, subject_id: str, field: str, value: str) -> bytes:
        """AES-256-GCM of ``value`` bound to (citizen id, field name)."""
        return _seal(data_key, value.encode(), _FIELD_AD + _context(subject_id, field))

    @staticmethod
    def seal_fields(
        data_key: bytes, subject_id: str, values: Mapping[str, str]
    ) -> dict[str, bytes]:
        """Each value sealed as :meth:`seal` seals it, with one cipher object for the key and
        the nonces from one draw (a registration's fields: half the cost of sealing them
        one by one)."""
        aead = AESGCM(data_key)
        nonces = os.urandom(NONCE_BYTES * len(values))
        return {
            field: _sealed(
                aead,
                nonces[n * NONCE_BYTES : (n + 1) * NONCE_BYTES],
                value.encode(),
                _FIELD_AD + _context(subject_id, field),
            )
            for n, (field, value) in enumerate(values.items())
        }

    @staticmethod
    def open(data_key: bytes, subject_id: str, field: str, sealed: bytes) -> str:
        return _open(data_key, sealed, _FIELD_AD + _context(subject_id, field)).decode()

    def nik_index(self, nik: str) -> bytes:
        """The keyed blind index of a NIK (HMAC-SHA-256), for lookup without decryption."""
        return hmac.new(self._index_key, nik.encode(), hashlib.sha256).digest()
