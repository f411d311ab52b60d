"""Token introspection (RFC 7662) over HTTP: the request read, the client authenticated,
the answer sent; what is active, and what is said of it, is decided by the core
(:mod:`identity.oidc.introspection`).

``POST /introspect`` (``application/x-www-form-urlencoded``: ``token``, optional
``token_type_hint``), the caller authenticated as a registered client with the method it
registered (``client_secret_basic`` or ``client_secret_post``, RFC 6749 §2.3.1, or
``private_key_jwt``, RFC 7523: :mod:`identity.oidc.client_auth`). Responses are
``Cache-Control: no-store`` (§2.2 is silent; the token state may change any time).

Client authentication failures answer 401 ``invalid_client`` with ``WWW-Authenticate:
Basic`` (RFC 6749 §5.2); a missing ``token`` parameter, or a parameter holding a NUL
(:mod:`identity.service.web.input_guard`), answers 400 ``invalid_request``. A secret check refused
before its hash answers ``temporarily_unavailable`` with ``Retry-After``, 429 or 503, as at
the token endpoint (:mod:`identity.http.client_authentication`).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.errors import TokenError
from identity.http.client_authentication import (
    CLIENT_AUTHENTICATION_ERRORS,
    authenticated_client,
    client_authenticated_body,
    token_error,
)
from identity.oidc.access_tokens import MAX_TOKEN_CHARS
from identity.oidc.endpoints import INTROSPECTION_PATH
from identity.oidc.introspection import Introspector
from identity.service.web.input_guard import form_is_clean
from identity.service.web.oauth_responses import NO_STORE
from identity.service.web.openapi import oauth_error, text_parameter
from identity.service.web.plain_routes import serve_plainly
from identity.service.web.state import services

router = APIRouter(tags=["OpenID Connect"])


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
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        if not form_is_clean(form):
            raise TokenError("invalid_request", "a parameter holds a NUL character")
        app = await authenticated_client(request, fields, INTROSPECTION_PATH)
        token = form.get("token")
        if not isinstance(token, str) or not token:
            raise TokenError("invalid_request", "the token parameter is required")
    except TokenError as exc:
        # RFC 6749 §5.2: one opaque invalid_client, which introspection answers without a
        # description (the token endpoint and revocation give one).
        return token_error(TokenError("invalid_client") if exc.error == "invalid_client" else exc)
    introspector: Introspector = services(request).introspector
    answer = await asyncio.to_thread(introspector.introspect, token, app.client_id)
    return JSONResponse(dict(answer), headers=NO_STORE)


serve_plainly(router, INTROSPECTION_PATH)  # takes the request alone: Starlette's handler serves it
