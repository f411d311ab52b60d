"""The JWK Set of a ``private_key_jwt`` relying app (RFC 7517 §5; OIDC Core §9, RFC 7523
§2.2), checked at registration (framework-free).

The app signs a client assertion with a key from the JWK Set it registered. Only public
Ed25519 (``OKP``) and P-256 (``EC``) keys are accepted, with a valid point; a JWK holding
private members is refused (and that private key should be treated as exposed). ``kid``
defaults to the RFC 7638 thumbprint. Only the members Jati uses are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from identity.errors import InvalidClientMetadata
from identity.keys.base64url import b64url_encode
from identity.keys.jwk import jwk_thumbprint
from identity.oidc.clients import quoted

__all__ = ["MAX_JWKS_BYTES", "MAX_JWKS_KEYS", "PRIVATE_JWK_MEMBERS", "load_jwks", "validate_jwks"]

MAX_JWKS_KEYS = 10
MAX_JWKS_BYTES = 64 * 1024

#: JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: The public members Jati stores for a client's key; anything else is refused.
_JWK_MEMBERS = ("kty", "crv", "x", "y", "kid", "alg", "use", "key_ops")
#: kty -> (crv, accepted ``alg`` values, public coordinate members). RSA is not accepted:
#: Jati's allow-list is Ed25519 and P-256 (docs/relying-apps.md, "Client authentication").
_JWK_TYPES: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    "OKP": ("Ed25519", frozenset({"EdDSA", "Ed25519"}), ("x",)),
    "EC": ("P-256", frozenset({"ES256"}), ("x", "y")),
}
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_KID = re.compile(r"[\x21-\x7e]{1,128}")


def _b64url_bytes(value: object, label: str, size: int) -> bytes:
    if not isinstance(value, str) or not _B64URL.fullmatch(value):
        raise InvalidClientMetadata(f"{label} must be unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidClientMetadata(f"{label} must be unpadded base64url") from None
    if len(raw) != size or b64url_encode(raw) != value:
        raise InvalidClientMetadata(f"{label} must encode exactly {size} bytes")
    return raw


def _validate_jwk(jwk: object, label: str) -> dict[str, Any]:
    if not isinstance(jwk, Mapping):
        raise InvalidClientMetadata(f"{label} is not a JSON object")
    private = sorted(PRIVATE_JWK_MEMBERS & set(jwk))
    if private:
        raise InvalidClientMetadata(
            f"{label} holds private key material ({', '.join(private)}): register public keys "
            "only, and treat that private key as exposed"
        )
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _JWK_TYPES:
        raise InvalidClientMetadata(
            f"{label}: kty {quoted(str(kty), 20)} is not accepted; use OKP (Ed25519) or EC (P-256)"
        )
    unknown = sorted(set(jwk) - set(_JWK_MEMBERS))
    if unknown:
        raise InvalidClientMetadata(
            f"{label} has unsupported members ({', '.join(unknown)}); "
            f"allowed: {', '.join(_JWK_MEMBERS)}"
        )
    crv, algs, coordinates = _JWK_TYPES[kty]
    if jwk.get("crv") != crv:
        raise InvalidClientMetadata(f"{label}: kty {kty} needs crv {crv}")
    raw = [_b64url_bytes(jwk.get(name), f"{label} member {name!r}", 32) for name in coordinates]
    try:
        if kty == "OKP":
            Ed25519PublicKey.from_public_bytes(raw[0])
        else:
            ec.EllipticCurvePublicNumbers(
                int.from_bytes(raw[0], "big"), int.from_bytes(raw[1], "big"), ec.SECP256R1()
            ).public_key()
    except ValueError:
        raise InvalidClientMetadata(f"{label} is not a valid {crv} public key") from None
    alg = jwk.get("alg")
    if alg is not None and alg not in algs:
        raise InvalidClientMetadata(
            f"{label}: alg {quoted(str(alg), 20)} does not fit a {crv} key; "
            f"use {' or '.join(sorted(algs))}"
        )
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidClientMetadata(f"{label}: use must be 'sig' (client assertions are signed)")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (
        not isinstance(key_ops, list) or not set(key_ops) <= {"verify"} or not key_ops
    ):
        raise InvalidClientMetadata(f"{label}: key_ops may only be ['verify']")
    public = {name: jwk[name] for name in ("kty", "crv", *coordinates)}
    kid = jwk.get("kid")
    if kid is None:
        kid = jwk_thumbprint(public)
    elif not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise InvalidClientMetadata(f"{label}: kid must be 1-128 printable ASCII characters")
    normalized = {name: jwk[name] for name in _JWK_MEMBERS if name in jwk}
    normalized["kid"] = kid
    return normalized


def validate_jwks(document: object) -> dict[str, Any]:
    """A client's JWK Set (RFC 7517 §5) for ``private_key_jwt`` (RFC 7523 §2.2).

    Every key must be public (no ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``, ``k``),
    Ed25519 (``OKP``) or P-256 (``EC``) with a valid point, at most ``MAX_JWKS_KEYS`` of them,
    without duplicates. A key without ``kid`` gets its RFC 7638 thumbprint. Returns the set
    with only the members Jati uses.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidClientMetadata('the JWKS must be a JWK Set: {"keys": [...]} (RFC 7517 §5)')
    keys: list[Any] = document["keys"]
    if not keys:
        raise InvalidClientMetadata("the JWKS holds no key")
    if len(keys) > MAX_JWKS_KEYS:
        raise InvalidClientMetadata(f"the JWKS holds {len(keys)} keys; at most {MAX_JWKS_KEYS}")
    normalized: list[dict[str, Any]] = []
    kids: set[str] = set()
    thumbprints: set[str] = set()
    for number, jwk in enumerate(keys, start=1):
        key = _validate_jwk(jwk, f"JWKS key {number}")
        thumbprint = jwk_thumbprint(key)
        if thumbprint in thumbprints:
            raise InvalidClientMetadata(f"JWKS key {number} repeats an earlier key")
        if key["kid"] in kids:
            raise InvalidClientMetadata(f"JWKS key {number}: kid {key['kid']!r} is used twice")
        thumbprints.add(thumbprint)
        kids.add(key["kid"])
        normalized.append(key)
    return {"keys": normalized}


def _no_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise InvalidClientMetadata("the JWKS repeats a member name in one object")
    return dict(pairs)


def load_jwks(raw: bytes | str) -> dict[str, Any]:
    """Parse and validate a JWKS document (a file's content): size limit, strict JSON."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_JWKS_BYTES:
        raise InvalidClientMetadata(f"the JWKS file is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(data, object_pairs_hook=_no_duplicate_members)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidClientMetadata(f"the JWKS file is not valid JSON{where}") from None
    return validate_jwks(document)
