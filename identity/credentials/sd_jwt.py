"""Issuing Selective Disclosure JWTs (RFC 9901), the format of Jati's SD-JWT VC credentials.

An SD-JWT is an issuer-signed JWT whose payload carries, instead of some claims, the digests
of *Disclosures* that travel beside it (RFC 9901 §4):

- A Disclosure is the base64url (no padding) encoding of the JSON array
  ``[salt, name, value]`` for an object property (§4.2.1) or ``[salt, value]`` for an array
  element (§4.2.2). The salt is 128 bits from :mod:`secrets` (§9.3 asks for at least 128
  bits of a CSPRNG): a verifier that sees a digest cannot guess the value behind it.
- Its digest is ``base64url(SHA-256(ASCII of the encoded Disclosure))`` (§4.2.3): over the
  string as sent, never over re-encoded JSON.
- An object holds the digests of its disclosable properties in an ``_sd`` array (§4.2.4.1);
  an array element is replaced by ``{"...": digest}`` (§4.2.4.2). Each ``_sd`` array also
  holds a random number of decoy digests (§4.2.5), and is sorted (§4.2.4.1: the order must
  not reveal the original order of the claims), so that neither how many claims an object
  holds nor their order leaks.
- Disclosable values may themselves hold disclosable parts (§4.2.6, "recursive
  disclosures"): an ``address`` whose parts are each disclosable, or an
  ``age_equal_or_over`` object whose keys ``"18"``, ``"21"``... are each disclosable.
- ``_sd_alg: "sha-256"`` names the hash (§4.1.1).
- The compact form is ``<issuer-signed JWT>~<Disclosure>~...~`` with the trailing ``~``
  (§4, an SD-JWT without Key Binding JWT).

draft-ietf-oauth-sd-jwt-vc §3.2.2.2 lists the claims a verifier needs to judge the
credential itself: ``iss``, ``nbf``, ``exp``, ``cnf``, ``vct``, ``vct#integrity`` and
``status`` must never be selectively disclosable; Jati keeps ``iat`` visible too. Marking
one of them (or anything inside one of them) is refused, as are the names ``_sd``, ``...``
and ``_sd_alg`` that the format reserves.

The holder and verifier side (key binding, the §7.1 checks) is in
:mod:`identity.relying_party.sd_jwt`.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from identity.keys.base64url import b64url_encode

SD_ALG = "sha-256"  # RFC 9901 §4.1.1, the IANA "Named Information Hash Algorithm" name
SD_JWT_VC_TYPE = "dc+sd-jwt"  # draft-ietf-oauth-sd-jwt-vc §3.2.1
SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3
DEFAULT_DECOYS = (1, 4)
MAX_DECOYS = 64
#: Claims a verifier must always see (draft-ietf-oauth-sd-jwt-vc §3.2.2.2, plus ``iat``).
NEVER_DISCLOSABLE = frozenset({"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
#: Names RFC 9901 reserves for the format itself (§4.1.1, §4.2.4), at every level.
RESERVED_NAMES = frozenset({"_sd", "...", "_sd_alg"})


class ClaimsSigner(Protocol):
    """What signs the payload: :class:`identity.oidc.tokens.JwsSigner` (``alg``, ``kid``, the
    explicit ``typ``)."""

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Disclosable:
    """Marks ``value`` as selectively disclosable where it stands: an object property or an
    array element. ``value`` may itself contain :class:`Disclosable` parts."""

    value: Any


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One Disclosure as issued: ``name`` is None for an array element; ``value`` is the
    value as disclosed (its own disclosable parts already replaced by digests)."""

    salt: str
    name: str | None
    value: Any
    encoded: str
    digest: str


@dataclass(frozen=True, slots=True)
class IssuedSdJwt:
    """An SD-JWT as issued to the holder: the compact form, the signed payload and every
    Disclosure (in the order they appear in ``compact``)."""

    compact: str
    payload: dict[str, Any]
    disclosures: tuple[Disclosure, ...]

    @property
    def digests(self) -> tuple[str, ...]:
        """The digests of the real Disclosures (decoys are not listed anywhere)."""
        return tuple(d.digest for d in self.disclosures)


