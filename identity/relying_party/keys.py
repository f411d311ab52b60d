"""Public JWKs (RFC 7517) turned into verification keys, each bound to its algorithms.

RFC 8725 §3.1 asks that the algorithm be tied to the key: an Ed25519 key (``OKP``/
``Ed25519``, RFC 8037) verifies only ``EdDSA`` or its fully-specified name ``Ed25519``
(RFC 9864); a P-256 key (``EC``/``P-256``) only ``ES256`` (RFC 7518 §3.4); an RSA key
(``RSA``) only ``RS256`` (RFC 7518 §3.3, the ID tokens of apps registered for it), and only
with a modulus of 2048 to 8192 bits (RFC 7518 §3.3 asks 2048 at least; the upper bound
caps the work) and a public exponent FIPS 186-5 §A.1.1 allows (odd, at least
65537, below 2^256), written in canonical octets (RFC 7518 §6.3.1); a signature of exactly
the modulus' length (RFC 8017 §8.2.2). ``PS*``, ``RS384``/``RS512`` and every ``HS*`` are
outside the allow-list. Symmetric (``oct``) keys and keys carrying private members are never
used for verification, so "HS256 with the public key as the secret" has no key to verify
with.

Holder keys (an SD-JWT VC's ``cnf.jwk``, a credential proof's ``jwk``) are compact keys only:
:data:`HOLDER_ALGORITHMS`, never RSA.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from identity.keys.jwk import jwk_thumbprint
from identity.relying_party.encoding import b64url_decode
from identity.relying_party.errors import InvalidToken

__all__ = [
    "HOLDER_ALGORITHMS",
    "PRIVATE_MEMBERS",
    "SUPPORTED_ALGORITHMS",
    "UnusableKey",
    "VerificationKey",
    "Verify",
    "key_set",
    "raw_to_der",
    "verification_key",
]

log = logging.getLogger(__name__)

_EDDSA_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})
_ES256 = "ES256"
_RS256 = "RS256"
#: What a holder key may sign with (key binding JWTs, credential proofs).
HOLDER_ALGORITHMS = _EDDSA_ALGORITHMS | {_ES256}
#: What the issuer's tokens may be signed with (access and ID tokens, SD-JWT VCs, status lists).
SUPPORTED_ALGORITHMS = HOLDER_ALGORITHMS | {_RS256}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_KID_LENGTH = 128
#: RSA modulus sizes accepted (RFC 7518 §3.3: 2048 at least; the upper bound caps the work).
_MIN_RSA_MODULUS_BITS = 2048
_MAX_RSA_MODULUS_BITS = 8192
#: FIPS 186-5 §A.1.1: 2^16 < e < 2^256, odd.
_MIN_RSA_EXPONENT = 65537
_MAX_RSA_EXPONENT_BITS = 256

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


def _rs256_verifier(key: rsa.RSAPublicKey) -> Verify:
    check = key.verify
    size = (key.key_size + 7) // 8
    scheme = padding.PKCS1v15()
    algorithm = hashes.SHA256()

    def verify(signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != size:  # RFC 8017 §8.2.2 step 1
            return False
        try:
            check(signature, signing_input, scheme, algorithm)
        except InvalidSignature:
            return False
        return True

    return verify


def _member_octets(jwk: Mapping[str, Any], name: str) -> bytes:
    """The octets of a base64url member of the JWK."""
    value = jwk.get(name)
    if not isinstance(value, str):
        raise UnusableKey(f"member {name!r} is missing")
    try:
        return b64url_decode(value)
    except InvalidToken:
        raise UnusableKey(f"member {name!r} is not base64url") from None


def _rsa_integer(jwk: Mapping[str, Any], name: str, max_bytes: int) -> int:
    """An RSA public parameter: base64url of its minimal big-endian octets (RFC 7518
    §6.3.1.1, §6.3.1.2)."""
    raw = _member_octets(jwk, name)
    if not raw or raw[0] == 0 or len(raw) > max_bytes:
        raise UnusableKey(f"member {name!r} is not a canonical integer of a usable size")
    return int.from_bytes(raw, "big")


def _rsa_public_key(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    n = _rsa_integer(jwk, "n", _MAX_RSA_MODULUS_BITS // 8)
    e = _rsa_integer(jwk, "e", _MAX_RSA_EXPONENT_BITS // 8)
    if not _MIN_RSA_MODULUS_BITS <= n.bit_length() <= _MAX_RSA_MODULUS_BITS:
        raise UnusableKey(
            f"the RSA modulus is not {_MIN_RSA_MODULUS_BITS} to {_MAX_RSA_MODULUS_BITS} bits"
        )
    if e < _MIN_RSA_EXPONENT or e % 2 == 0 or e.bit_length() > _MAX_RSA_EXPONENT_BITS:
        raise UnusableKey("the RSA exponent is not odd, at least 65537 and below 2^256")
    if n % 2 == 0:
        raise UnusableKey("the RSA modulus is even")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise UnusableKey("the RSA key is not valid") from None


def _coordinate(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    raw = _member_octets(jwk, name)
    if len(raw) != size:
        raise UnusableKey(f"member {name!r} has the wrong length")
    return raw


def verification_key(
    jwk: Mapping[str, Any], *, algorithms: frozenset[str] = SUPPORTED_ALGORITHMS
) -> VerificationKey:
    """The verification key for one JWK, or :class:`UnusableKey`. ``algorithms``: what the
    caller accepts (:data:`HOLDER_ALGORITHMS` for holder keys); a key of a type none of them
    uses is refused."""
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
        allowed = _EDDSA_ALGORITHMS
        verify = _ed25519_verifier(Ed25519PublicKey.from_public_bytes(_coordinate(jwk, "x", 32)))
    elif kty == "EC" and crv == "P-256":
        allowed = frozenset({_ES256})
        x = int.from_bytes(_coordinate(jwk, "x", 32), "big")
        y = int.from_bytes(_coordinate(jwk, "y", 32), "big")
        try:
            public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError:
            raise UnusableKey("the EC point is not on P-256") from None
        verify = _es256_verifier(public)
    elif kty == "RSA" and _RS256 in algorithms:
        allowed = frozenset({_RS256})
        verify = _rs256_verifier(_rsa_public_key(jwk))
    else:
        raise UnusableKey("unsupported key type (use OKP/Ed25519, EC/P-256 or RSA)")
    alg = jwk.get("alg")
    if alg is not None:
        if alg not in allowed:
            raise UnusableKey("the JWK's alg does not match its key type")
        allowed = _EDDSA_ALGORITHMS if alg in _EDDSA_ALGORITHMS else frozenset({alg})
    allowed &= algorithms
    if not allowed:
        raise UnusableKey("the JWK's algorithms are not accepted here")
    kid = jwk.get("kid")
    if kid is None:
        kid = jwk_thumbprint(jwk)
    if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID_LENGTH:
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
