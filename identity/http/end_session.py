"""The end-session endpoint, ``GET``/``POST /end_session`` (OpenID Connect RP-Initiated
Logout 1.0 §2), a thin adapter over :mod:`identity.oidc.logout`.

With an ``id_token_hint`` of the session's citizen, it ends the session, then 303 to a
registered ``post_logout_redirect_uri`` or a short signed-out text; otherwise 303 to the
confirmation page (``/end_session/confirm``, :mod:`identity.http.pages.logout`), and the
session lasts until the citizen confirms there. A bad hint, client or URI, or a parameter
repeated or holding a NUL, answers 400 ``application/problem+json`` and never redirects.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from identity.errors import AuthorizationError
from identity.http.front_channel import (
    add_get_and_post,
    authorization_problem,
    request_parameters,
    see_other,
)
from identity.http.session_cookie import clear_session_cookie
from identity.login.sessions import SESSION_COOKIE
from identity.oidc.authorization_request import MAX_STATE_CHARS
from identity.oidc.authorization_response import Redirect
from identity.oidc.logout import RpInitiatedLogout
from identity.oidc.request_parameters import split_repeated
from identity.service.web.oauth_responses import NO_STORE
from identity.service.web.openapi import Parameter, problem, redirect, text_parameter
from identity.service.web.state import services

__all__ = ["END_SESSION_PATH", "SIGNED_OUT", "router"]

router = APIRouter(tags=["OpenID Connect"])

END_SESSION_PATH = "/end_session"
SIGNED_OUT = "Anda telah keluar dari Jati.\nYou have been signed out of Jati.\n"


async def end_session(request: Request) -> Response:
    logout: RpInitiatedLogout = services(request).logout
    try:
        params, repeated = split_repeated(await request_parameters(request))
        if repeated:
            raise AuthorizationError(
                "invalid_request", "a parameter is repeated", redirectable=False
            )
        outcome = await asyncio.to_thread(
            logout.end_session, params, request.cookies.get(SESSION_COOKIE)
        )
    except AuthorizationError as exc:
        return authorization_problem(exc)
    response: Response
    if outcome.confirm is not None:  # RP-Initiated Logout §2: ask the citizen first
        return see_other(Redirect(outcome.confirm))
    if outcome.redirect is not None:
        response = see_other(Redirect(outcome.redirect))
    else:
        response = PlainTextResponse(SIGNED_OUT, headers=dict(NO_STORE))
    if outcome.ended:
        clear_session_cookie(response, request)
    return response


#: RP-Initiated Logout 1.0 §2 parameters: (name, required, schema).
_LOGOUT_PARAMETERS: tuple[Parameter, ...] = (
    ("id_token_hint", False, text_parameter(8192, "an ID token Jati issued to the app")),
    ("client_id", False, text_parameter(128, "the app, when no id_token_hint is sent")),
    ("post_logout_redirect_uri", False, text_parameter(2048, "one of the app's registered URIs")),
    ("state", False, text_parameter(MAX_STATE_CHARS, "returned to the app unchanged")),
    ("ui_locales", False, {"type": "string", "description": "not used: the page asks"}),
)
_LOGOUT_SUMMARY = "RP-Initiated Logout 1.0: end the citizen's session"
_LOGOUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "signed out, and no post_logout_redirect_uri to go to",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    303: redirect("to the app's post_logout_redirect_uri, or to the confirmation page"),
    400: problem(
        "an id_token_hint, client_id or post_logout_redirect_uri that is not valid, or a "
        "parameter repeated or holding a NUL: never redirected"
    ),
}
add_get_and_post(
    router,
    END_SESSION_PATH,
    end_session,
    summary=_LOGOUT_SUMMARY,
    form_summary=_LOGOUT_SUMMARY + ", the parameters as a form",
    responses=_LOGOUT_RESPONSES,
    parameters=_LOGOUT_PARAMETERS,
    form_required=False,
)