def new_salt() -> str:
    """128 bits from the operating system's CSPRNG, base64url (RFC 9901 §4.2.1, §9.3)."""
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def encode_disclosure(salt: str, name: str | None, value: Any) -> str:
    """The Disclosure string for ``[salt, name, value]`` (``name`` None: ``[salt, value]``).

    The JSON is written as RFC 9901's examples write it (UTF-8, ``", "`` and ``": "``
    separators); any JSON is valid (§4.2.1), and the digest covers the exact string.
    """
    array = [salt, value] if name is None else [salt, name, value]
    text = json.dumps(array, ensure_ascii=False, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


def disclosure_digest(encoded: str) -> str:
    """``base64url(SHA-256(ASCII(encoded)))`` (RFC 9901 §4.2.3)."""
    return b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


def decoy_digest() -> str:
    """A digest over 128 random bits (RFC 9901 §4.2.5): the same form as a real one."""
    return b64url_encode(hashlib.sha256(secrets.token_bytes(SALT_BYTES)).digest())


def issue(
    signer: ClaimsSigner,
    claims: Mapping[str, Any],
    *,
    typ: str = SD_JWT_VC_TYPE,
    decoys: tuple[int, int] = DEFAULT_DECOYS,
) -> IssuedSdJwt:
    """Build the SD-JWT payload for ``claims``, sign it, and return the compact SD-JWT.

    Args:
        signer: signs the payload (``signer.sign(payload, typ=typ)``).
        claims: the JWT claims; :class:`Disclosable` wrappers mark what is selectively
            disclosable, at any level.
        typ: the JOSE ``typ`` (RFC 9901 §9.11 asks for explicit typing).
        decoys: each ``_sd`` array gets between ``decoys[0]`` and ``decoys[1]`` decoy
            digests (inclusive), chosen at random per array.

    Raises:
        ValueError: a reserved or never-disclosable claim marked disclosable, a value that
            is not JSON, or a bad ``decoys`` range. Nothing is signed then.
    """
    low, high = decoys
    if not 0 <= low <= high <= MAX_DECOYS:
        raise ValueError(f"decoys is a range (low, high) with 0 <= low <= high <= {MAX_DECOYS}")
    if not isinstance(claims, Mapping):
        raise ValueError("the claims of an SD-JWT are a JSON object")
    for name in NEVER_DISCLOSABLE & claims.keys():
        if _holds_disclosable(claims[name]):
            raise ValueError(f"claim {name!r} is never selectively disclosable")
    builder = _Builder(low, high)
    payload = builder.object(claims)
    payload["_sd_alg"] = SD_ALG
    jwt = signer.sign(payload, typ=typ)
    disclosures = tuple(builder.disclosures)
    compact = "".join([jwt, "~", *(f"{d.encoded}~" for d in disclosures)])
    return IssuedSdJwt(compact=compact, payload=payload, disclosures=disclosures)


def _holds_disclosable(value: Any) -> bool:
    if isinstance(value, Disclosable):
        return True
    if isinstance(value, Mapping):
        return any(_holds_disclosable(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_disclosable(v) for v in value)
    return False


class _Builder:
    """Turns claims with :class:`Disclosable` marks into the payload, depth first (inner
    Disclosures are made before the one that contains their digests)."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.spread = high - low + 1
        self.disclosures: list[Disclosure] = []

    def object(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, value in claims.items():
            if type(name) is not str:
                raise ValueError("claim names are strings")
            if name in RESERVED_NAMES:
                raise ValueError(f"{name!r} is reserved by RFC 9901 and cannot be a claim name")
            if isinstance(value, Disclosable):
                digests.append(self.disclose(name, self.plain(value.value)))
            else:
                out[name] = self.value(value)
        if digests:
            digests.extend(decoy_digest() for _ in range(self.low + secrets.randbelow(self.spread)))
            out["_sd"] = sorted(digests)
        return out

    def array(self, items: list[Any] | tuple[Any, ...]) -> list[Any]:
        return [
            {"...": self.disclose(None, self.plain(item.value))}
            if isinstance(item, Disclosable)
            else self.value(item)
            for item in items
        ]

    def plain(self, value: Any) -> Any:
        if isinstance(value, Disclosable):
            raise ValueError("Disclosable(Disclosable(...)) means nothing; mark the value once")
        return self.value(value)

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return self.object(value)
        if isinstance(value, list | tuple):
            return self.array(value)
        if isinstance(value, Disclosable):
            raise ValueError("a Disclosable stands as an object property or an array element")
        if value is None or isinstance(value, str | bool | int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise ValueError(f"a {type(value).__name__} is not a JSON value")

    def disclose(self, name: str | None, value: Any) -> str:
        salt = new_salt()
        encoded = encode_disclosure(salt, name, value)
        digest = disclosure_digest(encoded)
        self.disclosures.append(Disclosure(salt, name, value, encoded, digest))
        return digest
