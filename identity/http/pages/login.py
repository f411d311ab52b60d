"""The login page, its second-factor step and logout (OIDC Core §3.1.2.3: the authorization
server authenticates the end-user).

- ``GET /login[?req=ID]``: NIK and password. ``req`` is a pending authorization request,
  sealed (:class:`identity.oidc.authorize.RequestSealer`: nothing is stored for it); its app
  is named on the page and its ``ui_locales`` choose the language; a ``login_hint`` that is
  a NIK fills the NIK field.
- ``POST /login[?req=ID]`` (a form; a JSON body goes to the API of
  :mod:`identity.http.login`): CSRF-checked, then the password is checked under the
  database-shared throttle (:meth:`identity.citizens.service.CitizenService.authenticate_async`).
  An unknown NIK and a wrong password get the same page; too many failures answer 429 with
  ``Retry-After`` (RFC 6585 §4). A correct password sets the device cookie
  (:mod:`identity.login.devices`), with which this browser passes a locked shared address
  for that account. On success a **new** session is created and any session the
  browser held is ended first (session fixation, OWASP Session Management Cheat Sheet),
  then 303 to ``/authorize/resume?req=ID`` (or ``/account``).
- With a second factor enrolled (:mod:`identity.login.totp`), the password alone opens no session:
  a short-lived pending-login cookie (``jati_login``: AES-256-GCM under a key derived from
  the master key, 5 minutes, ``Path=/login``, ``HttpOnly``, ``SameSite=Strict``, bound to
  the pending request's id) carries the citizen to ``/login/otp``, whose 6-digit code
  completes the login with ``amr`` ``["pwd", "otp"]`` (RFC 8176 §2) and ``acr``
  ``urn:jati:acr:mfa``; otherwise the session has ``amr`` ``["pwd"]`` and ``acr``
  ``urn:jati:acr:password``.
- A step-up (OIDC Core §5.5.1.1): when an app asks for the multi-factor ``acr`` and the
  signed-in citizen's session has only the password (signed in before enrolling),
  ``/authorize`` sends the browser to ``/login/otp?req=ID``. Without a pending login there,
  the live session stands for the password step: the page binds a pending login to the
  session's citizen and the request, and the code then starts a new multi-factor session
  (the old one ends) exactly as above. Nothing changes until a code is right.
- ``POST /logout``: CSRF-checked; ends the browser's session and removes its cookie.

Neither the NIK nor the password is ever logged, echoed in a page or kept; a failed login
page shows an empty form.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.citizens.service import CitizenService
from identity.errors import Overloaded, Throttled, Unauthorized
from identity.http.login import MAX_NIK_CHARS, client_address, set_device_cookie
from identity.http.oidc import clear_session_cookie, set_session_cookie
from identity.http.pages.common import (
    PageContext,
    csrf_ok,
    csrf_refused,
    form_text,
    message_page,
    origin_of,
    page_context,
    read_form,
    render,
    see_other,
    session_of,
    signed_out_page,
)
from identity.keys.derived_keys import derive_key
from identity.login.devices import DEVICE_COOKIE
from identity.login.sessions import SESSION_COOKIE, SessionService
from identity.login.totp import InvalidCode, NoEnrolment, SecondFactor
from identity.oidc.authorize import MAX_SEALED_CHARS, AuthorizationRequests, PendingAuthorization
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD
from identity.service.web.openapi import html_page, page_or_problem, query_parameters, redirect

__all__ = [
    "PENDING_LOGIN_COOKIE",
    "FormPostRoute",
    "PendingLogin",
    "PendingLogins",
    "router",
]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PENDING_LOGIN_COOKIE = "jati_login"
PENDING_LOGIN_LIFETIME = timedelta(minutes=5)
PENDING_LOGIN_KEY = b"jati/identity/pending-login-key/v1"
_PENDING_AD = b"jati-pending-login/v1"
_NIK_HINT = re.compile(r"[0-9]{16}")
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class FormPostRoute(APIRoute):
    """A page's POST route that matches only form bodies, so that ``POST /login`` with JSON
    still reaches the API route of :mod:`identity.http.login` registered after it."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.FULL and scope.get("method") == "POST":
            content_type = next(
                (v for k, v in scope.get("headers", ()) if k == b"content-type"), b""
            )
            if content_type.split(b";", 1)[0].strip().lower() not in _FORM_TYPES:
                return Match.NONE, {}
        return match, child


