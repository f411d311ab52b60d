"""Token introspection (RFC 7662) for relying apps, with consent withdrawal honoured.

``POST /introspect`` (``application/x-www-form-urlencoded``: ``token``, optional
``token_type_hint``), the caller authenticated as a registered client with the method it
registered (``client_secret_basic`` or ``client_secret_post``, RFC 6749 §2.3.1, or
``private_key_jwt``, RFC 7523: :mod:`identity.oidc.client_auth`). The answer is
``{"active": false}`` and nothing else (§2.2) for a token that does not verify, has expired,
was revoked (RFC 7009) or belongs to a revoked token family, was issued under a consent
grant since withdrawn or expired (UU PDP Art. 9, 40), or was not issued to the calling
client (a client may not scan other clients' tokens, §4). An active access token answers its
``scope``, ``client_id``, ``sub``, ``aud``, ``iss``, ``exp``, ``iat``, ``jti`` and
``token_type``; an active refresh token (opaque, unused, of the calling client) its
``scope``, ``client_id``, ``sub``, ``iss``, ``exp`` and ``iat``. Responses are
``Cache-Control: no-store`` (§2.2 is silent; the token state may change any time).

Client authentication failures answer 401 ``invalid_client`` with ``WWW-Authenticate:
Basic`` (RFC 6749 §5.2); a missing ``token`` parameter, or a parameter holding a NUL
(:mod:`identity.service.web.input_guard`), answers 400 ``invalid_request``. A secret check refused
before its hash answers ``temporarily_unavailable`` with ``Retry-After``, 429 or 503, as at
the token endpoint (:mod:`identity.http.oidc`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.errors import TemporarilyUnavailable, TokenError
from identity.http.login import client_address
from identity.http.oidc import CLIENT_AUTHENTICATION_ERRORS, client_authenticated_body
from identity.oidc.client_auth import ClientAuthenticator
from identity.oidc.refresh_families import GRANTS_CLAIM  # the consent grants of an access token
from identity.relying_party import InvalidToken, TokenVerifier
from identity.relying_party.key_cache import JwksLoader
from identity.service.web.input_guard import form_is_clean
from identity.service.web.openapi import oauth_error, text_parameter
from identity.service.web.plain_routes import serve_plainly

log = logging.getLogger(__name__)
router = APIRouter(tags=["OpenID Connect"])

INTROSPECTION_PATH = "/introspect"
MAX_TOKEN_CHARS = 8192
_INACTIVE = {"active": False}
_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenStates(Protocol):
    """What the token service knows beyond a token's signature
    (:class:`identity.oidc.token_endpoint.TokenService`)."""

    def access_token_active(self, claims: Mapping[str, Any]) -> bool: ...
    def refresh_token_info(self, token: str, client_id: str) -> Mapping[str, Any] | None: ...


class GrantStates(Protocol):
    """Whether a consent grant is active (the ledger, or its cached view)."""

    def is_grant_active(self, grant_id: str) -> bool: ...


class Introspector:
    """Decides whether a token is active for the calling client."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_loader: JwksLoader,
        ledger: GrantStates,
        tokens: TokenStates | None = None,
    ) -> None:
        self.issuer = issuer
        self._loader = jwks_loader
        self._ledger = ledger
        self._tokens = tokens
        self._verifiers: dict[str, TokenVerifier] = {}

    def _verifier(self, client_id: str) -> TokenVerifier:
        verifier = self._verifiers.get(client_id)
        if verifier is None:
            if len(self._verifiers) > 10_000:
                self._verifiers.clear()
            verifier = TokenVerifier(
                issuer=self.issuer,
                audience=client_id,
                jwks_loader=self._loader,
                min_refresh_interval=5.0,
            )
            self._verifiers[client_id] = verifier
        return verifier

    def introspect(self, token: str, client_id: str) -> Mapping[str, Any]:
        if self._tokens is not None and token.count(".") != 2:  # opaque: a refresh token
            refresh = self._tokens.refresh_token_info(token, client_id)
            if refresh is None:
                log.info("introspection: inactive refresh token")
            return refresh or _INACTIVE
        try:
            claims = self._verifier(client_id).verify_access_token(token)
        except InvalidToken as exc:
            log.info("introspection: inactive token (%s)", exc.reason.value)
            return _INACTIVE
        if claims.get("client_id") != client_id:
            log.info("introspection: a token of another client")
            return _INACTIVE
        grants = claims.get(GRANTS_CLAIM) or []
        if not isinstance(grants, list) or not all(
            isinstance(g, str) and self._ledger.is_grant_active(g) for g in grants
        ):
            log.info("introspection: inactive token (consent withdrawn or expired)")
            return _INACTIVE
        if self._tokens is not None and not self._tokens.access_token_active(claims):
            log.info("introspection: inactive token (revoked)")
            return _INACTIVE
        answer: dict[str, Any] = {
            name: claims[name]
            for name in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
            if name in claims
        }
        return {"active": True, "token_type": "Bearer", **answer}


@router.post(
    INTROSPECTION_PATH,
    summary="Token introspection (RFC 7662)",
    responses={
        200: {
            "description": 'the token\'s state: {"active": false} and nothing else when it is '
            "not active for the calling client (RFC 7662 §2.2)",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["active"],
                        "properties": {"active": {"type": "boolean"}},
                    }
                }
            },
        },
        400: oauth_error("invalid_request: no token parameter, or a parameter holds a NUL"),
        **CLIENT_AUTHENTICATION_ERRORS,
    },
    openapi_extra={
        "requestBody": client_authenticated_body(
            (
                ("token", True, text_parameter(MAX_TOKEN_CHARS, "the token to introspect")),
                (
                    "token_type_hint",
                    False,
                    {"type": "string", "enum": ["access_token", "refresh_token"]},
                ),
            )
        )
    },
)
async def introspect(request: Request) -> JSONResponse:
    authenticator: ClientAuthenticator = request.app.state.client_authenticator
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        if not form_is_clean(form):
            raise TokenError("invalid_request", "a parameter holds a NUL character")
        app = await authenticator.authenticate(
            request.headers.get("authorization"),
            fields,
            endpoint=request.app.state.issuer + INTROSPECTION_PATH,
            address=client_address(request),
        )
    except TemporarilyUnavailable as exc:  # throttled (429) or hashing pool full (503)
        return JSONResponse(
            {"error": exc.error, "error_description": exc.description},
            status_code=exc.status,
            headers={**_HEADERS, "Retry-After": str(exc.retry_after)},
        )
    except TokenError as exc:
        if exc.error != "invalid_client":
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description},
                status_code=400,
                headers=_HEADERS,
            )
        return JSONResponse(  # RFC 6749 §5.2: the scheme the client used, one opaque error
            {"error": "invalid_client"},
            status_code=401,
            headers={**_HEADERS, "WWW-Authenticate": 'Basic realm="jati"'},
        )
    token = form.get("token")
    if not isinstance(token, str) or not token:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "the token parameter is required"},
            status_code=400,
            headers=_HEADERS,
        )
    if len(token) > MAX_TOKEN_CHARS:
        return JSONResponse(_INACTIVE, headers=_HEADERS)
    introspector: Introspector = request.app.state.introspector
    answer = await asyncio.to_thread(introspector.introspect, token, app.client_id)
    return JSONResponse(dict(answer), headers=_HEADERS)


serve_plainly(router, INTROSPECTION_PATH)  # takes the request alone: Starlette's handler serves it
