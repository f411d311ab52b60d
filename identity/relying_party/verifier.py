"""``TokenVerifier``: what a relying app calls to accept Jati's access and ID tokens.

Every check RFC 8725 (JWT BCP) and RFC 9068 (JWT access tokens) ask for, in this order:

1. Size first (``max_token_bytes``, 8 KiB by default), before any parsing.
2. Compact JWS form (RFC 7515 §7.1): three canonical base64url segments.
3. Header: JSON object with unique names; ``alg`` in the allow-list (``EdDSA``/``Ed25519``,
   ``ES256``, ``RS256``; never ``none``, ``HS*`` or ``PS*``, RFC 8725 §3.1); ``kid`` present;
   ``jku``, ``x5u``, ``x5c``, ``jwk``, ``x5t``, ``x5t#S256`` and ``crit`` refused (RFC 8725
   §3.10: keys come only from the issuer's JWKS; we understand no critical extension,
   RFC 7515 §4.1.11); ``b64`` refused (RFC 7797); ``typ`` explicit (RFC 8725 §3.11):
   ``at+jwt`` for access tokens (RFC 9068 §4), ``JWT`` or absent for ID tokens, so one kind
   never passes as the other.
4. Key: by ``kid`` from the issuer's JWKS; the ``alg`` must be one the key's type allows
   (:mod:`identity.relying_party.keys`: ``RS256`` only with an RSA key of 2048 bits or more,
   which Jati uses for the ID tokens of apps registered for it).
5. Signature over the ASCII of ``header.payload``.
6. Claims (RFC 7519 §4.1, RFC 9068 §2.2, OIDC Core §3.1.3.7): ``iss`` equal to the issuer;
   ``aud`` containing the audience; ``exp`` after now, ``nbf`` not after now and ``iat`` not
   after now, each with ``leeway`` seconds (30 by default); required claims present with
   the right JSON types.

SD-JWT VC presentations (RFC 9901, draft-ietf-oauth-sd-jwt-vc) go through the same steps 1-6
for their issuer-signed JWT, with ``typ`` ``dc+sd-jwt`` and no ``aud`` (a credential is not
issued for one verifier), then through the Disclosure, Key Binding, ``vct`` and status checks
of :mod:`identity.relying_party.sd_jwt`: see :meth:`TokenVerifier.verify_presentation`.

The parsed header of each distinct header segment is remembered (Jati signs every token
of a key with the same header), which keeps verification within a few microseconds of the
bare signature check.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from identity.relying_party.encoding import b64url_decode, check_issuer, json_object
from identity.relying_party.errors import InvalidToken, Reason
from identity.relying_party.jose_header import ParsedHeaders, compact_dots, parse_header
from identity.relying_party.key_cache import (
    DEFAULT_TIMEOUT,
    JwksLoader,
    KeyCache,
    discovery_loader,
)
from identity.relying_party.keys import (
    UnusableKey,
    VerificationKey,
    key_set,
)
from identity.relying_party.sd_jwt import (
    DEFAULT_MAX_KB_AGE,
    DEFAULT_MAX_PRESENTATION_BYTES,
    SD_JWT_VC,
    KbExpected,
    KeyBinding,
    Profile,
    StatusSource,
    check_credential_status,
    check_sd_alg,
    check_vct,
    process_disclosures,
    split_presentation,
)
from identity.relying_party.status_list import StatusListCache, StatusListLoader

__all__ = ["TokenVerifier"]

_DEFAULT_MAX_TOKEN_BYTES = 8 * 1024
_DEFAULT_LEEWAY = 30.0
_ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_ID_TOKEN_TYPES = frozenset({None, "jwt", "application/jwt"})
_ACCESS_TOKEN_CLAIMS = ("sub", "client_id", "jti")  # RFC 9068 §2.2, besides iss aud exp iat
_HEADER_CACHE_SIZE = 64
_NUMBER = (int, float)


class TokenVerifier:
    """Verifies Jati's tokens for one relying app.

    Args:
        issuer: the issuer URL, exactly as in the tokens' ``iss`` (no trailing slash).
        audience: this app's client id (the ``aud`` its tokens carry).
        jwks: a JWK Set to verify with, fully offline; without it the keys are read through
            discovery over HTTP and cached.
        leeway: seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        max_token_bytes: tokens longer than this are refused before parsing.
        max_presentation_bytes: the same for SD-JWT presentations (32 KiB by default: a
            credential carries its digests, decoys and a holder key).
        min_refresh_interval: at most one JWKS refresh per this many seconds.
        jwks_loader: advanced: where the JWK Set comes from, instead of discovery.
        status_list_loader: advanced: where Token Status Lists come from (a URI to the
            ``statuslist+jwt`` and its max-age), instead of HTTP.
        clock: seconds since the epoch (tests inject one).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: Mapping[str, Any] | None = None,
        leeway: float = _DEFAULT_LEEWAY,
        max_token_bytes: int = _DEFAULT_MAX_TOKEN_BYTES,
        max_presentation_bytes: int = DEFAULT_MAX_PRESENTATION_BYTES,
        min_refresh_interval: float = 60.0,
        timeout: float = DEFAULT_TIMEOUT,
        jwks_loader: JwksLoader | None = None,
        status_list_loader: StatusListLoader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_issuer(issuer)
        if not audience:
            raise ValueError("audience is this app's client id")
        if not 0 <= leeway <= 300:
            raise ValueError("leeway is between 0 and 300 seconds")
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.max_token_bytes = max_token_bytes
        self.max_presentation_bytes = max_presentation_bytes
        self._clock = clock
        self._key_binding = KeyBinding()
        if jwks is not None:
            try:
                offline = key_set(jwks)
            except UnusableKey as exc:
                raise ValueError(f"jwks: {exc}") from None
            self.keys = KeyCache(None, keys=offline)
        else:
            loader = jwks_loader or discovery_loader(issuer, timeout=timeout)
            self.keys = KeyCache(loader, min_refresh_interval=min_refresh_interval)
        self._header = ParsedHeaders(parse_header, _HEADER_CACHE_SIZE)
        #: Token Status Lists of the issuer, verified with its keys; fetched on first use.
        self.status_lists: StatusSource = StatusListCache(
            issuer=issuer,
            keys=self.keys,
            loader=status_list_loader,
            timeout=timeout,
            clock=clock,
            leeway=leeway,
        )

    def refresh_keys(self) -> bool:
        """Read the issuer's JWK Set now (e.g. at start-up), within the rate limit."""
        return self.keys.refresh()

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of a valid RFC 9068 access token issued for this app.

        Raises:
            InvalidToken: with ``reason`` saying which check failed.
        """
        claims = self._verified_claims(token, _ACCESS_TOKEN_TYPES)
        get = claims.get
        sub, client_id, jti, scope = get("sub"), get("client_id"), get("jti"), get("scope")
        if type(sub) is not str or type(client_id) is not str or type(jti) is not str:
            for name in _ACCESS_TOKEN_CLAIMS:
                self._require(claims, name, str)
        if not (sub and client_id and jti):
            raise InvalidToken(Reason.INVALID_CLAIM, "sub, client_id and jti cannot be empty")
        if scope is not None and type(scope) is not str:
            raise InvalidToken(Reason.INVALID_CLAIM, "scope is not a string")
        return claims

    def verify_id_token(
        self, token: str, *, nonce: str | None = None, max_age: float | None = None
    ) -> dict[str, Any]:
        """The claims of a valid OIDC ID token (OIDC Core §3.1.3.7) for this app.

        ``nonce``: the value sent in the authentication request; the token must carry it.
        ``max_age``: if it was sent, ``auth_time`` must be within it (§3.1.3.7 item 13).
        """
        claims = self._verified_claims(token, _ID_TOKEN_TYPES)
        self._require(claims, "sub", str)
        aud = claims["aud"]
        azp = claims.get("azp")
        several = type(aud) is list and len(aud) > 1
        if (several or azp is not None) and azp != self.audience:
            raise InvalidToken(Reason.WRONG_AUDIENCE, "azp is not this app")
        if nonce is not None:
            value = claims.get("nonce")
            if type(value) is not str:
                raise InvalidToken(Reason.NONCE_MISMATCH, "the ID token has no nonce")
            if not _equal(value, nonce):
                raise InvalidToken(Reason.NONCE_MISMATCH, "the nonce differs")
        if max_age is not None:
            auth_time: Any = claims.get("auth_time")
            if type(auth_time) not in _NUMBER:
                raise InvalidToken(Reason.MISSING_CLAIM, "auth_time is required with max_age")
            if auth_time + max_age + self.leeway < self._clock():
                raise InvalidToken(Reason.EXPIRED, "the authentication is older than max_age")
        return claims

    def verify_presentation(
        self,
        presentation: str,
        *,
        audience: str,
        nonce: str | None,
        require_key_binding: bool = True,
        max_kb_age: float = DEFAULT_MAX_KB_AGE,
        check_status: bool = True,
        vct: str | None = None,
    ) -> dict[str, Any]:
        """The Processed SD-JWT Payload (RFC 9901 §7.1) of a valid SD-JWT VC presentation.

        Checks, in order (each failure an :class:`InvalidToken` with its reason):

        1. Size (``max_presentation_bytes``) and form ``<jwt>~<d>~...~[<kb-jwt>]``.
        2. The issuer-signed JWT as every JWT here (header allow-list, ``kid`` in the
           issuer's JWKS, signature, ``iss``), ``typ`` ``dc+sd-jwt`` (the draft's earlier
           ``vc+sd-jwt`` is refused: Jati never issued it), no ``aud``.
        3. ``_sd_alg`` is ``sha-256`` (or absent).
        4. The Disclosures (RFC 9901 §7.1 step 3-5, ``invalid_disclosure``).
        5. ``exp``, ``iat`` (both required) and ``nbf`` of the processed payload, with
           ``leeway``.
        6. ``vct``: present, and equal to ``vct`` when given.
        7. Key binding (RFC 9901 §7.3): without a KB-JWT, ``key_binding_required`` when
           ``require_key_binding``; a KB-JWT that is present is always verified, as any
           failure ``bad_key_binding``: ``typ`` ``kb+jwt``, signed by ``cnf.jwk``, ``aud``
           the string ``audience``, ``nonce`` equal to ``nonce`` (when given; compared in
           constant time), ``iat`` within ``max_kb_age`` seconds in the past (and not in
           the future), ``sd_hash``, and ``exp``/``nbf`` if present.
        8. Status (``check_status``): ``status.status_list`` read from the issuer's Token
           Status List; ``revoked`` or ``suspended`` unless 0. No ``status`` claim passes.

        Args:
            presentation: the SD-JWT (+KB) as the wallet sent it.
            audience: this verifier's identifier, as the wallet put it in the KB-JWT ``aud``.
            nonce: the nonce this verifier sent the wallet for this presentation.
            require_key_binding: refuse a presentation without a KB-JWT (RFC 9901 §7.3:
                decided by the verifier's policy, never by what the holder sent).
            max_kb_age: seconds a KB-JWT stays acceptable after its ``iat``.
            check_status: read the credential's status (needs the status list once per
                its ``ttl``).
            vct: the credential type this verifier accepts.

        Returns:
            The payload with the disclosed claims in place: ``iss``, ``vct``, ``cnf``,
            ``status``, ``exp`` and every disclosed claim; ``_sd``, ``_sd_alg`` and
            undisclosed digests removed.
        """
        return self._verify_presentation(
            presentation,
            audience=audience,
            nonce=nonce,
            require_key_binding=require_key_binding,
            max_kb_age=max_kb_age,
            check_status=check_status,
            vct=vct,
            profile=SD_JWT_VC,
        )

    def _verify_presentation(
        self,
        presentation: str,
        *,
        audience: str,
        nonce: str | None,
        require_key_binding: bool,
        max_kb_age: float,
        check_status: bool,
        vct: str | None,
        profile: Profile,
    ) -> dict[str, Any]:
        if type(audience) is not str or not audience:
            raise ValueError("audience is this verifier's identifier, as the KB-JWT aud")
        if require_key_binding and nonce is None:
            raise ValueError("key binding needs the nonce this verifier sent")
        if not max_kb_age > 0:
            raise ValueError("max_kb_age is a positive number of seconds")
        parts = split_presentation(presentation, self.max_presentation_bytes)
        signed = self._signed_claims(
            parts.jwt, profile.issuer_types, self.max_presentation_bytes, profile.issuer_key
        )
        check_sd_alg(signed)
        claims = process_disclosures(signed, parts.disclosures)
        now = self._clock()
        self._check_lifetime(claims, now)
        check_vct(claims, vct, required=profile.require_vct)
        if parts.kb_jwt:
            expected = KbExpected(parts.signed_part, audience, nonce, now, self.leeway, max_kb_age)
            holder = self._key_binding.holder_key(claims)
            self._key_binding.verify(parts.kb_jwt, holder, expected)
        elif require_key_binding:
            raise InvalidToken(Reason.KEY_BINDING_REQUIRED, "the presentation has no KB-JWT")
        if check_status:
            check_credential_status(claims, self.status_lists)
        return claims

    # -- shared path -------------------------------------------------------------------

    def _verified_claims(self, token: str, types: frozenset[str | None]) -> dict[str, Any]:
        claims = self._signed_claims(token, types, self.max_token_bytes)
        aud = claims.get("aud")
        if aud != self.audience:
            if type(aud) is list:
                if self.audience not in aud or not all(type(a) is str for a in aud):
                    raise InvalidToken(Reason.WRONG_AUDIENCE, "aud does not include this app")
            elif type(aud) is str:
                raise InvalidToken(Reason.WRONG_AUDIENCE, "aud is not this app")
            else:
                raise InvalidToken(_absent_or_invalid(aud), "aud")
        self._check_lifetime(claims, self._clock())
        return claims

    def _signed_claims(
        self,
        token: str,
        types: frozenset[str | None],
        max_bytes: int,
        fixed_key: VerificationKey | None = None,
    ) -> dict[str, Any]:
        """Steps 1-5 and ``iss`` (module text): the claims of a JWS signed by the issuer.
        ``fixed_key`` (RFC 9901's examples only): the key for a header without ``kid``."""
        if type(token) is not str:
            raise InvalidToken(Reason.MALFORMED, "a token is a string")
        if len(token) > max_bytes:
            raise InvalidToken(Reason.TOO_LARGE, f"over {max_bytes} bytes")
        first, second = compact_dots(token)
        if first < 0:
            raise InvalidToken(Reason.MALFORMED, "not a compact JWS (three segments)")
        if fixed_key is None:
            alg, kid, typ = self._header(token[:first])
        else:
            alg, kid, typ = parse_header(token[:first], kid_required=False)
        if typ not in types:
            raise InvalidToken(Reason.WRONG_TYPE, "typ is not the one this token kind needs")
        key = self.keys.get(kid) if fixed_key is None or kid else fixed_key
        if alg not in key.algorithms:
            raise InvalidToken(Reason.KEY_MISMATCH, "alg does not match the key's type")
        if not key.verify(b64url_decode(token[second + 1 :]), token[:second].encode("ascii")):
            raise InvalidToken(Reason.BAD_SIGNATURE, "the signature does not verify")
        claims = json_object(b64url_decode(token[first + 1 : second]), "JWT claims set")
        if claims.get("iss") != self.issuer:
            raise InvalidToken(Reason.WRONG_ISSUER, "iss is not the expected issuer")
        return claims

    def _check_lifetime(self, claims: Mapping[str, Any], now: float) -> None:
        """``exp`` (required) after now, ``iat`` (required) and ``nbf`` not after now, each
        with ``leeway`` seconds (RFC 7519 §4.1.4-4.1.6)."""
        exp: Any = claims.get("exp")
        iat: Any = claims.get("iat")
        nbf: Any = claims.get("nbf")
        if type(exp) not in _NUMBER:
            raise InvalidToken(_absent_or_invalid(exp), "exp")
        if exp + self.leeway <= now:
            raise InvalidToken(Reason.EXPIRED, "the token has expired")
        if type(iat) not in _NUMBER:
            raise InvalidToken(_absent_or_invalid(iat), "iat")
        if iat > now + self.leeway:
            raise InvalidToken(Reason.ISSUED_IN_FUTURE, "iat is in the future")
        if nbf is not None:
            if type(nbf) not in _NUMBER:
                raise InvalidToken(Reason.INVALID_CLAIM, "nbf is not a number")
            if nbf > now + self.leeway:
                raise InvalidToken(Reason.NOT_YET_VALID, "nbf is in the future")

    @staticmethod
    def _require(claims: Mapping[str, Any], name: str, kind: type) -> None:
        value = claims.get(name)
        if value is None:
            raise InvalidToken(Reason.MISSING_CLAIM, f"{name} is required")
        if type(value) is not kind or not value:
            raise InvalidToken(Reason.INVALID_CLAIM, f"{name} has the wrong type")


def _absent_or_invalid(value: object) -> Reason:
    return Reason.MISSING_CLAIM if value is None else Reason.INVALID_CLAIM


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