# ---------------------------------------------------------------- pending logins


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A password checked, a second factor still to come."""

    citizen_id: str
    auth_time: datetime
    request_id: str | None
    expires_at: datetime


class PendingLogins:
    """Seals and opens the ``jati_login`` cookie (AES-256-GCM: confidential and
    tamper-evident; the citizen id inside is never visible to the browser)."""

    __slots__ = ("_aead", "clock", "secure")

    def __init__(self, master_key: bytes, *, clock: Callable[[], datetime], secure: bool) -> None:
        self._aead = AESGCM(derive_key(master_key, PENDING_LOGIN_KEY))
        self.clock = clock
        self.secure = secure

    def __repr__(self) -> str:
        return "PendingLogins(<key hidden>)"

    def seal(self, citizen_id: str, auth_time: datetime, request_id: str | None) -> str:
        expires = self.clock() + PENDING_LOGIN_LIFETIME
        body = json.dumps(
            {
                "c": citizen_id,
                "t": auth_time.timestamp(),
                "r": request_id or "",
                "e": expires.timestamp(),
            },
            separators=(",", ":"),
        ).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, body, _PENDING_AD)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, value: str | None) -> PendingLogin | None:
        """The pending login, or None (absent, altered, expired)."""
        if not value or len(value) > 512:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            body = json.loads(self._aead.decrypt(raw[:12], raw[12:], _PENDING_AD))
            pending = PendingLogin(
                citizen_id=str(body["c"]),
                auth_time=datetime.fromtimestamp(float(body["t"]), UTC),
                request_id=str(body["r"]) or None,
                expires_at=datetime.fromtimestamp(float(body["e"]), UTC),
            )
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None
        return pending if self.clock() < pending.expires_at else None

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            PENDING_LOGIN_COOKIE,
            value,
            max_age=int(PENDING_LOGIN_LIFETIME.total_seconds()),
            path="/login",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            PENDING_LOGIN_COOKIE, path="/login", secure=self.secure, httponly=True,
            samesite="strict",
        )  # fmt: skip


# ---------------------------------------------------------------- helpers


def _requests(request: Request) -> AuthorizationRequests:
    requests: AuthorizationRequests = request.app.state.authorization_requests
    return requests


def _request_id(request: Request) -> str | None:
    return request.query_params.get("req") or None


async def _pending(request: Request) -> tuple[str | None, PendingAuthorization | None, bool]:
    """(``req``, pending request, ok): ok is False for a ``req`` that is unknown, expired
    or answered already."""
    request_id = _request_id(request)
    if request_id is None:
        return None, None, True
    pending = await asyncio.to_thread(_requests(request).get, request_id)
    return request_id, pending, pending is not None


def _bound_id(pending: PendingAuthorization | None) -> str | None:
    """What the pending-login cookie is bound to: the request's id (short, unlike the
    sealed ``req``)."""
    return pending.id if pending is not None else None


def request_unknown(ctx: PageContext) -> Response:
    """400: the sign-in request is unknown or expired (nothing to resume)."""
    return message_page(
        ctx, title=ctx.t("request_unknown.title"), body=ctx.t("request_unknown.body"), status=400
    )


def throttled_page(ctx: PageContext, exc: Throttled) -> Response:
    """429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3); 503 when the hashing pool
    was full (:class:`~identity.errors.Overloaded`)."""
    return message_page(
        ctx,
        title=ctx.t("throttled.title"),
        body=ctx.t("throttled.body", seconds=exc.retry_after),
        status=503 if isinstance(exc, Overloaded) else 429,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _targets(pending: PendingAuthorization | None) -> tuple[str, ...]:
    origin = origin_of(pending.redirect_uri) if pending is not None else None
    return (origin,) if origin else ()


def _query(request_id: str | None) -> str:
    return f"?{urlencode({'req': request_id})}" if request_id else ""


def _login_page(
    ctx: PageContext,
    request_id: str | None,
    pending: PendingAuthorization | None,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    hint = pending.login_hint if pending is not None else None
    return render(
        ctx,
        "login.html",
        title=ctx.t("login.title"),
        status=status,
        form_targets=_targets(pending),
        action=f"/login{_query(request_id)}",
        app_name=pending.client.name if pending is not None else None,
        nik_hint=hint if hint and _NIK_HINT.fullmatch(hint) and error is None else "",
        error=error,
        notice=notice,
    )


async def start_session(
    request: Request,
    ctx: PageContext,
    citizen_id: str,
    *,
    auth_time: datetime,
    amr: Sequence[str],
    acr: str,
    request_id: str | None,
) -> Response:
    """End the browser's previous session, start a new one, set its cookie and go on."""
    sessions: SessionService = request.app.state.sessions
    previous = request.cookies.get(SESSION_COOKIE)

    def run() -> str:
        sessions.end(previous)  # a fresh value for every login (session fixation)
        cookie_value, _session = sessions.create(citizen_id, auth_time=auth_time, amr=amr, acr=acr)
        return cookie_value

    cookie_value = await asyncio.to_thread(run)
    target = _requests(request).resume_url(request_id) if request_id else "/account"
    response = see_other(ctx, target)
    set_session_cookie(response, request, cookie_value)
    return response


