"""The JOSE header checks every JWS this SDK verifies shares (RFC 7515 §4, RFC 8725).

- ``alg`` in the allow-list, bound later to the key's type (RFC 8725 §3.1): never ``none``
  or ``HS*``.
- ``jku``, ``x5u``, ``x5c``, ``jwk``, ``x5t``, ``x5t#S256`` refused: keys come only from the
  issuer's JWKS, or from the credential's ``cnf`` for a key binding JWT (RFC 8725 §3.10);
  ``crit`` refused: no critical extension is understood (RFC 7515 §4.1.11); ``b64``
  refused (RFC 7797).
- ``kid`` a non-empty string where the key is looked up by it.
- ``typ`` a string when present, answered lower case for the caller's explicit-typing check
  (RFC 8725 §3.11).

Access tokens, ID tokens, SD-JWT VCs (:mod:`identity.relying_party.verifier`), key binding
JWTs (:mod:`identity.relying_party.sd_jwt`) and Status List Tokens
(:mod:`identity.relying_party.status_list`) are all parsed by :func:`parse_header`; each
maps its :class:`InvalidToken` to its own reason where it has one, as it does when
:func:`compact_dots` finds no compact JWS. :class:`ParsedHeaders` remembers the parsed
headers of the verifier and of key binding JWTs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from identity.relying_party.encoding import b64url_decode, json_object
from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.keys import HOLDER_ALGORITHMS, SUPPORTED_ALGORITHMS

__all__ = ["ParsedHeaders", "compact_dots", "parse_header"]

_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "x5c", "jwk", "x5t", "x5t#S256", "crit", "b64"})

_Parsed = TypeVar("_Parsed")


def compact_dots(token: str) -> tuple[int, int]:
    """Where the two dots of a compact JWS ``header.payload.signature`` stand (RFC 7515
    §7.1), or ``(-1, -1)`` when it has not exactly two."""
    first = token.find(".")
    second = token.find(".", first + 1)
    if first < 0 or second < 0 or token.find(".", second + 1) >= 0:
        return -1, -1
    return first, second


def parse_header(
    segment: str, *, kid_required: bool = True, holder: bool = False
) -> tuple[str, str, str | None]:
    """(alg, kid, lower-cased typ) of a JOSE header segment, or :class:`InvalidToken`.
    ``kid_required=False`` answers ``""`` for a missing kid (key binding JWTs, whose key is
    ``cnf.jwk``; RFC 9901's examples, whose issuer key is given). ``holder``: signed by a
    holder key, so ``alg`` is one of :data:`HOLDER_ALGORITHMS` (never RSA)."""
    header = json_object(b64url_decode(segment), "JOSE header")
    alg = header.get("alg")
    if alg not in (HOLDER_ALGORITHMS if holder else SUPPORTED_ALGORITHMS):
        raise InvalidToken(Reason.UNSUPPORTED_ALGORITHM, "alg is not in the allow-list")
    forbidden = _FORBIDDEN_HEADERS & header.keys()
    if forbidden:
        raise InvalidToken(Reason.FORBIDDEN_HEADER, f"header {sorted(forbidden)[0]} refused")
    kid = header.get("kid")
    if kid is None and not kid_required:
        kid = ""
    elif type(kid) is not str or not kid:
        raise InvalidToken(Reason.MALFORMED, "kid is missing")
    typ = header.get("typ")
    if typ is not None and type(typ) is not str:
        raise InvalidToken(Reason.MALFORMED, "typ is not a string")
    return alg, kid, typ.lower() if typ is not None else None


class ParsedHeaders(Generic[_Parsed]):
    """``parse(segment)`` remembered for at most ``size`` header segments (all forgotten
    when full). Jati signs every token of a key with the same header, so a verifier meets
    few of them; a header that fails to parse is not remembered."""

    __slots__ = ("_parse", "_parsed", "_size")

    def __init__(self, parse: Callable[[str], _Parsed], size: int) -> None:
        self._parse = parse
        self._parsed: dict[str, _Parsed] = {}
        self._size = size

    def __call__(self, segment: str) -> _Parsed:
        parsed = self._parsed.get(segment)
        if parsed is None:
            parsed = self._parse(segment)
            if len(self._parsed) >= self._size:
                self._parsed.clear()
            self._parsed[segment] = parsed
        return parsed
