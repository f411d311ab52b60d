"""SD-JWT presentations (RFC 9901) for :meth:`TokenVerifier.verify_presentation`.

A presentation is ``<issuer-signed JWT>~<Disclosure>~...~<Disclosure>~[<KB-JWT>]`` (RFC 9901
§4). The issuer-signed JWT is checked by the verifier exactly as it checks its other JWTs
(header allow-list, key from the issuer's JWKS, signature, ``iss``, lifetime), with the
``typ`` of an SD-JWT VC; this module holds what is particular to SD-JWT:

- :func:`split_presentation`: size and form (RFC 9901 §4; §7.3: an SD-JWT+KB ends with
  the KB-JWT, an SD-JWT with ``~``).
- :func:`check_sd_alg`: ``_sd_alg`` is ``sha-256``, or absent, which means the same
  (§4.1.1; §7.1 step 2).
- :func:`process_disclosures`: §7.1 steps 3 to 5, refusing, with ``invalid_disclosure``: a
  Disclosure that is not canonical base64url of a JSON array of two or three elements with a
  string salt (§4.2.1, §4.2.2); the claim names ``_sd`` and ``...``; a three-element
  Disclosure referenced from an array, or a two-element one from an ``_sd`` array; a name
  disclosed where the object already has it (all step 3); a digest found twice in the
  payload, across every ``_sd`` array, ``...`` element and disclosed value (step 4); a
  Disclosure no digest references (step 5); the same Disclosure given twice.
- :class:`KeyBinding`: the Key Binding JWT (§4.3, §7.3): ``typ`` ``kb+jwt``, signed with
  the holder key in the issuer-signed JWT's ``cnf.jwk`` (RFC 7800 §3.2; ``EdDSA``/``Ed25519``
  and ``ES256`` bound to the key's type, never ``oct`` or a JWK with private members),
  ``aud`` the verifier, ``nonce`` the one it sent (compared in constant time), ``iat``
  fresh, and ``sd_hash`` over everything before it (§4.3.1). Every failure here is
  ``bad_key_binding``.
- :func:`check_vct` and :func:`check_credential_status`: draft-ietf-oauth-sd-jwt-vc
  §3.2.2.2 (``vct``) and draft-ietf-oauth-status-list §6 (``status.status_list``).

Only Disclosures whose digest the issuer signed are ever parsed: anything else the holder
adds is refused as unreferenced without being read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from identity.keys.base64url import b64url_encode
from identity.relying_party.encoding import b64url_decode, json_object, json_value
from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.jose_header import ParsedHeaders, compact_dots, parse_header
from identity.relying_party.keys import (
    HOLDER_ALGORITHMS,
    UnusableKey,
    VerificationKey,
    verification_key,
)

__all__ = [
    "DEFAULT_MAX_KB_AGE",
    "DEFAULT_MAX_PRESENTATION_BYTES",
    "SD_JWT_VC",
    "SD_JWT_VC_TYPES",
    "KbExpected",
    "KeyBinding",
    "Presentation",
    "Profile",
    "StatusSource",
    "check_credential_status",
    "check_sd_alg",
    "check_vct",
    "decode_disclosure",
    "digest",
    "process_disclosures",
    "split_presentation",
]

DEFAULT_MAX_PRESENTATION_BYTES = 32 * 1024
DEFAULT_MAX_KB_AGE = 300.0
_SD_ALG = "sha-256"
#: draft-ietf-oauth-sd-jwt-vc §3.2.1. The earlier ``vc+sd-jwt`` is refused: Jati has only
#: ever issued ``dc+sd-jwt``, and explicit typing (RFC 8725 §3.11) wants one value.
SD_JWT_VC_TYPES: frozenset[str | None] = frozenset({"dc+sd-jwt", "application/dc+sd-jwt"})
_KB_JWT_TYPES = frozenset({"kb+jwt", "application/kb+jwt"})  # RFC 9901 §4.3
_STATUS_VALID, _STATUS_SUSPENDED = 0, 2  # draft-ietf-oauth-status-list §7.1
_ARRAY_DIGEST = "..."
_RESERVED_NAMES = frozenset({"_sd", _ARRAY_DIGEST})
_CACHE_SIZE = 256
_NUMBER = (int, float)


class StatusSource(Protocol):
    """Where statuses come from: :class:`identity.relying_party.status_list.StatusListCache`
    (or a fake in tests). Raises :class:`InvalidToken` (``status_unavailable``,
    ``invalid_claim``) when the list cannot be read or verified."""

    def status(self, uri: str, idx: int) -> int: ...


@dataclass(frozen=True, slots=True)
class Profile:
    """What kind of SD-JWT a presentation must be.

    ``issuer_types``: accepted ``typ`` of the issuer-signed JWT (lower case).
    ``require_vct``: an SD-JWT VC carries ``vct`` (draft-ietf-oauth-sd-jwt-vc §3.2.2.2).
    ``issuer_key``: only for RFC 9901's own examples, whose issuer-signed JWTs name no
    ``kid``: the key to verify them with. Left None, the key comes from the issuer's JWKS
    by ``kid``, which is then required.
    """

    issuer_types: frozenset[str | None]
    require_vct: bool = True
    issuer_key: VerificationKey | None = None


SD_JWT_VC = Profile(SD_JWT_VC_TYPES)


class Presentation(NamedTuple):
    """A presentation split at its ``~``: ``signed_part`` is what ``sd_hash`` covers."""

    jwt: str
    disclosures: list[str]
    kb_jwt: str
    signed_part: str


def split_presentation(presentation: object, max_bytes: int) -> Presentation:
    """The parts of ``<jwt>~<d1>~...~<dn>~[<kb-jwt>]``, after the size limit (RFC 9901 §4)."""
    if type(presentation) is not str:
        raise InvalidToken(Reason.MALFORMED, "a presentation is a string")
    if len(presentation) > max_bytes:
        raise InvalidToken(Reason.TOO_LARGE, f"over {max_bytes} bytes")
    if not presentation.isascii():
        raise InvalidToken(Reason.MALFORMED, "a presentation is ASCII")
    last = presentation.rfind("~")
    if last < 0:
        raise InvalidToken(Reason.MALFORMED, "not an SD-JWT: no '~' separator")
    parts = presentation[:last].split("~")
    return Presentation(parts[0], parts[1:], presentation[last + 1 :], presentation[: last + 1])


def digest(text: str) -> str:
    """``base64url(SHA-256(ASCII(text)))``: a Disclosure's digest (RFC 9901 §4.2.3) and
    ``sd_hash`` (§4.3.1)."""
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


def check_sd_alg(payload: Mapping[str, Any]) -> None:
    """RFC 9901 §4.1.1: ``_sd_alg`` absent (SHA-256) or ``sha-256``; nothing else is
    accepted (§7.1 step 2.4: the hash must be understood and deemed secure)."""
    alg = payload.get("_sd_alg", _SD_ALG)
    if alg != _SD_ALG:
        raise InvalidToken(Reason.UNSUPPORTED_ALGORITHM, "_sd_alg is not sha-256")


def _refused(message: str) -> InvalidToken:
    return InvalidToken(Reason.INVALID_DISCLOSURE, message)


def decode_disclosure(encoded: str) -> list[Any]:
    """The JSON array of a Disclosure: canonical base64url of UTF-8 JSON (RFC 9901 §4.2.1,
    §4.2.2), two or three elements, a string salt and (with three) a string claim name."""
    try:
        value = json_value(b64url_decode(encoded), "disclosure")
    except InvalidToken:  # base64url, UTF-8, JSON, duplicate names, nesting
        raise _refused("a disclosure is not base64url JSON") from None
    if type(value) is not list or not 2 <= len(value) <= 3:
        raise _refused("a disclosure is not an array of 2 or 3")
    if type(value[0]) is not str:
        raise _refused("a disclosure's salt is not a string")
    if len(value) == 3 and type(value[1]) is not str:
        raise _refused("a disclosure's claim name is not a string")
    return value


def process_disclosures(payload: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
    """The Processed SD-JWT Payload (RFC 9901 §7.1 step 3-5): disclosed claims in place,
    undisclosed array elements dropped, ``_sd`` and the top-level ``_sd_alg`` removed.

    ``payload`` is changed into the result (the verifier parses it for this call alone)."""
    by_digest: dict[str, str] = {}
    for encoded in disclosures:
        if not encoded:
            raise _refused("an empty disclosure")
        key = digest(encoded)
        if key in by_digest:
            raise _refused("the same disclosure is given twice")
        by_digest[key] = encoded
    walk = _Walk(by_digest)
    try:
        processed = walk.object(payload)
    except RecursionError:
        raise _refused("the payload nests too deeply") from None
    if walk.used != len(by_digest):
        raise _refused("a disclosure is referenced by no digest")
    processed.pop("_sd_alg", None)
    return processed


class _Walk:
    """One pass over the payload (RFC 9901 §7.1 (*) and (**)), recursing into disclosed
    values; ``seen`` holds every digest met, decoys included.

    The hot path is set arithmetic: an ``_sd`` array (mostly digests of undisclosed claims
    and decoys) is checked for duplicates and types in C, and only the digests that match a
    Disclosure are looked at one by one."""

    __slots__ = ("by_digest", "seen", "used")

    def __init__(self, by_digest: dict[str, str]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()
        self.used = 0

    def _reference(self, key: object) -> list[Any] | None:
        if type(key) is not str:
            raise _refused("a digest is not a string")
        if key in self.seen:
            raise _refused("a digest appears more than once")
        self.seen.add(key)
        encoded = self.by_digest.get(key)
        if encoded is None:
            return None  # a decoy, or a claim the holder did not disclose
        self.used += 1
        return decode_disclosure(encoded)

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            return self.object(value)
        if kind is list:
            return self.array(value)
        return value

    def object(self, out: dict[str, Any]) -> dict[str, Any]:
        """Processes ``out`` in place (it was parsed for this presentation alone)."""
        if _ARRAY_DIGEST in out:
            raise _refused("'...' outside an array element")
        for name, member in out.items():
            kind = type(member)
            if kind is dict:
                self.object(member)
            elif kind is list and name != "_sd":
                out[name] = self.array(member)  # a new value, not a new key: safe to assign
        digests = out.pop("_sd", None)
        if digests is None:
            return out
        if type(digests) is not list:
            raise _refused("_sd is not an array")
        try:
            "".join(digests)  # the cheapest check that every digest is a string
        except TypeError:
            raise _refused("a digest is not a string") from None
        seen = self.seen
        before = len(seen)
        seen.update(digests)
        if len(seen) - before != len(digests):
            raise _refused("a digest appears more than once")
        hits = self.by_digest.keys() & digests
        self.used += len(hits)
        for key in sorted(hits):
            found = decode_disclosure(self.by_digest[key])
            if len(found) != 3:
                raise _refused("an array element is disclosed as a property")
            _, name, value = found
            if name in _RESERVED_NAMES:
                raise _refused(f"{name!r} is not a claim name")
            if name in out:
                raise _refused("a claim is disclosed where it already exists")
            out[name] = self.value(value)
        return out

    def array(self, items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            kind = type(item)
            if kind is dict:
                if _ARRAY_DIGEST not in item:
                    out.append(self.object(item))
                    continue
                if len(item) != 1:
                    raise _refused("'...' has companions")
                found = self._reference(item[_ARRAY_DIGEST])
                if found is None:
                    continue
                if len(found) != 2:
                    raise _refused("a property is disclosed as an array element")
                out.append(self.value(found[1]))
            elif kind is list:
                out.append(self.array(item))
            else:
                out.append(item)
        return out


def _kb_header(segment: str) -> str:
    """The ``alg`` of a KB-JWT header: the same checks as every JWS here
    (:func:`parse_header`; its key is ``cnf.jwk``, so no ``kid`` is needed), ``typ``
    ``kb+jwt``; every failure is ``bad_key_binding``."""
    try:
        alg, _kid, typ = parse_header(segment, kid_required=False, holder=True)
    except InvalidToken as exc:
        raise InvalidToken(Reason.BAD_KEY_BINDING, f"the KB-JWT header: {exc}") from None
    if typ not in _KB_JWT_TYPES:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT typ is not kb+jwt")
    return alg


class KbExpected(NamedTuple):
    """What a Key Binding JWT must show (RFC 9901 §7.3): ``sd_hash`` over ``signed_part``,
    ``aud`` the string ``audience``, ``nonce`` equal to ``nonce`` (when given), ``iat`` at
    most ``max_age`` seconds before ``now``, each time bound with ``leeway`` seconds."""

    signed_part: str
    audience: str
    nonce: str | None
    now: float
    leeway: float
    max_age: float


class KeyBinding:
    """Verifies Key Binding JWTs (RFC 9901 §4.3, §7.3). Parsed headers and holder keys are
    remembered (bounded), so a wallet presenting again costs two signature checks and little
    more."""

    def __init__(self) -> None:
        self._header = ParsedHeaders(_kb_header, _CACHE_SIZE)
        self._holders: dict[frozenset[tuple[str, str]], VerificationKey] = {}

    def holder_key(self, payload: Mapping[str, Any]) -> VerificationKey:
        """The key in ``cnf.jwk`` (RFC 9901 §4.1.2, RFC 7800 §3.2)."""
        cnf = payload.get("cnf")
        jwk = cnf.get("jwk") if type(cnf) is dict else None
        if type(jwk) is not dict:
            raise InvalidToken(Reason.BAD_KEY_BINDING, "the credential has no cnf.jwk")
        try:
            members = frozenset(jwk.items())
        except TypeError:  # a list member (key_ops): not worth remembering
            members = None
        key = self._holders.get(members) if members is not None else None
        if key is None:
            try:
                key = verification_key(jwk, algorithms=HOLDER_ALGORITHMS)
            except UnusableKey as exc:
                raise InvalidToken(Reason.BAD_KEY_BINDING, f"cnf.jwk: {exc}") from None
            if members is not None:
                if len(self._holders) >= _CACHE_SIZE:
                    self._holders.clear()
                self._holders[members] = key
        return key

    def verify(self, kb_jwt: str, holder: VerificationKey, expected: KbExpected) -> None:
        """Every §7.3 check of the KB-JWT; :class:`InvalidToken` (``bad_key_binding``)."""
        first, second = compact_dots(kb_jwt)
        if first < 0:
            raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT is not a compact JWS")
        if self._header(kb_jwt[:first]) not in holder.algorithms:
            raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT alg does not match cnf.jwk")
        try:
            signature = b64url_decode(kb_jwt[second + 1 :])
            valid = holder.verify(signature, kb_jwt[:second].encode("ascii"))
            payload = b64url_decode(kb_jwt[first + 1 : second]) if valid else b"{}"
            claims = json_object(payload, "KB-JWT")
        except InvalidToken:  # base64url or JSON (too deep a nesting included)
            raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT is not well formed") from None
        if not valid:
            raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT signature does not verify")
        _check_kb_claims(claims, expected)


def _check_kb_claims(claims: Mapping[str, Any], expected: KbExpected) -> None:
    now, leeway, nonce = expected.now, expected.leeway, expected.nonce
    iat: Any = claims.get("iat")
    if type(iat) not in _NUMBER:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT has no iat")
    if iat > now + leeway:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT iat is in the future")
    if iat < now - expected.max_age - leeway:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT is older than the allowed age")
    if claims.get("aud") != expected.audience:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT aud is not this verifier")
    value = claims.get("nonce")
    if type(value) is not str:
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT has no nonce")
    if nonce is not None and not hmac.compare_digest(value.encode(), nonce.encode()):
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT nonce differs")
    sd_hash = claims.get("sd_hash")
    if type(sd_hash) is not str or not sd_hash.isascii():
        raise InvalidToken(Reason.BAD_KEY_BINDING, "the KB-JWT has no sd_hash")
    if not hmac.compare_digest(sd_hash, digest(expected.signed_part)):
        raise InvalidToken(Reason.BAD_KEY_BINDING, "sd_hash does not cover this presentation")
    for name, late in (("exp", False), ("nbf", True)):  # RFC 7519 §4.1.4, §4.1.5, if present
        bound: Any = claims.get(name)
        if bound is None:
            continue
        if type(bound) not in _NUMBER:
            raise InvalidToken(Reason.BAD_KEY_BINDING, f"the KB-JWT {name} is not a number")
        if (bound > now + leeway) if late else (bound + leeway <= now):
            raise InvalidToken(Reason.BAD_KEY_BINDING, f"the KB-JWT {name} is not satisfied")


def check_vct(payload: Mapping[str, Any], expected: str | None, *, required: bool) -> None:
    """draft-ietf-oauth-sd-jwt-vc §3.2.2.2: ``vct``, a string, is required; when the caller
    names the type it accepts, it must be that one exactly."""
    vct = payload.get("vct")
    if vct is None:
        if required or expected is not None:
            raise InvalidToken(Reason.MISSING_CLAIM, "vct is required")
        return
    if type(vct) is not str or not vct:
        raise InvalidToken(Reason.INVALID_CLAIM, "vct is not a string")
    if expected is not None and vct != expected:
        raise InvalidToken(Reason.INVALID_CLAIM, "vct is not the expected credential type")


def _status_reference(payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """(``uri``, ``idx``) of ``status.status_list`` (draft-ietf-oauth-status-list §6.1), or
    None when the credential has no ``status`` claim."""
    status = payload.get("status")
    if status is None:
        return None
    reference = status.get("status_list") if type(status) is dict else None
    if type(reference) is not dict:
        raise InvalidToken(Reason.INVALID_CLAIM, "status has no status_list object")
    idx, uri = reference.get("idx"), reference.get("uri")
    if type(idx) is not int or idx < 0:
        raise InvalidToken(Reason.INVALID_CLAIM, "status_list.idx is not a non-negative integer")
    if type(uri) is not str or not uri:
        raise InvalidToken(Reason.INVALID_CLAIM, "status_list.uri is not a string")
    return uri, idx


def check_credential_status(payload: Mapping[str, Any], source: StatusSource) -> None:
    """The credential's status in its Token Status List (draft-ietf-oauth-status-list §7.1):
    0 VALID passes, 2 SUSPENDED is ``suspended``, any other value ``revoked`` (1 INVALID, and
    application-specific values a verifier cannot know to be harmless). A credential without
    a ``status`` claim passes: the draft makes the mechanism optional; Jati always sets it."""
    reference = _status_reference(payload)
    if reference is None:
        return
    value = source.status(*reference)
    if value == _STATUS_VALID:
        return
    if value == _STATUS_SUSPENDED:
        raise InvalidToken(Reason.SUSPENDED, "the credential is suspended")
    raise InvalidToken(Reason.REVOKED, "the credential is revoked")
