"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).

The code must exist, belong to the authenticated client, be unexpired and unused, come with
the same ``redirect_uri`` as the authorization request and a ``code_verifier`` matching its
S256 challenge (constant-time). Its consent grants must still be active. The first exchange
creates a token family (:mod:`identity.oidc.refresh_families`) and answers an access token
(RFC 9068, carrying the family and the consent grant ids), an ID token (OIDC Core §2, with
the claims the consent gate allows, read through the one audited path) and a refresh token
(:mod:`identity.oidc.issuance`). A second exchange of a code revokes the family the first
one created (RFC 6749 §4.1.2), as does a refused release of the claims. The family, its
first refresh token and the TOKEN_ISSUED audit entries commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol

from identity.errors import TokenError
from identity.oidc.clients import RelyingApp
from identity.oidc.codes import MAX_CODE_CHARS, AuthorizationCode, hash_secret
from identity.oidc.issuance import Issuance
from identity.oidc.pkce import verify_s256
from identity.oidc.refresh_families import KnownFamilies, TokenFamily, new_family_id
from identity.oidc.revocation import revoke_family
from identity.storage.housekeeping import purge_due

__all__ = ["CODE_REUSE_DETECTION", "AuthorizationCodeGrant"]

log = logging.getLogger(__name__)

#: Used codes are kept this long after they expire, so that a late replay still revokes
#: the family of the first exchange (RFC 6749 §4.1.2).
CODE_REUSE_DETECTION = timedelta(hours=1)
_KINDS = ("token:access", "token:id", "token:refresh")


class CodeStore(Protocol):
    """The OIDC store: ``write()`` and ``read()`` open its transactions
    (:class:`identity.oidc.codes.CodeTransaction` and
    :class:`identity.oidc.refresh_families.RefreshTransaction`, with ``bind``)."""

    def write(self) -> Any: ...
    def read(self) -> Any: ...


@dataclass(eq=False, kw_only=True)
class AuthorizationCodeGrant:
    """``token(app, form)``: the token response of a code exchange (see the module text).

    Args:
        store: the OIDC store (codes, families, refresh tokens).
        issuance: issues the family's tokens, releases its claims, records the issuance;
            its consent records say whether the code's consent grants are still active.
        families: the token families this worker knows (for the refresh grant).
        clock: the current UTC time.
    """

    store: CodeStore
    issuance: Issuance
    families: KnownFamilies
    clock: Callable[[], datetime]

    def token(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response (RFC 6749 §5.1) of a code exchange.

        Raises:
            TokenError: the RFC 6749 §5.2 error.
        """
        now = self.clock()
        code_hash, code = self._redeemable_code(app, form, now)
        family = TokenFamily(
            id=new_family_id(),
            client_id=app.client_id,
            citizen_id=code.citizen_id,
            scopes=code.scopes,
            claims=code.claims,
            purposes=code.purposes,
            auth_time=code.auth_time,
            acr=code.acr,
            amr=code.amr,
            created_at=now,
        )
        refresh_value, refresh = self.issuance.new_refresh_token(family, now)
        entries = self.issuance.entries(app, family, family.scopes, _KINDS, now)
        with self.store.write() as tx:
            if purge_due():
                tx.purge_codes(now - CODE_REUSE_DETECTION)
                tx.purge_refresh_tokens(now)
            first_use = tx.use_code(code_hash, now=now, authorization_id=family.id)
            if first_use:
                tx.add_family(family)
                tx.add_refresh_token(refresh)
                self.issuance.record(tx.bind, entries, now)
        if not first_use:  # a concurrent exchange won the race
            self._code_replayed(code_hash, now)
        self.families.remember(family)
        try:
            released = self.issuance.release(app, family, family.claims, strict=True)
        except TokenError:
            revoke_family(self.store, family.id, now)
            raise
        return self.issuance.family_response(
            app, family, family.scopes, refresh_value, nonce=code.nonce, claims=released
        )

    def _redeemable_code(
        self, app: RelyingApp, form: Mapping[str, str], now: datetime
    ) -> tuple[str, AuthorizationCode]:
        """RFC 6749 §4.1.3 and RFC 7636 §4.6: the code's hash and the code, if this request
        may redeem it (a used code revokes what its first exchange issued)."""
        code_value = form.get("code")
        redirect_uri = form.get("redirect_uri")
        verifier = form.get("code_verifier")
        for name, value in (("code", code_value), ("redirect_uri", redirect_uri)):
            if not value:
                raise TokenError("invalid_request", f"{name} is required")
        if not verifier:
            raise TokenError("invalid_request", "code_verifier is required (PKCE)")
        assert code_value is not None
        if len(code_value) > MAX_CODE_CHARS:
            raise TokenError("invalid_grant", "the code is not valid")
        code_hash = hash_secret(code_value)
        with self.store.read() as tx:
            code: AuthorizationCode | None = tx.get_code(code_hash)
        if code is None or code.client_id != app.client_id:
            log.info("code refused: unknown, or issued to another client")
            raise TokenError("invalid_grant", "the code is not valid")
        if code.used_at is not None:
            self._code_replayed(code_hash, now)
        if now >= code.expires_at:
            log.info("code refused: expired")
            raise TokenError("invalid_grant", "the code has expired")
        if redirect_uri != code.redirect_uri:
            log.info("code refused: redirect_uri differs from the authorization request")
            raise TokenError("invalid_grant", "redirect_uri does not match")
        if not verify_s256(verifier, code.code_challenge):
            log.info("code refused: the PKCE code_verifier does not match")
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        if not all(self.issuance.consent.is_grant_active(g) for g in code.grant_ids):
            log.info("code refused: a consent grant was withdrawn or expired")
            raise TokenError("invalid_grant", "consent was withdrawn")
        return code_hash, code

    def _code_replayed(self, code_hash: str, now: datetime) -> NoReturn:
        with self.store.write() as tx:
            code = tx.get_code(code_hash)
            if code is not None and code.authorization_id is not None:
                tx.revoke_family(code.authorization_id, now=now)
        log.warning("authorization code used twice: the tokens issued from it are revoked")
        raise TokenError("invalid_grant", "the code is not valid")
