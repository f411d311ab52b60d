"""The UserInfo endpoint, ``GET``/``POST /userinfo`` (OIDC Core 1.0 §5.3): ``sub`` and the
claims the citizen consented to release.

A bearer access token in the ``Authorization`` header (RFC 6750 §2.1), checked by
:meth:`identity.oidc.userinfo.Userinfo.claims`; 401/403 with
``WWW-Authenticate: Bearer`` (RFC 6750 §3). Every answer is ``Cache-Control: no-store``
with ``Pragma: no-cache``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from identity.errors import InsufficientScope, Unauthorized
from identity.http.bearer import bearer_token
from identity.oidc.userinfo import Userinfo
from identity.service.web.oauth_responses import NO_STORE, oauth_error_response
from identity.service.web.openapi import oauth_error
from identity.service.web.plain_routes import serve_plainly
from identity.service.web.state import services

__all__ = ["USERINFO_PATH", "router"]

router = APIRouter(tags=["OpenID Connect"])

USERINFO_PATH = "/userinfo"


async def userinfo(request: Request) -> JSONResponse:
    service: Userinfo = services(request).userinfo
    try:
        access_token = bearer_token(request)
    except Unauthorized:  # RFC 6750 §3.1: no error code when no token was sent
        return oauth_error_response(
            "invalid_token",
            status=401,
            headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="jati"'},
        )
    try:
        body = await asyncio.to_thread(service.claims, access_token)
    except InsufficientScope:
        return oauth_error_response(
            "insufficient_scope",
            status=403,
            headers={
                **NO_STORE,
                "WWW-Authenticate": 'Bearer realm="jati", error="insufficient_scope", '
                'scope="openid"',
            },
        )
    except Unauthorized:
        return oauth_error_response(
            "invalid_token",
            status=401,
            headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="jati", error="invalid_token"'},
        )
    return JSONResponse(body, headers=dict(NO_STORE))


_USERINFO_SUMMARY = "UserInfo endpoint (OIDC Core §5.3): sub and the consented claims"
_USERINFO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "sub and the claims the citizen consented to release",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["sub"],
                    "properties": {"sub": {"type": "string"}},
                }
            }
        },
    },
    401: oauth_error("no access token, or not a valid one (RFC 6750 §3.1; WWW-Authenticate)"),
    403: oauth_error("insufficient_scope: the token lacks openid (RFC 6750 §3.1)"),
}
for _method in ("GET", "POST"):
    router.add_api_route(
        USERINFO_PATH,
        userinfo,
        methods=[_method],
        operation_id=f"userinfo_{_method.lower()}",
        summary=_USERINFO_SUMMARY,
        responses=_USERINFO_RESPONSES,
    )

# Relying apps call it on every sign-in: Starlette's handler serves it.
serve_plainly(router, USERINFO_PATH)
