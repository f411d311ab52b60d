"""Token introspection (RFC 7662): whether a token is active for the calling client, and what
is said of it, with consent withdrawal honoured. Framework-free: the caller
(:mod:`identity.http.introspection`) has parsed the request and authenticated the client.

The answer is ``{"active": false}`` and nothing else (§2.2) for a token over the size limit,
one that does not verify or has expired, was revoked (RFC 7009) or belongs to a revoked
token family, was issued under a consent grant since withdrawn or expired (UU PDP Art. 9,
40), or was not issued to the calling client (a client may not scan other clients' tokens,
§4). A token that is not JWT-shaped is taken for a refresh token. The checks run in that
order: the size, the signature (with the calling client as audience), the client, the
consent grants the token names, then its revocation and its family.

An active access token answers its ``scope``, ``client_id``, ``sub``, ``aud``, ``iss``,
``exp``, ``iat``, ``jti`` and ``token_type``; an active refresh token (opaque, unused,
unexpired, of the calling client, its family alive and its consent grants active) its
``scope``, ``client_id``, ``sub``, ``iss``, ``exp`` and ``iat``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from identity.errors import NotFound
from identity.oidc.access_tokens import MAX_TOKEN_CHARS, AccessTokenChecks, GrantStates
from identity.oidc.codes import hash_secret
from identity.oidc.issuance import ClientLookup, epoch, sector
from identity.oidc.refresh_families import (
    GRANTS_CLAIM,
    MAX_REFRESH_TOKEN_CHARS,
    RefreshToken,
    TokenFamily,
)
from identity.oidc.tokens import TokenIssuer
from identity.relying_party import InvalidToken

__all__ = ["Introspector"]

log = logging.getLogger(__name__)

_INACTIVE: Mapping[str, Any] = {"active": False}
_ACCESS_TOKEN_MEMBERS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")


class RefreshTokenStore(Protocol):
    def read(self) -> Any: ...  # AbstractContextManager[RefreshTransaction]


@dataclass(eq=False, kw_only=True)
class Introspector:
    """``introspect(token, client_id)``: the RFC 7662 §2.2 answer (see the module text).

    Args:
        access_tokens: verifies access tokens and tells whether one is revoked.
        store: the OIDC store (refresh tokens and their families).
        consent: whether a consent grant is active (the ledger, or its cached view).
        clients: the client registry.
        tokens: the issuer and the pairwise subjects of refresh tokens' answers.
        clock: the current UTC time.
    """

    access_tokens: AccessTokenChecks
    store: RefreshTokenStore
    consent: GrantStates
    clients: ClientLookup
    tokens: TokenIssuer
    clock: Callable[[], datetime]

    def introspect(self, token: str, client_id: str) -> Mapping[str, Any]:
        if len(token) > MAX_TOKEN_CHARS:
            return _INACTIVE
        if token.count(".") != 2:  # opaque: a refresh token
            refresh = self._refresh_token(token, client_id)
            if refresh is None:
                log.info("introspection: inactive refresh token")
            return refresh or _INACTIVE
        return self._access_token(token, client_id)

    def _access_token(self, token: str, client_id: str) -> Mapping[str, Any]:
        verifier = self.access_tokens.verifiers.for_audience(client_id)
        try:
            claims = verifier.verify_access_token(token)
        except InvalidToken as exc:
            log.info("introspection: inactive token (%s)", exc.reason.value)
            return _INACTIVE
        if claims.get("client_id") != client_id:
            log.info("introspection: a token of another client")
            return _INACTIVE
        grants = claims.get(GRANTS_CLAIM) or []
        if not isinstance(grants, list) or not all(
            isinstance(g, str) and self.consent.is_grant_active(g) for g in grants
        ):
            log.info("introspection: inactive token (consent withdrawn or expired)")
            return _INACTIVE
        if not self.access_tokens.access_token_active(claims):
            log.info("introspection: inactive token (revoked)")
            return _INACTIVE
        answer = {name: claims[name] for name in _ACCESS_TOKEN_MEMBERS if name in claims}
        return {"active": True, "token_type": "Bearer", **answer}

    def _refresh_token(self, token: str, client_id: str) -> dict[str, Any] | None:
        """RFC 7662 §2.2 for a refresh token of ``client_id``: None when inactive (unknown,
        another client's, used, expired, revoked, or its consent withdrawn)."""
        if not token or len(token) > MAX_REFRESH_TOKEN_CHARS:
            return None
        now = self.clock()
        with self.store.read() as tx:
            stored: RefreshToken | None = tx.get_refresh_token(hash_secret(token))
            family: TokenFamily | None = tx.get_family(stored.family_id) if stored else None
        if (
            stored is None
            or family is None
            or stored.client_id != client_id
            or stored.used_at is not None
            or now >= stored.expires_at
            or family.revoked_at is not None
            or not all(self.consent.is_grant_active(g) for g in family.grant_ids)
        ):
            return None
        try:
            app = self.clients.get(client_id)
        except NotFound:
            return None
        return {
            "active": True,
            "scope": " ".join(family.scopes),
            "client_id": client_id,
            "sub": self.tokens.subject(family.citizen_id, sector(app)),
            "iss": self.tokens.issuer,
            "exp": epoch(stored.expires_at),
            "iat": epoch(stored.created_at),
        }
