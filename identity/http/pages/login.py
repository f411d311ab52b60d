"""The login page and its second-factor step (OIDC Core §3.1.2.3: the authorization server
authenticates the end-user).

- ``GET /login[?req=ID]``: NIK and password. ``req`` is a pending authorization request,
  sealed (:class:`identity.oidc.sealed_request.RequestSealer`: nothing is stored for it); its
  app is named on the page and its ``ui_locales`` choose the language; a ``login_hint`` that is
  a NIK fills the NIK field.
- ``POST /login[?req=ID]`` (a form; a JSON body goes to the API of
  :mod:`identity.http.login`): CSRF-checked, then the password is checked under the
  database-shared throttle (:meth:`identity.citizens.service.CitizenService.authenticate_async`).
  An unknown NIK and a wrong password get the same page; too many failures answer 429 with
  ``Retry-After`` (RFC 6585 §4). A correct password sets the device cookie
  (:mod:`identity.login.devices`), with which this browser passes a locked shared address
  for that account. On success a **new** session is created and any session the
  browser held is ended first (session fixation, OWASP Session Management Cheat Sheet),
  then 303 to ``/authorize/resume?req=ID``, or a form kept across an expired session
  (:mod:`identity.http.pages.intent`), or ``/account``.
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
  (the old one ends) exactly as above. Nothing changes until a code is right. A citizen
  with a passkey is offered it there too, and one with only a passkey is sent to its page,
  ``/login/passkey?req=ID`` (:mod:`identity.http.pages.passkeys`): a passkey sign-in meets
  the multi-factor ``acr`` by itself. The login page offers the passkey first (discoverable:
  no NIK typed), the password form after it.

Neither the NIK nor the password is ever logged, echoed in a page or kept; a failed login
page shows an empty form.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.citizens.service import CitizenService
from identity.errors import Throttled, Unauthorized
from identity.http.login import MAX_NIK_CHARS, client_address, set_device_cookie
from identity.http.pages.common import (
    PageContext,
    authorization_requests,
    checked_form,
    csrf_refused,
    form_text,
    keyed_message_page,
    origin_of,
    page_context,
    pending_authorization,
    render,
    request_unknown,
    see_other,
    session_of,
    throttled_page,
)
from identity.http.pages.intent import after_sign_in, waiting
from identity.http.pages.sealed_cookies import SealedCookie
from identity.http.session_cookie import set_session_cookie
from identity.keys.derived_keys import PENDING_LOGIN_KEY
from identity.keys.sealing import PENDING_LOGIN_AD
from identity.login.devices import DEVICE_COOKIE
from identity.login.sessions import SESSION_COOKIE, Session, SessionService
from identity.login.totp import InvalidCode, NoEnrolment, SecondFactor
from identity.login.user_agents import stored_summary
from identity.oidc.authorization_request import PendingAuthorization
from identity.oidc.sealed_request import MAX_SEALED_CHARS
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD
from identity.service.web.openapi import html_page, page_or_problem, query_parameters, redirect
from identity.service.web.state import services

__all__ = [
    "PENDING_LOGIN_COOKIE",
    "FormPostRoute",
    "PendingLogin",
    "PendingLogins",
    "SessionStart",
    "router",
]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

PENDING_LOGIN_COOKIE = "jati_login"
PENDING_LOGIN_LIFETIME = timedelta(minutes=5)
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


class PendingLogins(SealedCookie):
    """The ``jati_login`` cookie (:class:`~identity.http.pages.sealed_cookies.SealedCookie`):
    a password checked, a second factor still to come."""

    __slots__ = ()

    def __init__(self, master_key: bytes, *, clock: Callable[[], datetime], secure: bool) -> None:
        super().__init__(
            master_key, key_label=PENDING_LOGIN_KEY, associated_data=PENDING_LOGIN_AD,
            name=PENDING_LOGIN_COOKIE, path="/login", lifetime=PENDING_LOGIN_LIFETIME,
            clock=clock, secure=secure,
        )  # fmt: skip

    def seal(self, citizen_id: str, auth_time: datetime, request_id: str | None) -> str:
        return self.seal_fields(
            {"c": citizen_id, "t": auth_time.timestamp(), "r": request_id or ""}
        )

    def open(self, value: str | None) -> PendingLogin | None:
        """The pending login, or None (absent, altered, expired)."""
        fields = self.open_fields(value)
        if fields is None:
            return None
        try:
            return PendingLogin(
                citizen_id=str(fields["c"]),
                auth_time=datetime.fromtimestamp(float(fields["t"]), UTC),
                request_id=str(fields["r"]) or None,
            )
        except (ValueError, KeyError, TypeError):
            return None


# ---------------------------------------------------------------- helpers


def _pending_logins(request: Request) -> PendingLogins:
    pending_logins: PendingLogins = request.app.state.pending_logins
    return pending_logins


def _second_factor(request: Request) -> SecondFactor:
    second_factor: SecondFactor = services(request).second_factor
    return second_factor


async def _pending(request: Request) -> tuple[str | None, PendingAuthorization | None, bool]:
    """(``req``, pending request, ok): ok is False for a ``req`` that is unknown, expired
    or answered already."""
    request_id, pending = await pending_authorization(request)
    return request_id, pending, request_id is None or pending is not None


@dataclass(frozen=True, slots=True)
class _Step:
    """A request to a login step: its page context, the sealed ``req`` and its pending
    authorization request (None without one), and the form it posted (empty for a GET)."""

    ctx: PageContext
    request_id: str | None
    pending: PendingAuthorization | None
    form: FormData

    @property
    def query(self) -> str:
        return f"?{urlencode({'req': self.request_id})}" if self.request_id else ""

    @property
    def bound_id(self) -> str | None:
        """What the pending-login cookie is bound to: the request's id (short, unlike the
        sealed ``req``)."""
        return self.pending.id if self.pending is not None else None

    def targets(self) -> tuple[str, ...]:
        origin = origin_of(self.pending.redirect_uri) if self.pending is not None else None
        return (origin,) if origin else ()


async def page_step(request: Request) -> _Step | Response:
    """A step's page (GET), or 400 when its ``req`` is unknown."""
    request_id, pending, ok = await _pending(request)
    ctx = page_context(request, ui_locales=pending.ui_locales if pending else ())
    if not ok:
        return request_unknown(ctx)
    return _Step(ctx, request_id, pending, FormData())


