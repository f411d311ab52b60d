"""Bearer-token authorization of Jati's own APIs: the audit API and the citizen API.

RFC 6750 §2.1: the token comes in ``Authorization: Bearer <token>``, nowhere else (never in
a query string, where it would reach access logs). The token is one of Jati's RFC 9068
access tokens whose audience is the issuer itself; it is verified with the same SDK relying
apps use (:mod:`identity.relying_party`), with the keys read from the key store in process.
A token revoked at ``/revoke`` (RFC 7009), or whose token family was revoked, is refused
like an invalid one; so is a citizen's token once the citizen is erased (UU PDP Art. 43-44:
the erasure revokes their families; a token of no family is checked against the citizen).
A missing or invalid token answers 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` and nothing more (the precise reason goes to the log); a valid token
without the needed scope answers 403 ``insufficient_scope`` (RFC 6750 §3.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request

from identity.errors import InsufficientScope, Unauthorized
from identity.oidc.pairwise import SelfSubjects
from identity.oidc.refresh_families import FAMILY_CLAIM
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.key_cache import JwksLoader

log = logging.getLogger(__name__)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an access token is required (Authorization: Bearer <token>)")
    return token.strip()


class ApiAuthorizer:
    """``authorize(request, scope)`` for routes of Jati's own APIs; returns the claims."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_loader: JwksLoader,
        active: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> None:
        """``active(claims)``: whether a verified token is still in force (not revoked,
        RFC 7009; its token family alive); without it only the JWT itself is checked."""
        self.verifier = TokenVerifier(
            issuer=issuer,
            audience=issuer,
            jwks_loader=jwks_loader,
            min_refresh_interval=5.0,
        )
        self._active = active

    def __call__(self, request: Request, scope: str) -> dict[str, Any]:
        token = bearer_token(request)
        try:
            claims = self.verifier.verify_access_token(token)
        except InvalidToken as exc:
            log.info("access token refused: %s", exc.reason.value)
            raise Unauthorized("the access token is not valid") from None
        if self._active is not None and not self._active(claims):
            log.info("access token refused: revoked")
            raise Unauthorized("the access token is not valid")
        if scope not in claims.get("scope", "").split():
            raise InsufficientScope(scope)
        request.state.token_claims = claims
        return claims


CITIZEN_SCOPE = "me"


class CitizenAuthorizer:
    """``authorize_citizen(request) -> citizen id`` for the citizen API
    (docs/consent-and-rights.md): an access token for Jati with scope ``me`` whose ``sub``
    opens as one of Jati's self subjects. A client-credentials token (no citizen) or any
    other ``sub`` is refused.

    An erased citizen's token is refused (UU PDP Art. 43-44). A token of a token family
    needs no further read: the erasure revoked the family in its own transaction and
    ``api`` checks the family. A token that names no family (the token endpoint issues
    none, but nothing else ties it to the erasure) is checked with ``citizen_erased``."""

    def __init__(
        self,
        *,
        api: ApiAuthorizer,
        self_subjects: SelfSubjects,
        citizen_erased: Callable[[str], bool] | None = None,
    ) -> None:
        """``citizen_erased(citizen_id)``: whether the citizen has been erased
        (:meth:`identity.citizens.service.CitizenService.is_erased`)."""
        self._api = api
        self._self_subjects = self_subjects
        self._citizen_erased = citizen_erased

    def __call__(self, request: Request) -> str:
        claims = self._api(request, CITIZEN_SCOPE)
        citizen_id = self._self_subjects.citizen_id(str(claims.get("sub", "")))
        if citizen_id is None:
            log.info("access token refused: its sub is not a citizen of this service")
            raise Unauthorized("the access token is not valid")
        if (
            FAMILY_CLAIM not in claims
            and self._citizen_erased is not None
            and self._citizen_erased(citizen_id)
        ):
            log.info("access token refused: its citizen is erased")
            raise Unauthorized("the access token is not valid")
        request.state.citizen_id = citizen_id
        return citizen_id
