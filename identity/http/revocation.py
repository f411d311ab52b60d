"""Token revocation, ``POST /revoke`` (RFC 7009): a relying app revokes one of its access or
refresh tokens.

The client authenticates as at the token endpoint
(:mod:`identity.http.client_authentication`); a token revoked and a token unknown get the
same 200 (RFC 7009 §2.2); errors are RFC 6749 §5.2 JSON. Every answer is
``Cache-Control: no-store`` with ``Pragma: no-cache``; tokens never reach a log line.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from identity.errors import TokenError
from identity.http import client_authentication
from identity.oidc.endpoints import REVOCATION_PATH
from identity.oidc.revocation import Revocation
from identity.service.web.oauth_responses import NO_STORE
from identity.service.web.openapi import no_content, oauth_error, text_parameter
from identity.service.web.plain_routes import serve_plainly
from identity.service.web.state import services

__all__ = ["router"]

router = APIRouter(tags=["OpenID Connect"])


@router.post(
    REVOCATION_PATH,
    summary="Token revocation (RFC 7009)",
    response_class=Response,
    responses={
        200: no_content("revoked, or unknown: the same answer (RFC 7009 §2.2)"),
        400: oauth_error("invalid_request: no token parameter, or a parameter holds a NUL"),
        **client_authentication.CLIENT_AUTHENTICATION_ERRORS,
    },
    openapi_extra={
        "requestBody": client_authentication.client_authenticated_body(
            (
                ("token", True, text_parameter(8192, "the access or refresh token to revoke")),
                (
                    "token_type_hint",
                    False,
                    {"type": "string", "enum": ["access_token", "refresh_token"]},
                ),
            )
        )
    },
)
async def revoke(request: Request) -> Response:
    service: Revocation = services(request).revocation
    try:
        form = await client_authentication.client_form(request)
        client = await client_authentication.authenticated_client(request, form, REVOCATION_PATH)
        value = form.get("token")
        if not value:
            raise TokenError("invalid_request", "the token parameter is required")
        await asyncio.to_thread(service.revoke, client, value, form.get("token_type_hint"))
    except TokenError as exc:
        return client_authentication.token_error(exc)
    return Response(status_code=200, headers=dict(NO_STORE))


# Takes the request alone: Starlette's handler serves it.
serve_plainly(router, REVOCATION_PATH)
