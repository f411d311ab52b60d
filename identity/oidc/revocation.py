"""Token revocation (RFC 7009), framework-free. The caller has already authenticated the
client (:mod:`identity.oidc.client_auth`).

A refresh token is revoked with its whole token family, and so with every access token
issued from it (:mod:`identity.oidc.refresh_families`); an access token by its ``jti``, kept
until the token would have expired. The ``token_type_hint`` only says where to look first
(§2.1). Unknown tokens, invalid ones and other clients' tokens change nothing, and the
answer is the same (§2.2: a client learns nothing about other tokens).

:func:`revoke_family` is also how the grants revoke a family when they detect a replay
(RFC 6749 §4.1.2, RFC 9700 §4.14.2) or a withdrawn consent (UU PDP Art. 40).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from identity.oidc.access_tokens import MAX_TOKEN_CHARS, AccessTokenVerifiers
from identity.oidc.clients import RelyingApp
from identity.oidc.codes import hash_secret
from identity.oidc.refresh_families import MAX_REFRESH_TOKEN_CHARS, RefreshToken
from identity.relying_party import InvalidToken

__all__ = ["Revocation", "revoke_family"]

log = logging.getLogger(__name__)


class FamilyWrites(Protocol):
    """The OIDC store: ``write()`` opens its transaction
    (:class:`identity.oidc.refresh_families.RefreshTransaction` and
    :class:`identity.oidc.refresh_families.RevocationTransaction`)."""

    def write(self) -> Any: ...


class RevocationStore(FamilyWrites, Protocol):
    def read(self) -> Any: ...


def revoke_family(store: FamilyWrites, family_id: str, now: datetime) -> None:
    """Revoke the token family and every refresh token of it (idempotent)."""
    with store.write() as tx:
        tx.revoke_family(family_id, now=now)


@dataclass(eq=False, kw_only=True)
class Revocation:
    """``revoke(app, token, hint)`` (see the module text).

    Args:
        store: the OIDC store (refresh tokens, families, revoked access tokens).
        verifiers: verifies the access tokens presented.
        clock: the current UTC time.
    """

    store: RevocationStore
    verifiers: AccessTokenVerifiers
    clock: Callable[[], datetime]

    def revoke(self, app: RelyingApp, token: str, hint: str | None = None) -> None:
        """RFC 7009 §2.1: revoke a refresh token (and its whole family, with the access
        tokens issued from it) or an access token (its ``jti`` kept until it expires).

        Unknown tokens, invalid ones and other clients' tokens change nothing (§2.2: the
        answer is 200 either way, so a client learns nothing about other tokens).
        """
        if not token or len(token) > MAX_TOKEN_CHARS:
            return
        jwt_shaped = token.count(".") == 2
        order = ["access_token", "refresh_token"] if jwt_shaped else ["refresh_token"]
        if hint in order:  # §2.1: the hint only says where to look first
            order.sort(key=lambda kind: kind != hint)
        now = self.clock()
        for kind in order:
            done = (
                self._revoke_refresh(app, token, now)
                if kind == "refresh_token"
                else self._revoke_access(app, token)
            )
            if done:
                return

    def _revoke_refresh(self, app: RelyingApp, token: str, now: datetime) -> bool:
        if len(token) > MAX_REFRESH_TOKEN_CHARS:
            return False
        with self.store.read() as tx:
            stored: RefreshToken | None = tx.get_refresh_token(hash_secret(token))
        if stored is None or stored.client_id != app.client_id:
            return False
        revoke_family(self.store, stored.family_id, now)
        log.info("refresh token revoked with its token family")
        return True

    def _revoke_access(self, app: RelyingApp, token: str) -> bool:
        try:
            claims = self.verifiers.verify(token)
        except InvalidToken:
            return False
        if claims.get("client_id") != app.client_id:
            return False
        expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
        with self.store.write() as tx:
            tx.revoke_access_token(
                str(claims["jti"]), client_id=app.client_id, expires_at=expires_at
            )
        log.info("access token revoked")
        return True
