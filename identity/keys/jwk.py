"""JSON Web Key thumbprints (RFC 7638), used as ``kid`` for Jati's signing keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from identity.keys.base64url import b64url_encode

#: RFC 7638 §3.2: the required members of each key type, the only ones hashed.
REQUIRED_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


def jwk_thumbprint(jwk: Mapping[str, object]) -> str:
    """The base64url SHA-256 thumbprint of ``jwk`` (RFC 7638 §3.1).

    Only the required members, in lexicographic order, without whitespace.

    Raises:
        ValueError: unknown ``kty`` or a required member missing or not a string.
    """
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in REQUIRED_MEMBERS:
        raise ValueError("unsupported or missing kty")
    members = {}
    for name in REQUIRED_MEMBERS[kty]:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"JWK member {name!r} is required for kty {kty}")
        members[name] = value
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return b64url_encode(digest)