async def form_step(request: Request) -> _Step | Response:
    """A step's form (POST): 403 without this browser's CSRF token, then 400 when its
    ``req`` is unknown."""
    request_id, pending, ok = await _pending(request)
    ctx, form = await checked_form(request, ui_locales=pending.ui_locales if pending else ())
    if form is None:
        return csrf_refused(ctx)
    if not ok:
        return request_unknown(ctx)
    return _Step(ctx, request_id, pending, form)


def _pending_login(request: Request, step: _Step) -> PendingLogin | None:
    """The browser's pending login, when it is bound to the step's request."""
    login = _pending_logins(request).open(request.cookies.get(PENDING_LOGIN_COOKIE))
    return login if login is not None and login.request_id == step.bound_id else None


def _login_page(
    step: _Step, *, status: int = 200, error: str | None = None, nik: str = ""
) -> Response:
    """The login form; after a refusal (``error``) the NIK comes back as typed (``nik``, at
    most :data:`MAX_NIK_CHARS`), else the app's ``login_hint`` when it is a NIK."""
    ctx, pending = step.ctx, step.pending
    hint = pending.login_hint if pending is not None else None
    if error is None:
        value = hint if hint and _NIK_HINT.fullmatch(hint) else ""
    else:
        value = nik.strip() if len(nik) <= MAX_NIK_CHARS else ""
    notice = ctx.t("intent.waiting") if error is None and waiting(ctx.request) else None
    return render(
        ctx, "login.html", title=ctx.t("login.title"), status=status,
        form_targets=step.targets(), action=f"/login{step.query}",
        app_name=pending.client.name if pending is not None else None,
        nik_value=value, error=error, notice=notice,
        passkey_action=f"/login/passkey{step.query}",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SessionStart:
    """A new session for the browser asking, in two steps: :meth:`open` (on a worker
    thread: the session stored, the browser's previous one ended, in a transaction of its
    own or inside another store's, ``within``) and :meth:`response` (the cookie set, and on
    to the request or the account page).

    ``restricted``: a recovery-code sign-in, which opens only the account page (no app gets
    a code from it). The session keeps only the browser's short summary (browser and system
    families, :mod:`identity.login.user_agents`), never the ``User-Agent`` header itself."""

    request: Request
    restricted: bool = False

    def open(
        self,
        citizen_id: str,
        *,
        auth_time: datetime,
        amr: Sequence[str],
        acr: str,
        within: Any = None,
    ) -> str:
        """The new session's cookie value (blocking: call it on a worker thread)."""
        sessions: SessionService = services(self.request).sessions
        cookie_value, _session = sessions.create(
            citizen_id, auth_time=auth_time, amr=amr, acr=acr, restricted=self.restricted,
            user_agent=stored_summary(self.request.headers.get("user-agent")),
            replacing=self.request.cookies.get(SESSION_COOKIE),  # session fixation
            within=within,
        )  # fmt: skip
        return cookie_value

    def response(
        self, ctx: PageContext, cookie_value: str, request_id: str | None, citizen_id: str
    ) -> Response:
        """The 303 on (the module docstring's order; a restricted session never to an
        app), setting the session's cookie."""
        target = after_sign_in(self.request, citizen_id) or "/account"
        if request_id is not None and not self.restricted:
            target = authorization_requests(self.request).resume_url(request_id)
        response = see_other(ctx, target)
        set_session_cookie(response, self.request, cookie_value)
        return response


async def start_session(
    request: Request,
    ctx: PageContext,
    citizen_id: str,
    *,
    auth_time: datetime,
    amr: Sequence[str],
    acr: str,
    request_id: str | None,
    restricted: bool = False,
) -> Response:
    """End the browser's previous session, start a new one (one transaction), set its cookie
    and go on (:class:`SessionStart`)."""
    start = SessionStart(request, restricted)
    cookie_value = await asyncio.to_thread(
        lambda: start.open(citizen_id, auth_time=auth_time, amr=amr, acr=acr)
    )
    return start.response(ctx, cookie_value, request_id, citizen_id)


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
    step = await page_step(request)
    if isinstance(step, Response):
        return step
    if step.request_id is None and await session_of(request) is not None:
        return see_other(step.ctx, "/account")
    return _login_page(step)


async def login_submit(request: Request) -> Response:
    """``POST /login`` with a form (see the module docstring)."""
    step = await form_step(request)
    if isinstance(step, Response):
        return step
    ctx = step.ctx
    nik = form_text(step.form, "nik")
    password = form_text(step.form, "password")
    if (
        not nik
        or not password
        or len(nik) > MAX_NIK_CHARS
        or len(password.encode("utf-8")) > MAX_PASSWORD_BYTES
    ):
        return _login_page(step, status=400, error=ctx.t("login.missing"), nik=nik or "")
    citizens: CitizenService = services(request).citizens
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
        return _login_page(step, status=400, error=ctx.t("login.failed"), nik=nik)
    if await asyncio.to_thread(_second_factor(request).is_enabled, result.citizen_id):
        pending_logins = _pending_logins(request)
        response = see_other(ctx, f"/login/otp{step.query}")
        pending_logins.set_cookie(
            response, pending_logins.seal(result.citizen_id, result.auth_time, step.bound_id)
        )
        set_device_cookie(response, request, result.device)
        return response
    response = await start_session(
        request, ctx, result.citizen_id,
        auth_time=result.auth_time, amr=("pwd",), acr=ACR_PASSWORD, request_id=step.request_id,
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
    step: _Step,
    *,
    status: int = 200,
    error: str | None = None,
    step_up_app: str | None = None,
    passkey: bool = False,
) -> Response:
    """The code form; ``passkey``: offer the passkey too (a step-up of a citizen with one)."""
    return render(
        step.ctx,
        "otp.html",
        title=step.ctx.t("otp.title"),
        status=status,
        form_targets=step.targets(),
        action=f"/login/otp{step.query}",
        error=error,
        step_up_app=step_up_app,
        passkey_action=f"/login/passkey{step.query}" if passkey else None,
    )


def _otp_expired(step: _Step) -> Response:
    return keyed_message_page(
        step.ctx, "otp.title", "otp.expired", status=400, link=(f"/login{step.query}", "nav.login")
    )


@router.get("/login/otp")
async def otp_page(request: Request) -> Response:
    step = await page_step(request)
    if isinstance(step, Response):
        return step
    if _pending_login(request, step) is not None:
        return _otp_page(step)
    session = await _step_up_session(request, step.pending)
    if session is None or step.pending is None:
        return _otp_expired(step)
    totp, passkey = await asyncio.to_thread(_step_up_methods, request, session.citizen_id)
    if not totp:  # a passkey is the only way up (identity/http/pages/passkeys.py), or none is
        return see_other(step.ctx, f"/login/passkey{step.query}") if passkey else _otp_expired(step)
    response = _otp_page(step, step_up_app=step.pending.client.name, passkey=passkey)
    pending_logins = _pending_logins(request)
    pending_logins.set_cookie(
        response, pending_logins.seal(session.citizen_id, session.auth_time, step.pending.id)
    )
    return response


async def _step_up_session(
    request: Request, pending: PendingAuthorization | None
) -> Session | None:
    """The session a step-up starts from (see the module docstring), or None: no
    authorization request, no live session, or a session with the second factor already."""
    if pending is None:
        return None
    session = await session_of(request, restricted=False)
    return None if session is None or session.acr == ACR_MULTI_FACTOR else session


def _step_up_methods(request: Request, citizen_id: str) -> tuple[bool, bool]:
    """(TOTP enabled, a passkey registered): what the citizen can step up with."""
    state = services(request)
    return state.second_factor.is_enabled(citizen_id), state.passkeys.is_enabled(citizen_id)


@router.post("/login/otp")
async def otp_submit(request: Request) -> Response:
    step = await form_step(request)
    if isinstance(step, Response):
        return step
    login = _pending_login(request, step)
    if login is None:
        return _otp_expired(step)
    code = form_text(step.form, "code") or ""
    try:
        await asyncio.to_thread(_second_factor(request).verify, login.citizen_id, code)
    except Throttled as exc:
        return throttled_page(step.ctx, exc)
    except InvalidCode:
        return _otp_page(step, status=400, error=step.ctx.t("otp.failed"))
    except NoEnrolment:  # turned off meanwhile: sign in again
        return _otp_expired(step)
    sessions: SessionService = services(request).sessions
    response = await start_session(
        request, step.ctx, login.citizen_id,
        auth_time=sessions.clock(), amr=("pwd", "otp"), acr=ACR_MULTI_FACTOR,
        request_id=step.request_id,
    )  # fmt: skip
    _pending_logins(request).clear_cookie(response)
    return response
