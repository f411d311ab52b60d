"""Signing keys for tokens: generation, JWKs, sealing at rest, and their life cycle.

Algorithms (DESIGN.md §4): ``EdDSA`` (Ed25519, RFC 8037) by default and ``ES256`` (P-256,
RFC 7518 §3.4). ``kid`` is the RFC 7638 thumbprint of the public JWK. Private keys are
stored only sealed (AES-256-GCM under a key derived from the master key, bound to the kid).

Life cycle: ``next`` (published, not yet signing) -> ``active`` (signing) -> ``retired``
(published until every token it signed has expired, then dropped from the JWKS). Publishing
the next key ahead lets relying parties cache it before it signs anything.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identity.derived_keys import derive_key
from identity.errors import IdentityError
from identity.jwk import jwk_thumbprint

SIGNING_KEY_WRAPPING_LABEL = b"jati/identity/signing-key-wrapping/v1"
SUPPORTED_ALGORITHMS = ("EdDSA", "ES256")

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey


class KeyState(StrEnum):
    NEXT = "next"
    ACTIVE = "active"
    RETIRED = "retired"


class KeyError_(IdentityError):
    code = "signing_key_error"


@dataclass(frozen=True, slots=True)
class SigningKeyInfo:
    """A key as listed and published: never the private part."""

    kid: str
    alg: str
    state: KeyState
    public_jwk: dict[str, Any]
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    publish_until: datetime | None = None

    def published_at(self, now: datetime) -> bool:
        if self.state is not KeyState.RETIRED:
            return True
        return self.publish_until is not None and now < self.publish_until


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(private_key: PrivateKey, alg: str) -> dict[str, Any]:
    """The public JWK (RFC 7517) with ``kid`` (RFC 7638 thumbprint), ``alg`` and ``use``."""
    if isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    else:
        numbers = private_key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": alg, "use": "sig"}


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "EdDSA":
        return Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyError_(f"unsupported signing algorithm {alg!r}; use one of {SUPPORTED_ALGORITHMS}")


class KeySealer:
    """Seals private keys (PKCS#8 DER) at rest under a key derived from the master key."""

    __slots__ = ("_kek",)

    def __init__(self, master_key: bytes) -> None:
        self._kek = derive_key(master_key, SIGNING_KEY_WRAPPING_LABEL)

    def __repr__(self) -> str:
        return "KeySealer(<key hidden>)"

    def seal(self, kid: str, private_key: PrivateKey) -> bytes:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = os.urandom(12)
        return b"\x01" + nonce + AESGCM(self._kek).encrypt(nonce, der, kid.encode())

    def open(self, kid: str, sealed: bytes) -> PrivateKey:
        if len(sealed) < 29 or sealed[0] != 1:
            raise KeyError_("a sealed signing key has an unknown format")
        try:
            der = AESGCM(self._kek).decrypt(sealed[1:13], sealed[13:], kid.encode())
        except InvalidTag:
            raise KeyError_(
                "a signing key does not open: wrong master key, or the row was altered"
            ) from None
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyError_("a signing key of an unsupported type")
        return key