# ---------------------------------------------------------------- routes


#: ``GET /login``, a page hidden from the document like every page, shares its path with the
#: API's ``POST /login`` (:mod:`identity.http.login`): it is documented, so that the
#: document names every method a 405's ``Allow`` lists at ``/login``.
LOGIN_PAGE_OPERATION: dict[str, Any] = {
    "tags": ["citizens"],
    "summary": "The login page (HTML; the JSON credential check is POST /login)",
    "operationId": "login_page",
    "parameters": query_parameters(
        (
            (
                "req",
                False,
                {
                    "type": "string",
                    "maxLength": MAX_SEALED_CHARS,
                    "description": "the sealed authorization request (empty: none)",
                },
            ),
            ("lang", False, {"type": "string", "description": "id or en; any other is ignored"}),
        )
    ),
    "responses": {
        "200": html_page("the login form"),
        "303": redirect("already signed in, and no authorization request: to /account"),
        "400": page_or_problem(
            "the authorization request is unknown or has expired; or a parameter holds a NUL"
        ),
    },
}


@router.get("/login")
async def login_page(request: Request) -> Response:
    request_id, pending, ok = await _pending(request)
    ctx = page_context(request, ui_locales=pending.ui_locales if pending else ())
    if not ok:
        return request_unknown(ctx)
    if request_id is None and await session_of(request) is not None:
        return see_other(ctx, "/account")
    return _login_page(ctx, request_id, pending)


