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
maps its :class:`InvalidToken` to its own reason where it has one.
"""

from __future__ import annotations

from identity.relying_party.encoding import b64url_decode, json_object
from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.keys import HOLDER_ALGORITHMS, SUPPORTED_ALGORITHMS

FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "x5c", "jwk", "x5t", "x5t#S256", "crit", "b64"})


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
    forbidden = FORBIDDEN_HEADERS & header.keys()
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
