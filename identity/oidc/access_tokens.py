"""Jati's own access tokens (RFC 9068) presented back to it: at userinfo, revocation,
introspection, the credential endpoint and Jati's own APIs.

A presented token is checked in this order: its size, its signature and claims (the audience
is the token's client, or the issuer for tokens of Jati's own API), then what only the
database knows: its ``jti`` not revoked (RFC 7009), its token family not revoked
(:mod:`identity.oidc.refresh_families`), and every consent grant it was issued under still
active (UU PDP Art. 40).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from identity.errors import Unauthorized
from identity.oidc.client_auth import VerifierCache, unverified_claims
from identity.oidc.refresh_families import FAMILY_CLAIM, TokenFamily
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from identity.relying_party.key_cache import JwksLoader

__all__ = ["MAX_TOKEN_CHARS", "AccessTokenChecks", "AccessTokenVerifiers"]

log = logging.getLogger(__name__)

#: The longest token any endpoint reads (RFC 7009 and RFC 7662 ``token``, a bearer token).
MAX_TOKEN_CHARS = 8192


class AccessTokenVerifiers:
    """Verifies Jati's own access tokens for the endpoints that take them back (userinfo,
    revocation, introspection): the audience is the token's client (or the issuer, for
    tokens of Jati's own API), with the keys read from the key store."""

    def __init__(self, *, issuer: str, jwks_loader: JwksLoader) -> None:
        self.issuer = issuer
        self._loader = jwks_loader
        self._verifiers: VerifierCache[str] = VerifierCache()

    def for_audience(self, audience: str) -> TokenVerifier:
        return self._verifiers.get(
            audience,
            lambda: TokenVerifier(
                issuer=self.issuer,
                audience=audience,
                jwks_loader=self._loader,
                min_refresh_interval=5.0,
            ),
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token of Jati's (RFC 9068 checks).

        Raises:
            InvalidToken: with the reason.
        """
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken(Reason.TOO_LARGE, "over the size limit")
        unverified = unverified_claims(token)  # only to pick the audience to check
        aud, client_id = unverified.get("aud"), unverified.get("client_id")
        audience = self.issuer if aud == self.issuer else client_id
        if type(audience) is not str or not audience:
            raise InvalidToken(Reason.MISSING_CLAIM, "client_id is required")
        claims = self.for_audience(audience).verify_access_token(token)
        if audience != self.issuer and claims.get("client_id") != audience:
            raise InvalidToken(Reason.WRONG_AUDIENCE, "aud is not the token's client")
        return claims


class AccessTokenReads(Protocol):
    """The OIDC store's read transaction, as far as access tokens go."""

    def get_family(self, family_id: str) -> TokenFamily | None: ...
    def is_access_token_revoked(self, jti: str) -> bool: ...


class AccessTokenStore(Protocol):
    def read(self) -> Any: ...  # AbstractContextManager[AccessTokenReads]


class GrantStates(Protocol):
    """Whether a consent grant is active (the ledger, or its cached view)."""

    def is_grant_active(self, grant_id: str) -> bool: ...


@dataclass(eq=False, kw_only=True)
class AccessTokenChecks:
    """Whether a presented access token is still in force (see the module text).

    Args:
        verifiers: verifies the token itself.
        store: the OIDC store (token families, revoked ``jti`` values).
        consent: whether a consent grant is still active.
    """

    verifiers: AccessTokenVerifiers
    store: AccessTokenStore
    consent: GrantStates

    def active_access_token(self, token: str) -> tuple[dict[str, Any], TokenFamily]:
        """The claims and token family of an access token that is valid, not revoked, and
        whose consent grants are all still active (for userinfo and the credential endpoint).

        Raises:
            Unauthorized: otherwise (the precise reason goes to the log).
        """
        try:
            claims = self.verifiers.verify(token)
        except InvalidToken as exc:
            log.info("access token refused: %s", exc.reason.value)
            raise Unauthorized("the access token is not valid") from None
        family_id = claims.get(FAMILY_CLAIM)
        if type(family_id) is not str:
            log.info("access token refused: not issued through the code flow")
            raise Unauthorized("the access token is not valid")
        with self.store.read() as tx:
            family: TokenFamily | None = tx.get_family(family_id)
            revoked = tx.is_access_token_revoked(str(claims["jti"]))
        if family is None or family.revoked_at is not None or revoked:
            log.info("access token refused: revoked")
            raise Unauthorized("the access token is not valid")
        if family.client_id != claims.get("client_id"):
            log.info("access token refused: client differs from its family")
            raise Unauthorized("the access token is not valid")
        if not all(self.consent.is_grant_active(g) for g in family.grant_ids):
            log.info("access token refused: consent withdrawn or expired")
            raise Unauthorized("the access token is not valid")
        return claims, family

    def access_token_active(self, claims: Mapping[str, Any]) -> bool:
        """For introspection (RFC 7662) and Jati's own APIs: a verified access token is
        inactive once revoked, or once its token family is revoked (RFC 7009 §2.1)."""
        jti = claims.get("jti")
        family_id = claims.get(FAMILY_CLAIM)
        with self.store.read() as tx:
            if isinstance(jti, str) and tx.is_access_token_revoked(jti):
                return False
            if family_id is not None:
                family = tx.get_family(family_id) if isinstance(family_id, str) else None
                if family is None or family.revoked_at is not None:
                    return False
        return True
