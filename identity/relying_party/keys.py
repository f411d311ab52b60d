"""Public JWKs (RFC 7517) turned into verification keys, each bound to its algorithms.

RFC 8725 §3.1 asks that the algorithm be tied to the key: an Ed25519 key (``OKP``/
``Ed25519``, RFC 8037) verifies only ``EdDSA`` or its fully-specified name ``Ed25519``
(RFC 9864); a P-256 key (``EC``/``P-256``) only ``ES256`` (RFC 7518 §3.4). Symmetric
(``oct``) keys and keys carrying private members are never used for verification, so
"HS256 with the public key as the secret" has no key to verify with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from identity.jwk import jwk_thumbprint
from identity.relying_party.encoding import b64url_decode
from identity.relying_party.errors import InvalidToken

log = logging.getLogger(__name__)

EDDSA_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})
ES256 = "ES256"
SUPPORTED_ALGORITHMS = EDDSA_ALGORITHMS | {ES256}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KID_LENGTH = 128

Verify = Callable[[bytes, bytes], bool]


class UnusableKey(ValueError):
    """A JWK this SDK will not verify with (the message says why; it holds no key material)."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    algorithms: frozenset[str]
    verify: Verify  # (raw JWS signature, signing input) -> valid?


def _ed25519_verifier(key: Ed25519PublicKey) -> Verify:
    check = key.verify

    def verify(signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            check(signature, signing_input)
        except InvalidSignature:
            return False
        return True

    return verify


def _der_integer(value: bytes) -> bytes:
    value = value.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + bytes((len(value),)) + value


def raw_to_der(signature: bytes) -> bytes:
    """RFC 7518 §3.4 ``R || S`` (32 bytes each for P-256) as the DER ECDSA-Sig-Value
    (SEC 1 §C.5). The common cases, no leading zero byte, take a fast path."""
    r0, s0 = signature[0], signature[32]
    if r0 and s0:
        r = (b"\x02\x21\x00" if r0 & 0x80 else b"\x02\x20") + signature[:32]
        s = (b"\x02\x21\x00" if s0 & 0x80 else b"\x02\x20") + signature[32:]
    else:
        r, s = _der_integer(signature[:32]), _der_integer(signature[32:])
    return b"\x30" + bytes((len(r) + len(s),)) + r + s


def _es256_verifier(key: ec.EllipticCurvePublicKey) -> Verify:
    check = key.verify
    algorithm = ec.ECDSA(hashes.SHA256())

    def verify(signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            check(raw_to_der(signature), signing_input, algorithm)
        except InvalidSignature:
            return False
        return True

    return verify


def _coordinate(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise UnusableKey(f"member {name!r} is missing")
    try:
        raw = b64url_decode(value)
    except InvalidToken:
        raise UnusableKey(f"member {name!r} is not base64url") from None
    if len(raw) != size:
        raise UnusableKey(f"member {name!r} has the wrong length")
    return raw


def verification_key(jwk: Mapping[str, Any]) -> VerificationKey:
    """The verification key for one JWK, or :class:`UnusableKey`."""
    if PRIVATE_MEMBERS & jwk.keys():
        raise UnusableKey("the JWK carries private key material; refusing it")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise UnusableKey("the JWK is not for signatures")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise UnusableKey("the JWK's key_ops do not include verify")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        allowed = EDDSA_ALGORITHMS
        verify = _ed25519_verifier(Ed25519PublicKey.from_public_bytes(_coordinate(jwk, "x", 32)))
    elif kty == "EC" and crv == "P-256":
        allowed = frozenset({ES256})
        x = int.from_bytes(_coordinate(jwk, "x", 32), "big")
        y = int.from_bytes(_coordinate(jwk, "y", 32), "big")
        try:
            public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError:
            raise UnusableKey("the EC point is not on P-256") from None
        verify = _es256_verifier(public)
    else:
        raise UnusableKey("unsupported key type (use OKP/Ed25519 or EC/P-256)")
    alg = jwk.get("alg")
    if alg is not None:
        if alg not in allowed:
            raise UnusableKey("the JWK's alg does not match its key type")
        allowed = EDDSA_ALGORITHMS if alg in EDDSA_ALGORITHMS else frozenset({alg})
    kid = jwk.get("kid")
    if kid is None:
        kid = jwk_thumbprint(jwk)
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise UnusableKey("the JWK's kid is not a short string")
    return VerificationKey(kid=kid, algorithms=allowed, verify=verify)


def key_set(jwks: Mapping[str, Any]) -> dict[str, VerificationKey]:
    """The usable keys of a JWK Set (RFC 7517 §5) by ``kid``. Unusable keys are skipped with
    a warning (a set may hold keys for other purposes); duplicate kids are refused."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise UnusableKey("a JWK Set is an object with a 'keys' array")
    found: dict[str, VerificationKey] = {}
    for index, jwk in enumerate(keys):
        if not isinstance(jwk, Mapping):
            log.warning("JWK Set entry %d is not an object; skipped", index)
            continue
        try:
            key = verification_key(jwk)
        except UnusableKey as exc:
            log.warning("JWK Set entry %d skipped: %s", index, exc)
            continue
        if key.kid in found:
            raise UnusableKey("two keys in the JWK Set share a kid")
        found[key.kid] = key
    return found
