"""The authorization endpoint (OIDC Core 1.0 §3.1.2, RFC 6749 §4.1, RFC 7636, RFC 9207).

A thin adapter over :mod:`identity.oidc.authorize`. The pages (login, consent) are built
elsewhere on :func:`identity.http.session_cookie.current_session`, ``Services.sessions``
and ``Services.authorization_requests``.

- ``GET``/``POST /authorize``: an invalid client or redirect URI answers 400
  ``application/problem+json`` (with the RFC ``error`` code) and never redirects; every
  other outcome is a 303 (RFC 9110 §15.4.4): to the login page, to the consent screen, or
  to the app's redirect URI with ``code`` or ``error``, ``state`` and ``iss`` (RFC 9207).
- ``GET /authorize/resume?req=ID[&denied=1]``: where the pages send the browser back.

Every response is ``Cache-Control: no-store`` (RFC 6749 §5.1) with ``Pragma: no-cache``;
codes never reach a log line (requests are logged by route template).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from identity.errors import AuthorizationError
from identity.http.front_channel import (
    add_get_and_post,
    authorization_problem,
    request_parameters,
    see_other,
)
from identity.http.session_cookie import current_session
from identity.oidc.authorization_request import (
    MAX_LOGIN_HINT_CHARS,
    MAX_MAX_AGE,
    MAX_NONCE_CHARS,
    MAX_STATE_CHARS,
)
from identity.oidc.authorize import AuthorizationRequests
from identity.oidc.sealed_request import MAX_SEALED_CHARS
from identity.service.web.openapi import Parameter, problem, redirect, text_parameter
from identity.service.web.state import services

__all__ = ["AUTHORIZATION_PATH", "router"]

router = APIRouter(tags=["OpenID Connect"])

AUTHORIZATION_PATH = "/authorize"

#: The authorization request's parameters (OIDC Core §3.1.2.1, RFC 7636 §4.3, OIDC Core
#: §5.5, §3.1.2.1 ``acr_values``): (name, required, schema). Once ``client_id`` and
#: ``redirect_uri`` name a registered app and URI, every other refusal is sent there.
_AUTHORIZATION_PARAMETERS: tuple[Parameter, ...] = (
    ("response_type", True, {"type": "string", "enum": ["code"]}),
    ("client_id", True, text_parameter(128, "the relying app's registered client id")),
    (
        "redirect_uri",
        True,
        text_parameter(2048, "one of the app's registered redirect URIs, exactly"),
    ),
    ("scope", True, text_parameter(512, "space-separated scopes; openid is required")),
    ("code_challenge", True, {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}),
    ("code_challenge_method", True, {"type": "string", "enum": ["S256"]}),
    ("state", False, text_parameter(MAX_STATE_CHARS, "returned to the app unchanged")),
    ("nonce", False, text_parameter(MAX_NONCE_CHARS, "put in the ID token")),
    ("response_mode", False, {"type": "string", "enum": ["query"]}),
    ("prompt", False, {"type": "string", "enum": ["none", "login", "consent", "login consent"]}),
    ("max_age", False, {"type": "integer", "minimum": 0, "maximum": MAX_MAX_AGE}),
    ("ui_locales", False, text_parameter(256, "space-separated BCP 47 tags; id and en are served")),
    (
        "login_hint",
        False,
        text_parameter(MAX_LOGIN_HINT_CHARS, "the citizen's NIK, to fill the form"),
    ),
    (
        "acr_values",
        False,
        text_parameter(256, "space-separated acr values, in order of preference"),
    ),
    ("claims", False, text_parameter(2048, "the claims request (OIDC Core §5.5), as JSON")),
    ("purpose", False, text_parameter(512, "space-separated purpose codes to ask consent for")),
)
_AUTHORIZATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: redirect(
        "to the login page, the consent screen, or the app's redirect URI with code "
        "or error (RFC 6749 §4.1.2, §4.1.2.1), state and iss (RFC 9207)"
    ),
    400: problem(
        "the client or redirect URI is missing, unknown or unregistered, a parameter is "
        "repeated, too long or holds a NUL: shown to the citizen, never redirected "
        "(RFC 6749 §4.1.2.1); the RFC code is in error"
    ),
}


async def authorize(request: Request) -> Response:
    requests: AuthorizationRequests = services(request).authorization_requests
    try:
        params = await request_parameters(request)
        session = await current_session(request)
        redirect = await asyncio.to_thread(requests.authorize, params, session)
    except AuthorizationError as exc:
        return authorization_problem(exc)
    return see_other(redirect)


_AUTHORIZATION_SUMMARY = "Authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, PKCE S256)"

add_get_and_post(
    router,
    AUTHORIZATION_PATH,
    authorize,
    summary=_AUTHORIZATION_SUMMARY,
    form_summary=_AUTHORIZATION_SUMMARY + ", the parameters as a form (OIDC Core §3.1.2.1)",
    responses=_AUTHORIZATION_RESPONSES,
    parameters=_AUTHORIZATION_PARAMETERS,
    status_code=303,
)


@router.get(
    "/authorize/resume",
    summary="Continue an authorization request after login or consent",
    response_class=Response,
    status_code=303,
    responses={
        303: redirect("to the login page, the consent screen or the app"),
        400: problem("the request is unknown, expired or answered already; never redirected"),
    },
)
async def resume(
    request: Request,
    req: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_SEALED_CHARS,
            description="the sealed authorization request the pages were given",
        ),
    ],
    denied: Annotated[
        str | None, Query(max_length=8, description="1: the citizen declined")
    ] = None,
) -> Response:
    session = await current_session(request)
    requests: AuthorizationRequests = services(request).authorization_requests
    try:
        redirect = await asyncio.to_thread(
            requests.resume, req, session, denied=denied not in (None, "", "0")
        )
    except AuthorizationError as exc:
        return authorization_problem(exc)
    return see_other(redirect)
