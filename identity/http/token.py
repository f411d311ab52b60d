"""The token endpoint, ``POST /token`` (RFC 6749 §3.2: ``authorization_code`` with PKCE,
RFC 7636; ``refresh_token``; ``client_credentials``; OIDC Core §3.1.3).

A thin adapter over :mod:`identity.oidc.token_endpoint`: the client authenticates with the
method it registered (:mod:`identity.http.client_authentication`); errors are RFC 6749 §5.2
JSON. Every answer is ``Cache-Control: no-store`` (RFC 6749 §5.1) with ``Pragma: no-cache``;
codes and tokens never reach a log line (requests are logged by route template).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.errors import TokenError
from identity.http import client_authentication
from identity.oidc.endpoints import TOKEN_PATH
from identity.oidc.token_endpoint import TokenService
from identity.service.web.oauth_responses import NO_STORE
from identity.service.web.openapi import Parameter, oauth_error, text_parameter
from identity.service.web.plain_routes import serve_plainly
from identity.service.web.state import services

__all__ = ["router"]

router = APIRouter(tags=["OpenID Connect"])


_TOKEN_PARAMETERS: tuple[Parameter, ...] = (
    (
        "grant_type",
        True,
        {"type": "string", "enum": ["authorization_code", "refresh_token", "client_credentials"]},
    ),
    ("code", False, text_parameter(512, "authorization_code: the code")),
    (
        "redirect_uri",
        False,
        text_parameter(2048, "authorization_code: as in the authorization request"),
    ),
    ("code_verifier", False, {"type": "string", "pattern": "^[A-Za-z0-9._~-]{43,128}$"}),
    ("refresh_token", False, text_parameter(512, "refresh_token: the refresh token")),
    ("scope", False, text_parameter(512, "refresh_token, client_credentials: the scopes wanted")),
)
_TOKEN_RESPONSE = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "id_token": {"type": "string"},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
    },
}


@router.post(
    TOKEN_PATH,
    summary="Token endpoint (RFC 6749 §3.2: authorization_code, refresh_token, client_credentials)",
    responses={
        200: {
            "description": "the tokens (RFC 6749 §5.1, OIDC Core §3.1.3.3)",
            "content": {"application/json": {"schema": _TOKEN_RESPONSE}},
        },
        400: oauth_error(
            "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type or "
            "invalid_scope (RFC 6749 §5.2)"
        ),
        **client_authentication.CLIENT_AUTHENTICATION_ERRORS,
    },
    openapi_extra={
        "requestBody": client_authentication.client_authenticated_body(_TOKEN_PARAMETERS)
    },
)
async def token(request: Request) -> JSONResponse:
    service: TokenService = services(request).token_service
    try:
        form = await client_authentication.client_form(request)
        client = await client_authentication.authenticated_client(request, form, TOKEN_PATH)
        body = await service.refresh_grant.refresh_on_loop(client, form)
        if body is None:
            body = await asyncio.to_thread(service.token, client, form)
    except TokenError as exc:
        return client_authentication.token_error(exc)
    return JSONResponse(body, headers=dict(NO_STORE))


# The relying apps' busiest endpoint takes the request alone: Starlette's handler serves it.
serve_plainly(router, TOKEN_PATH)
