"""The OpenID Connect provider's endpoints (OIDC Core 1.0, RFC 6749, RFC 7636, RFC 7009,
RFC 9207, OIDC RP-Initiated Logout 1.0).

Thin adapters over the cores: :mod:`identity.authorization` (``/authorize``),
:mod:`identity.token_endpoint` (``/token``, ``/userinfo``, ``/revoke``) and
:mod:`identity.sessions`. The pages (login, consent) are built elsewhere on
:func:`current_session`, ``app.state.sessions`` and ``app.state.authorization_requests``.

- ``GET``/``POST /authorize``: an invalid client or redirect URI answers 400
  ``application/problem+json`` (with the RFC ``error`` code) and never redirects; every
  other outcome is a 303 (RFC 9110 §15.4.4): to the login page, to the consent screen, or
  to the app's redirect URI with ``code`` or ``error``, ``state`` and ``iss`` (RFC 9207).
- ``GET /authorize/resume?req=ID[&denied=1]``: where the pages send the browser back.
- ``POST /token`` (RFC 6749 §3.2), ``POST /revoke`` (RFC 7009): client-authenticated
  (``client_secret_basic``, ``client_secret_post`` or ``private_key_jwt``, the one the app
  registered: :mod:`identity.client_assertions`); errors as RFC 6749 §5.2 JSON,
  ``invalid_client`` with 401 and ``WWW-Authenticate: Basic``. A secret check refused before
  its hash answers ``temporarily_unavailable`` with ``Retry-After``: 429 when the client id
  or the address is throttled (:mod:`identity.client_throttle`), 503 when the hashing pool
  is full (:mod:`identity.hashing_pool`).
- ``GET``/``POST /userinfo`` (OIDC Core §5.3): a bearer access token in the
  ``Authorization`` header; 401/403 with ``WWW-Authenticate: Bearer`` (RFC 6750 §3).
- ``GET``/``POST /end_session`` (RP-Initiated Logout 1.0): with an ``id_token_hint`` of the
  session's citizen, ends the session, then 303 to a registered ``post_logout_redirect_uri``
  or a short signed-out text; otherwise 303 to the confirmation page
  (``/end_session/confirm``, :mod:`identity.http.pages_logout`), and the session lasts
  until the citizen confirms there.

Every response that carries a code or a token is ``Cache-Control: no-store`` (RFC 6749
§5.1) with ``Pragma: no-cache``; codes and tokens never reach a log line (requests are
logged by route template).
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from identity.authorization import AuthorizationRequests, Redirect
from identity.client_assertions import ClientAuthenticator
from identity.clients import RelyingApp
from identity.errors import (
    AuthorizationError,
    InsufficientScope,
    TemporarilyUnavailable,
    TokenError,
    Unauthorized,
)
from identity.http.bearer import bearer_token
from identity.http.input_guard import form_is_clean, urlencoded_holds_nul
from identity.http.login import client_address
from identity.http.plain_routes import serve_plainly
from identity.http.problems import problem_response
from identity.logout import RpInitiatedLogout
from identity.sessions import SESSION_COOKIE, Session, SessionService
from identity.token_endpoint import TokenService, single_values

__all__ = [
    "AUTHORIZATION_PATH",
    "END_SESSION_PATH",
    "NO_STORE",
    "REVOCATION_PATH",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "clear_session_cookie",
    "current_session",
    "router",
    "set_session_cookie",
]

log = logging.getLogger(__name__)
router = APIRouter(tags=["OpenID Connect"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTHORIZATION_PATH = "/authorize"
TOKEN_PATH = "/token"  # noqa: S105 - a path, not a secret
USERINFO_PATH = "/userinfo"
REVOCATION_PATH = "/revoke"
END_SESSION_PATH = "/end_session"


# ------------------------------------------------------------------ sessions


async def current_session(request: Request) -> Session | None:
    """The citizen's live session named by the request's ``jati_session`` cookie, or None.

    Reads the database off the event loop: ``session = await current_session(request)``.
    """
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    sessions: SessionService = request.app.state.sessions
    return await asyncio.to_thread(sessions.get, value)


def set_session_cookie(response: Response, request: Request, cookie_value: str) -> None:
    """Set the session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` under https,
    ``Path=/``, ``Max-Age`` = the session lifetime) on ``response``."""
    sessions: SessionService = request.app.state.sessions
    response.set_cookie(value=cookie_value, **sessions.cookie_attributes())


def clear_session_cookie(response: Response, request: Request) -> None:
    """Remove the session cookie from the browser (same attributes, expired)."""
    sessions: SessionService = request.app.state.sessions
    attributes = sessions.cookie_attributes()
    response.delete_cookie(
        attributes["key"],
        path=attributes["path"],
        secure=attributes["secure"],
        httponly=attributes["httponly"],
        samesite=attributes["samesite"],
    )


# ------------------------------------------------------------------ authorization


def _see_other(redirect: Redirect) -> RedirectResponse:
    return RedirectResponse(
        redirect.location,
        status_code=303,
        headers={**NO_STORE, "Referrer-Policy": "no-referrer"},
    )


def _authorization_problem(exc: AuthorizationError) -> Response:
    """An error that must not be sent to any redirect URI (RFC 6749 §4.1.2.1): shown to the
    user as a problem document carrying the RFC code."""
    return problem_response(
        400,
        "Invalid authorization request",
        code=exc.error,
        detail=exc.description or None,
        headers=dict(NO_STORE),
        extra={"error": exc.error, "error_description": exc.description},
    )


async def _parameters(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query for GET, the form body for POST (OIDC Core
    §3.1.2.1); files are not parameters. A query holding a NUL never gets here
    (:mod:`identity.http.input_guard`); a form holding one is refused alike.

    Raises:
        AuthorizationError: ``invalid_request``, not redirected: a parameter holds a NUL.
    """
    if request.method == "POST":
        form = await request.form()
        if not form_is_clean(form):
            raise AuthorizationError(
                "invalid_request", "a parameter holds a NUL character", redirectable=False
            )
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return list(request.query_params.multi_items())


@router.api_route(
    "/authorize",
    methods=["GET", "POST"],
    summary="Authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, PKCE S256)",
    response_class=Response,
    responses={303: {"description": "to the login page, the consent screen or the app"}},
)
async def authorize(request: Request) -> Response:
    requests: AuthorizationRequests = request.app.state.authorization_requests
    try:
        params = await _parameters(request)
        session = await current_session(request)
        redirect = await asyncio.to_thread(requests.authorize, params, session)
    except AuthorizationError as exc:
        return _authorization_problem(exc)
    return _see_other(redirect)


@router.get(
    "/authorize/resume",
    summary="Continue an authorization request after login or consent",
    response_class=Response,
    responses={303: {"description": "to the login page, the consent screen or the app"}},
)
async def resume(request: Request, req: str = "", denied: str | None = None) -> Response:
    session = await current_session(request)
    requests: AuthorizationRequests = request.app.state.authorization_requests
    try:
        redirect = await asyncio.to_thread(
            requests.resume, req, session, denied=denied not in (None, "", "0")
        )
    except AuthorizationError as exc:
        return _authorization_problem(exc)
    return _see_other(redirect)


# ------------------------------------------------------------------ token endpoint


def _token_error(exc: TokenError) -> JSONResponse:
    """RFC 6749 §5.2: JSON ``error`` and ``error_description``; ``invalid_client`` as 401
    with the authentication scheme Jati supports."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jati"'
    if isinstance(exc, TemporarilyUnavailable):  # RFC 6585 §4 / RFC 9110 §15.6.4, §10.2.3
        headers["Retry-After"] = str(exc.retry_after)
    body = {"error": exc.error}
    if exc.description:
        body["error_description"] = exc.description
    return JSONResponse(body, status_code=exc.status, headers=headers)


_URLENCODED = "application/x-www-form-urlencoded"
#: As many parameters as Starlette's form parser accepts.
_MAX_FORM_FIELDS = 1000
_NUL_PARAMETER = "a parameter holds a NUL character"


async def _form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body (RFC 6749 §3.2), each parameter once.

    That media type is parsed here directly (as Starlette's form parser does: ``+`` is a
    space, percent-escapes are UTF-8), the token endpoint being the busiest route; any
    other body goes through Starlette's parser, as before. A body holding a NUL is refused
    (no Jati value holds one, and PostgreSQL text cannot: :mod:`identity.http.input_guard`).

    Raises:
        TokenError: ``invalid_request``: too many parameters, or one holds a NUL.
    """
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == _URLENCODED:
        body = await request.body()
        if urlencoded_holds_nul(body):
            raise TokenError("invalid_request", _NUL_PARAMETER)
        try:
            pairs = parse_qsl(
                body.decode("latin-1"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS
            )
        except ValueError:
            raise TokenError("invalid_request", "too many parameters") from None
        return single_values(pairs)
    form = await request.form()
    if not form_is_clean(form):
        raise TokenError("invalid_request", _NUL_PARAMETER)
    return single_values([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


async def _client(request: Request, form: dict[str, str], path: str) -> RelyingApp:
    authenticator: ClientAuthenticator = request.app.state.client_authenticator
    issuer: str = request.app.state.issuer
    return await authenticator.authenticate(
        request.headers.get("authorization"),
        form,
        endpoint=issuer + path,
        address=client_address(request),
    )


@router.post(
    "/token",
    summary="Token endpoint (RFC 6749 §3.2: authorization_code, refresh_token, client_credentials)",
)
async def token(request: Request) -> JSONResponse:
    service: TokenService = request.app.state.token_service
    try:
        form = await _form(request)
        client = await _client(request, form, TOKEN_PATH)
        body = await service.refresh_on_loop(client, form)
        if body is None:
            body = await asyncio.to_thread(service.token, client, form)
    except TokenError as exc:
        return _token_error(exc)
    return JSONResponse(body, headers=dict(NO_STORE))


@router.api_route(
    "/userinfo",
    methods=["GET", "POST"],
    summary="UserInfo endpoint (OIDC Core §5.3): sub and the consented claims",
)
async def userinfo(request: Request) -> JSONResponse:
    service: TokenService = request.app.state.token_service
    try:
        access_token = bearer_token(request)
    except Unauthorized:  # RFC 6750 §3.1: no error code when no token was sent
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="jati"'},
        )
    try:
        body = await asyncio.to_thread(service.userinfo, access_token)
    except InsufficientScope:
        return JSONResponse(
            {"error": "insufficient_scope"},
            status_code=403,
            headers={
                **NO_STORE,
                "WWW-Authenticate": 'Bearer realm="jati", error="insufficient_scope", '
                'scope="openid"',
            },
        )
    except Unauthorized:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="jati", error="invalid_token"'},
        )
    return JSONResponse(body, headers=dict(NO_STORE))


@router.post("/revoke", summary="Token revocation (RFC 7009)")
async def revoke(request: Request) -> Response:
    service: TokenService = request.app.state.token_service
    try:
        form = await _form(request)
        client = await _client(request, form, REVOCATION_PATH)
        value = form.get("token")
        if not value:
            raise TokenError("invalid_request", "the token parameter is required")
        await asyncio.to_thread(service.revoke, client, value, form.get("token_type_hint"))
    except TokenError as exc:
        return _token_error(exc)
    return Response(status_code=200, headers=dict(NO_STORE))


# ------------------------------------------------------------------ logout


SIGNED_OUT = "Anda telah keluar dari Jati.\nYou have been signed out of Jati.\n"


@router.api_route(
    "/end_session",
    methods=["GET", "POST"],
    summary="RP-Initiated Logout 1.0: end the citizen's session",
    response_class=Response,
    responses={
        303: {"description": "to the app's post_logout_redirect_uri, or to the confirmation page"}
    },
)
async def end_session(request: Request) -> Response:
    logout: RpInitiatedLogout = request.app.state.logout
    try:
        pairs = await _parameters(request)
        params = dict(pairs)
        if len(params) != len(pairs):
            raise AuthorizationError(
                "invalid_request", "a parameter is repeated", redirectable=False
            )
        outcome = await asyncio.to_thread(
            logout.end_session, params, request.cookies.get(SESSION_COOKIE)
        )
    except AuthorizationError as exc:
        return _authorization_problem(exc)
    response: Response
    if outcome.confirm is not None:  # RP-Initiated Logout §2: ask the citizen first
        return _see_other(Redirect(outcome.confirm))
    if outcome.redirect is not None:
        response = _see_other(Redirect(outcome.redirect))
    else:
        response = PlainTextResponse(SIGNED_OUT, headers=dict(NO_STORE))
    if outcome.ended:
        clear_session_cookie(response, request)
    return response


# The relying apps' endpoints take the request alone: Starlette's handler serves them.
serve_plainly(router, TOKEN_PATH, USERINFO_PATH, REVOCATION_PATH)
