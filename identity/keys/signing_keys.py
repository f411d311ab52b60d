"""Signing keys for tokens: generation, JWKs, sealing at rest, and their life cycle.

Algorithms (DESIGN.md §4, :mod:`identity.keys.jws_algorithms`): ``EdDSA`` (Ed25519, RFC 8037) by
default, ``Ed25519`` (the same curve under its RFC 9864 name, with keys of its own), ``ES256``
(P-256, RFC 7518 §3.4) and ``RS256`` (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3; 3072-bit
keys, NIST SP 800-57 Part 1 Table 2's 128-bit strength, ``e`` = 65537) for the ID tokens of
apps that registered it. Each key is bound to one algorithm: its JWK's ``alg`` is the header
``alg`` of everything it signs. ``kid`` is the RFC 7638 thumbprint of the public JWK.
Private keys are stored only sealed (AES-256-GCM under a key derived from the master key,
bound to the kid).

Life cycle: ``next`` (published, not yet signing) -> ``active`` (signing) -> ``retired``
(published until every token it signed has expired, then dropped from the JWKS). Publishing
the next key ahead lets relying parties cache it before it signs anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from identity.errors import IdentityError
from identity.keys.base64url import b64url_encode
from identity.keys.derived_keys import SIGNING_KEY_WRAPPING_LABEL, DerivedKeyHolder
from identity.keys.jwk import jwk_thumbprint
from identity.keys.jws_algorithms import SIGNING_ALGORITHMS

#: Every algorithm with keys in the store (one next and one active each).
SUPPORTED_ALGORITHMS = SIGNING_ALGORITHMS
#: RS256 keys: 3072-bit modulus (RFC 7518 §3.3 asks 2048 at least), the usual exponent.
RSA_KEY_BITS = 3072
RSA_PUBLIC_EXPONENT = 65537

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


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


def jwks(keys: Sequence[SigningKeyInfo], *, now: datetime) -> dict[str, Any]:
    """The JWK Set (RFC 7517 §5): public keys that are next, active or still published."""
    return {"keys": [k.public_jwk for k in keys if k.published_at(now)]}


class SigningKeyList(Protocol):
    """The signing keys as the routes that publish or use them read them
    (:class:`identity.storage.keys.SqlKeyStore`)."""

    def list_keys(self) -> list[SigningKeyInfo]: ...
    def ensure(self, algorithms: Sequence[str], *, now: datetime) -> None: ...


#: How long a JWK Set read from the key store is fresh: a key published by a rotation is seen
#: by every verifier in process within this many seconds.
KEYS_MAX_AGE = 60.0


def key_store_loader(
    key_store: SigningKeyList, *, clock: Callable[[], datetime]
) -> Callable[[], tuple[Mapping[str, Any], float | None]]:
    """The published JWK Set read from the key store in process, no HTTP (a
    :data:`identity.relying_party.key_cache.JwksLoader` for the SDK's verifiers)."""

    def load() -> tuple[Mapping[str, Any], float | None]:
        return jwks(key_store.list_keys(), now=clock()), KEYS_MAX_AGE

    return load


def public_jwk(private_key: PrivateKey, alg: str) -> dict[str, Any]:
    """The public JWK (RFC 7517) with ``kid`` (RFC 7638 thumbprint), ``alg`` and ``use``."""
    if isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk: dict[str, Any] = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    elif isinstance(private_key, rsa.RSAPrivateKey):
        rsa_numbers = private_key.public_key().public_numbers()
        jwk = {
            "kty": "RSA",
            "n": b64url_encode(_unsigned(rsa_numbers.n)),
            "e": b64url_encode(_unsigned(rsa_numbers.e)),
        }
    else:
        numbers = private_key.public_key().public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big")),
        }
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": alg, "use": "sig"}


def _unsigned(value: int) -> bytes:
    """RFC 7518 §6.3.1: an RSA parameter as the minimum number of big-endian octets."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def generate_private_key(alg: str) -> PrivateKey:
    """A new private key for ``alg`` (one of :data:`SUPPORTED_ALGORITHMS`)."""
    if alg in ("EdDSA", "Ed25519"):
        return Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return _generate_rsa()
    raise KeyError_(f"unsupported signing algorithm {alg!r}; use one of {SUPPORTED_ALGORITHMS}")


def _generate_rsa() -> rsa.RSAPrivateKey:
    """A 3072-bit RSA key (about 0.1 to 1 s of CPU: generated by ``jati serve`` at start and
    by ``jati keys rotate``, never on a request)."""
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)


def key_matches(alg: str, private_key: PrivateKey) -> bool:
    """Whether ``private_key`` is of the type ``alg`` signs with (RFC 8725 §3.1)."""
    if alg in ("EdDSA", "Ed25519"):
        return isinstance(private_key, Ed25519PrivateKey)
    if alg == "ES256":
        return isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(
            private_key.curve, ec.SECP256R1
        )
    if alg == "RS256":
        return isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size >= RSA_KEY_BITS
    return False


class KeySealer(DerivedKeyHolder):
    """Seals private keys (PKCS#8 DER) at rest under a key derived from the master key."""

    __slots__ = ()
    LABEL = SIGNING_KEY_WRAPPING_LABEL

    def seal(self, kid: str, private_key: PrivateKey) -> bytes:
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = os.urandom(12)
        return b"\x01" + nonce + AESGCM(self._key).encrypt(nonce, der, kid.encode())

    def open(self, kid: str, sealed: bytes) -> PrivateKey:
        if len(sealed) < 29 or sealed[0] != 1:
            raise KeyError_("a sealed signing key has an unknown format")
        try:
            der = AESGCM(self._key).decrypt(sealed[1:13], sealed[13:], kid.encode())
        except InvalidTag:
            raise KeyError_(
                "a signing key does not open: wrong master key, or the row was altered"
            ) from None
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyError_("a signing key of an unsupported type")
        return key
