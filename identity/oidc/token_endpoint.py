"""The token endpoint (RFC 6749 §3.2), framework-free: the request's parameters read once
each, then the grant the client asked for. The caller has already authenticated the client
(:mod:`identity.oidc.client_auth`).

The grants, one module each (:mod:`identity.oidc.grants`):

- **authorization_code** (RFC 6749 §4.1.3, RFC 7636 §4.6):
  :mod:`identity.oidc.grants.authorization_code`;
- **refresh_token** (RFC 6749 §6, RFC 9700 §4.14.2): :mod:`identity.oidc.grants.refresh_token`,
  whose common case runs on the event loop (``refresh_grant.refresh_on_loop``) before the
  HTTP layer hands the request to :meth:`TokenService.token` in a thread;
- **client_credentials** (RFC 6749 §4.4): :mod:`identity.oidc.grants.client_credentials`.

The first two are for code flow apps, the last for auditor apps. Errors are exactly RFC 6749
§5.2's codes (:class:`identity.errors.TokenError`); a refused request changes nothing,
except that a detected replay revokes what it must. Every token response appends
TOKEN_ISSUED audit entries (:mod:`identity.oidc.issuance`) in the transaction that records
the tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from identity.errors import TokenError
from identity.oidc.clients import GrantType, RelyingApp
from identity.oidc.grants.authorization_code import AuthorizationCodeGrant, CodeStore
from identity.oidc.grants.client_credentials import ClientCredentialsGrant
from identity.oidc.grants.refresh_token import RefreshStore, RefreshTokenGrant
from identity.oidc.issuance import Issuance
from identity.oidc.refresh_families import KnownFamilies
from identity.oidc.request_parameters import split_repeated

__all__ = ["TokenService", "TokenStore", "single_values"]

#: The parameters of the token, revocation and introspection endpoints (RFC 6749 §4.1.3,
#: §6, §2.3.1, RFC 7523 §2.2, RFC 7009 §2.1, RFC 7662 §2.1): the only names an error repeats.
_KNOWN_PARAMETERS = frozenset({
    "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
    "client_id", "client_secret", "client_assertion", "client_assertion_type", "token",
    "token_type_hint", "resource",
})  # fmt: skip


def single_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Request parameters as a dict; RFC 6749 §3.1/§3.2: none may appear twice. A repeated
    name the client made up is not repeated back (it could be a NIK or an email address)."""
    values, repeated = split_repeated(pairs)
    if repeated:  # the first name that came twice
        name = repeated[0]
        shown = f"parameter {name}" if name in _KNOWN_PARAMETERS else "a parameter"
        raise TokenError("invalid_request", f"{shown} is repeated")
    return values


class TokenStore(CodeStore, RefreshStore, Protocol):
    """The OIDC store, as the three grants use it."""


class TokenService:
    """Answers the token endpoint (``Services.token_service``): ``token(app, form)``, and
    ``refresh_grant.refresh_on_loop(app, form)`` first, on the event loop.

    Args:
        store: the OIDC store (codes, families, refresh tokens).
        issuance: issues tokens, releases claims, records the issuance
            (:class:`identity.oidc.issuance.Issuance`).
        clock: the current UTC time.
    """

    def __init__(
        self, *, store: TokenStore, issuance: Issuance, clock: Callable[[], datetime]
    ) -> None:
        families = KnownFamilies()  # one worker's memory, shared by the code and refresh grants
        self.code_grant = AuthorizationCodeGrant(
            store=store, issuance=issuance, families=families, clock=clock
        )
        self.refresh_grant = RefreshTokenGrant(
            store=store, issuance=issuance, families=families, clock=clock
        )
        self.client_credentials_grant = ClientCredentialsGrant(
            store=store, issuance=issuance, clock=clock
        )

    def token(self, app: RelyingApp, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response (RFC 6749 §5.1) for an authenticated client.

        Raises:
            TokenError: the RFC 6749 §5.2 error.
        """
        grant_type = form.get("grant_type")
        if not grant_type:
            raise TokenError("invalid_request", "grant_type is required")
        if grant_type in ("authorization_code", "refresh_token"):
            if GrantType.AUTHORIZATION_CODE not in app.grant_types:
                raise TokenError("unauthorized_client", f"this client cannot use {grant_type}")
            if grant_type == "authorization_code":
                return self.code_grant.token(app, form)
            return self.refresh_grant.token(app, form)
        if grant_type == "client_credentials":
            if GrantType.CLIENT_CREDENTIALS not in app.grant_types:
                raise TokenError("unauthorized_client", "this client cannot use client_credentials")
            return self.client_credentials_grant.token(app, form)
        raise TokenError(
            "unsupported_grant_type", "use authorization_code, refresh_token or client_credentials"
        )