async def login_submit(request: Request) -> Response:
    """``POST /login`` with a form (see the module docstring)."""
    form = await read_form(request)
    request_id, pending, ok = await _pending(request)
    ctx = page_context(request, form=form, ui_locales=pending.ui_locales if pending else ())
    if not csrf_ok(request, form):
        return csrf_refused(ctx)
    assert form is not None
    if not ok:
        return request_unknown(ctx)
    nik = form_text(form, "nik")
    password = form_text(form, "password")
    if (
        not nik
        or not password
        or len(nik) > MAX_NIK_CHARS
        or len(password.encode("utf-8")) > MAX_PASSWORD_BYTES
    ):
        return _login_page(ctx, request_id, pending, status=400, error=ctx.t("login.missing"))
    citizens: CitizenService = request.app.state.citizens
    try:
        result = await citizens.authenticate_async(
            nik,
            password,
            address=client_address(request),
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except Unauthorized:
        return _login_page(ctx, request_id, pending, status=400, error=ctx.t("login.failed"))
    second_factor: SecondFactor = request.app.state.second_factor
    if await asyncio.to_thread(second_factor.is_enabled, result.citizen_id):
        pending_logins: PendingLogins = request.app.state.pending_logins
        response = see_other(ctx, f"/login/otp{_query(request_id)}")
        pending_logins.set_cookie(
            response, pending_logins.seal(result.citizen_id, result.auth_time, _bound_id(pending))
        )
        set_device_cookie(response, request, result.device)
        return response
    response = await start_session(
        request, ctx, result.citizen_id,
        auth_time=result.auth_time, amr=("pwd",), acr=ACR_PASSWORD, request_id=request_id,
    )  # fmt: skip
    set_device_cookie(response, request, result.device)
    return response


router.add_api_route(
    "/login",
    login_submit,
    methods=["POST"],
    route_class_override=FormPostRoute,
    include_in_schema=False,
    response_class=Response,
)


def _otp_page(
    ctx: PageContext,
    request_id: str | None,
    pending: PendingAuthorization | None,
    *,
    status: int = 200,
    error: str | None = None,
    step_up_app: str | None = None,
) -> Response:
    return render(
        ctx,
        "otp.html",
        title=ctx.t("otp.title"),
        status=status,
        form_targets=_targets(pending),
        action=f"/login/otp{_query(request_id)}",
        error=error,
        step_up_app=step_up_app,
    )


def _otp_expired(ctx: PageContext, request_id: str | None, status: int = 400) -> Response:
    return message_page(
        ctx,
        title=ctx.t("otp.title"),
        body=ctx.t("otp.expired"),
        status=status,
        links=[(f"/login{_query(request_id)}", ctx.t("nav.login"))],
    )


@router.get("/login/otp")
async def otp_page(request: Request) -> Response:
    request_id, pending, ok = await _pending(request)
    ctx = page_context(request, ui_locales=pending.ui_locales if pending else ())
    if not ok:
        return request_unknown(ctx)
    pending_logins: PendingLogins = request.app.state.pending_logins
    login = pending_logins.open(request.cookies.get(PENDING_LOGIN_COOKIE))
    if login is None or login.request_id != _bound_id(pending):
        step_up = await _step_up(request, pending)
        if step_up is None:
            return _otp_expired(ctx, request_id)
        assert pending is not None
        response = _otp_page(ctx, request_id, pending, step_up_app=pending.client.name)
        pending_logins.set_cookie(response, step_up)
        return response
    return _otp_page(ctx, request_id, pending)


async def _step_up(request: Request, pending: PendingAuthorization | None) -> str | None:
    """A sealed pending login for a step-up (see the module docstring), or None: no
    authorization request, no live session, a session with the second factor already, or
    a citizen without one."""
    if pending is None:
        return None
    session = await session_of(request)
    if session is None or session.acr == ACR_MULTI_FACTOR:
        return None
    second_factor: SecondFactor = request.app.state.second_factor
    if not await asyncio.to_thread(second_factor.is_enabled, session.citizen_id):
        return None
    pending_logins: PendingLogins = request.app.state.pending_logins
    return pending_logins.seal(session.citizen_id, session.auth_time, pending.id)


@router.post("/login/otp")
async def otp_submit(request: Request) -> Response:
    form = await read_form(request)
    request_id, pending, ok = await _pending(request)
    ctx = page_context(request, form=form, ui_locales=pending.ui_locales if pending else ())
    if not csrf_ok(request, form):
        return csrf_refused(ctx)
    assert form is not None
    if not ok:
        return request_unknown(ctx)
    pending_logins: PendingLogins = request.app.state.pending_logins
    login = pending_logins.open(request.cookies.get(PENDING_LOGIN_COOKIE))
    if login is None or login.request_id != _bound_id(pending):
        return _otp_expired(ctx, request_id)
    code = form_text(form, "code") or ""
    second_factor: SecondFactor = request.app.state.second_factor
    try:
        await asyncio.to_thread(second_factor.verify, login.citizen_id, code)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except InvalidCode:
        return _otp_page(ctx, request_id, pending, status=400, error=ctx.t("otp.failed"))
    except NoEnrolment:  # turned off meanwhile: sign in again
        return _otp_expired(ctx, request_id)
    sessions: SessionService = request.app.state.sessions
    response = await start_session(
        request, ctx, login.citizen_id,
        auth_time=sessions.clock(), amr=("pwd", "otp"), acr=ACR_MULTI_FACTOR,
        request_id=request_id,
    )  # fmt: skip
    pending_logins.clear_cookie(response)
    return response


def clear_sign_in_cookies(response: Response, request: Request) -> None:
    """Clear the session's cookie and a pending login's: what ending a session sends."""
    clear_session_cookie(response, request)
    pending_logins: PendingLogins = request.app.state.pending_logins
    pending_logins.clear_cookie(response)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End this browser's session (the RP-initiated logout of OIDC is ``/end_session``)."""
    form = await read_form(request)
    ctx = page_context(request, form=form)
    if not csrf_ok(request, form):
        return csrf_refused(ctx)
    sessions: SessionService = request.app.state.sessions
    await asyncio.to_thread(sessions.end, request.cookies.get(SESSION_COOKIE))
    response = signed_out_page(ctx)
    clear_sign_in_cookies(response, request)
    return response
