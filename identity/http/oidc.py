"""The OpenID Connect provider's endpoints (OIDC Core 1.0, RFC 6749, RFC 7636, RFC 7009,
RFC 9207, OIDC RP-Initiated Logout 1.0).

Thin adapters over the cores: :mod:`identity.oidc.authorize` (``/authorize``),
:mod:`identity.oidc.token_endpoint` (``/token``, ``/userinfo``, ``/revoke``) and
:mod:`identity.login.sessions`. The pages (login, consent) are built elsewhere on
:func:`current_session`, ``app.state.sessions`` and ``app.state.authorization_requests``.

- ``GET``/``POST /authorize``: an invalid client or redirect URI answers 400
  ``application/problem+json`` (with the RFC ``error`` code) and never redirects; every
  other outcome is a 303 (RFC 9110 §15.4.4): to the login page, to the consent screen, or
  to the app's redirect URI with ``code`` or ``error``, ``state`` and ``iss`` (RFC 9207).
- ``GET /authorize/resume?req=ID[&denied=1]``: where the pages send the browser back.
- ``POST /token`` (RFC 6749 §3.2), ``POST /revoke`` (RFC 7009): client-authenticated
  (``client_secret_basic``, ``client_secret_post`` or ``private_key_jwt``, the one the app
  registered: :mod:`identity.oidc.client_auth`); errors as RFC 6749 §5.2 JSON,
  ``invalid_client`` with 401 and ``WWW-Authenticate: Basic``. A secret check refused before
  its hash answers ``temporarily_unavailable`` with ``Retry-After``: 429 when the client id
  or the address is throttled (:mod:`identity.oidc.client_throttle`), 503 when the hashing pool
  is full (:mod:`identity.citizens.hashing_pool`).
- ``GET``/``POST /userinfo`` (OIDC Core §5.3): a bearer access token in the
  ``Authorization`` header; 401/403 with ``WWW-Authenticate: Bearer`` (RFC 6750 §3).
- ``GET``/``POST /end_session`` (RP-Initiated Logout 1.0): with an ``id_token_hint`` of the
  session's citizen, ends the session, then 303 to a registered ``post_logout_redirect_uri``
  or a short signed-out text; otherwise 303 to the confirmation page
  (``/end_session/confirm``, :mod:`identity.http.pages.logout`), and the session lasts
  until the citizen confirms there.

Every response that carries a code or a token is ``Cache-Control: no-store`` (RFC 6749
§5.1) with ``Pragma: no-cache``; codes and tokens never reach a log line (requests are
logged by route template).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from identity.errors import (
    AuthorizationError,
    InsufficientScope,
    TemporarilyUnavailable,
    TokenError,
    Unauthorized,
)
from identity.http.bearer import bearer_token
from identity.http.login import client_address
from identity.login.sessions import SESSION_COOKIE, Session, SessionService
from identity.oidc.authorize import (
    MAX_LOGIN_HINT_CHARS,
    MAX_MAX_AGE,
    MAX_NONCE_CHARS,
    MAX_SEALED_CHARS,
    MAX_STATE_CHARS,
    AuthorizationRequests,
    Redirect,
)
from identity.oidc.client_auth import ClientAuthenticator
from identity.oidc.clients import RelyingApp
from identity.oidc.logout import RpInitiatedLogout
from identity.oidc.token_endpoint import TokenService, single_values
from identity.service.web.input_guard import form_is_clean, urlencoded_holds_nul
from identity.service.web.openapi import (
    FORM,
    Parameter,
    form_body,
    no_content,
    oauth_error,
    problem,
    query_parameters,
    redirect,
    text_parameter,
)
from identity.service.web.plain_routes import serve_plainly
from identity.service.web.problems import problem_response

__all__ = [
    "AUTHORIZATION_PATH",
    "CLIENT_AUTHENTICATION",
    "CLIENT_AUTHENTICATION_ERRORS",
    "END_SESSION_PATH",
    "NO_STORE",
    "REVOCATION_PATH",
    "TOKEN_PATH",
    "USERINFO_PATH",
    "clear_session_cookie",
    "client_authenticated_body",
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


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def _parameters(request: Request) -> list[tuple[str, str]]:
    """The request's parameters: the query for GET, the form body for POST (OIDC Core
    §3.1.2.1); files are not parameters. A query holding a NUL never gets here
    (:mod:`identity.service.web.input_guard`); a form holding one is refused alike. A POST without
    a body has no parameters.

    Raises:
        AuthorizationError: ``invalid_request``, not redirected: a parameter holds a NUL,
            or the body is not a form.
    """
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type not in _FORM_TYPES:
            if await request.body():  # a body the endpoint cannot read is not "no parameters"
                raise AuthorizationError(
                    "invalid_request",
                    "send the parameters as a form (application/x-www-form-urlencoded)",
                    redirectable=False,
                )
            return []
        form = await request.form()
        if not form_is_clean(form):
            raise AuthorizationError(
                "invalid_request", "a parameter holds a NUL character", redirectable=False
            )
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return list(request.query_params.multi_items())


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
    requests: AuthorizationRequests = request.app.state.authorization_requests
    try:
        params = await _parameters(request)
        session = await current_session(request)
        redirect = await asyncio.to_thread(requests.authorize, params, session)
    except AuthorizationError as exc:
        return _authorization_problem(exc)
    return _see_other(redirect)


_AUTHORIZATION_SUMMARY = "Authorization endpoint (OIDC Core §3.1.2, RFC 6749 §4.1, PKCE S256)"


def _get_and_post(
    path: str,
    endpoint: Callable[..., Any],
    *,
    summary: str,
    form_summary: str,
    responses: dict[int | str, dict[str, Any]],
    parameters: tuple[Parameter, ...],
    status_code: int | None = None,
    form_required: bool = True,
) -> None:
    """One endpoint that takes its parameters in the query (GET) or as a form (POST), as two
    documented operations (``<name>_get``, ``<name>_post``) with the same answers."""
    name = endpoint.__name__
    common: dict[str, Any] = {"response_class": Response, "responses": responses}
    if status_code is not None:
        common["status_code"] = status_code
    router.add_api_route(
        path, endpoint, methods=["GET"], operation_id=f"{name}_get", summary=summary,
        openapi_extra={"parameters": query_parameters(parameters)}, **common,
    )  # fmt: skip
    router.add_api_route(
        path, endpoint, methods=["POST"], operation_id=f"{name}_post", summary=form_summary,
        openapi_extra={"requestBody": form_body(parameters, required=form_required)},
        **common,
    )  # fmt: skip


_get_and_post(
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
    (no Jati value holds one, and PostgreSQL text cannot: :mod:`identity.service.web.input_guard`).

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


#: How a client authenticates in the body (RFC 6749 §2.3.1 ``client_secret_post``, RFC 7523
#: §2.2 ``private_key_jwt``); ``client_secret_basic`` uses the Authorization header instead.
CLIENT_AUTHENTICATION: tuple[Parameter, ...] = (
    ("client_id", False, text_parameter(128, "client_secret_post, private_key_jwt")),
    ("client_secret", False, text_parameter(256, "client_secret_post")),
    (
        "client_assertion_type",
        False,
        {"type": "string", "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]},
    ),
    (
        "client_assertion",
        False,
        text_parameter(8192, "private_key_jwt: a signed JWT (RFC 7523 §3)"),
    ),
)


def _none_of(*names: str) -> dict[str, Any]:
    return {"not": {"anyOf": [{"required": [name]} for name in names]}}


#: RFC 6749 §2.3: exactly one way to authenticate: Basic (nothing in the body),
#: ``client_secret_post``, or ``private_key_jwt``; more than one is ``invalid_request``.
_ONE_METHOD: list[dict[str, Any]] = [
    _none_of("client_secret", "client_assertion", "client_assertion_type"),
    {"required": ["client_secret"], **_none_of("client_assertion", "client_assertion_type")},
    {
        "anyOf": [{"required": ["client_assertion"]}, {"required": ["client_assertion_type"]}],
        **_none_of("client_secret"),
    },
]


def client_authenticated_body(spec: tuple[Parameter, ...]) -> dict[str, Any]:
    """The form of a back-channel endpoint: ``spec`` and the client's authentication."""
    body = form_body((*spec, *CLIENT_AUTHENTICATION))
    body["content"][FORM]["schema"]["oneOf"] = _ONE_METHOD
    return body


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
#: What the OAuth back-channel endpoints answer to a client they could not authenticate,
#: and before trying (RFC 6749 §5.2; RFC 6585 §4).
CLIENT_AUTHENTICATION_ERRORS: dict[int | str, dict[str, Any]] = {
    401: oauth_error(
        "invalid_client: the client is unknown or its authentication failed, one opaque "
        "answer (WWW-Authenticate: Basic)"
    ),
    429: oauth_error(
        "temporarily_unavailable: too many failed authentications of this client id or "
        "from this address; nothing was checked",
        retry_after=True,
    ),
    503: oauth_error(
        "temporarily_unavailable: the hashing pool is full; nothing was checked",
        retry_after=True,
    ),
}
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
        **CLIENT_AUTHENTICATION_ERRORS,
    },
    openapi_extra={"requestBody": client_authenticated_body(_TOKEN_PARAMETERS)},
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


@router.post(
    REVOCATION_PATH,
    summary="Token revocation (RFC 7009)",
    response_class=Response,
    responses={
        200: no_content("revoked, or unknown: the same answer (RFC 7009 §2.2)"),
        400: oauth_error("invalid_request: no token parameter, or a parameter holds a NUL"),
        **CLIENT_AUTHENTICATION_ERRORS,
    },
    openapi_extra={
        "requestBody": client_authenticated_body(
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
_get_and_post(
    END_SESSION_PATH,
    end_session,
    summary=_LOGOUT_SUMMARY,
    form_summary=_LOGOUT_SUMMARY + ", the parameters as a form",
    responses=_LOGOUT_RESPONSES,
    parameters=_LOGOUT_PARAMETERS,
    form_required=False,
)


# The relying apps' endpoints take the request alone: Starlette's handler serves them.
serve_plainly(router, TOKEN_PATH, USERINFO_PATH, REVOCATION_PATH)
