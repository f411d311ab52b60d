"""The console's pages (issue 20).

- ``GET|POST /console/activate``: the email and the activation code ``jati staff add``
  printed; then ``POST /console/activate/setup``: a password (at least 12 characters, typed
  twice) and an authenticator app (a QR code drawn on the server and the key in groups of
  four), proved by one of its codes. The step between travels as a sealed ticket (AES-256-GCM,
  10 minutes) in a hidden field; the code is checked again when the account is activated.
- ``GET|POST /console/login``: email, password and authenticator code together (a second
  factor is mandatory for staff); one answer for every refusal; 429 when the account is
  locked. A new console session (``jati_console``, ``Path=/console``, ``SameSite=Strict``)
  replaces the browser's previous one.
- ``GET /console``: who is signed in, with which role, and the pages of that role.
- ``GET /console/status`` (operators): the checks behind ``/readyz`` (schema, sequencer,
  the last full verification of the audit log), the audit queue and the latest checkpoint.
- ``GET /console/log-integrity`` (auditors): the latest signed checkpoints, the last full
  verification of the log and the queue.
- ``POST /console/logout``: the session ends.

Sign-ins, refusals, activations and sign-outs are audit entries whose actor is the staff
member (:mod:`identity.staff.accounts`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from identity.errors import InvalidCredentials, InvalidInput, Throttled
from identity.http.console.access import Staff, signed_in_staff
from identity.http.pages.activity import app_name
from identity.http.pages.common import (
    PageContext,
    checked_form,
    csrf_refused,
    form_text,
    page_context,
    render,
    see_other,
    throttled_page,
)
from identity.http.pages.sealed_cookies import SealedCookie
from identity.http.pages.totp_setup import group_secret, qr_svg
from identity.keys.derived_keys import CONSOLE_ACTIVATION_KEY
from identity.keys.sealing import CONSOLE_ACTIVATION_AD
from identity.service.audit_verification import read_result
from identity.service.database import migrate
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.accounts import MIN_PASSWORD_CHARS
from identity.staff.records import StaffRole
from identity.staff.sessions import CONSOLE_COOKIE

__all__ = ["ActivationTickets", "router"]

router = APIRouter(include_in_schema=False)

_RECENT_CHECKPOINTS = 10


class ActivationTickets(SealedCookie):
    """The sealed step between the activation code and the setup (a hidden field, not a
    cookie: its name and path are unused)."""

    __slots__ = ()

    def __init__(self, master_key: bytes, *, clock: Any, secure: bool) -> None:
        super().__init__(
            master_key, key_label=CONSOLE_ACTIVATION_KEY, associated_data=CONSOLE_ACTIVATION_AD,
            name="ticket", path="/console", lifetime=timedelta(minutes=10), clock=clock,
            secure=secure,
        )  # fmt: skip


def _tickets(request: Request) -> ActivationTickets:
    tickets: ActivationTickets = request.app.state.console_tickets
    return tickets


def _staff_page(staff: Staff, template: str, title_key: str, **values: Any) -> Response:
    return render(
        staff.ctx, template, title=staff.ctx.t(title_key), console_user=staff.member, **values
    )


# ---------------------------------------------------------------- activation


def _activate_page(ctx: PageContext, *, status: int = 200, error: str | None = None,
                   email: str = "") -> Response:  # fmt: skip
    return render(
        ctx, "console_activate.html", title=ctx.t("console.activate.title"), status=status,
        error=error, email_value=email[:254],
    )  # fmt: skip


@router.get("/console/activate")
async def activate_page(request: Request) -> Response:
    return _activate_page(page_context(request))


def _setup_page(ctx: PageContext, request: Request, fields: dict[str, str], *,
                status: int = 200, error: str | None = None) -> Response:  # fmt: skip
    secret_b32, uri = fields["s"], fields["u"]
    return render(
        ctx, "console_setup.html", title=ctx.t("console.setup.title"), status=status,
        error=error, ticket=_tickets(request).seal_fields(fields),
        qr=qr_svg(uri, ctx.t("totp.qr_label")), secret=group_secret(secret_b32),
        min_chars=MIN_PASSWORD_CHARS,
    )  # fmt: skip


@router.post("/console/activate")
async def activate(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    email, code = form_text(form, "email") or "", form_text(form, "code") or ""
    staff = services(request).staff
    try:
        member = await asyncio.to_thread(staff.check_activation, email, code)
    except InvalidCredentials:
        return _activate_page(ctx, status=400, error=ctx.t("console.activate.refused"),
                              email=email)  # fmt: skip
    secret_base32, uri = staff.new_secret()
    return _setup_page(ctx, request, {"i": member.id, "c": code, "s": secret_base32, "u": uri})


@router.post("/console/activate/setup")
async def activate_setup(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    ticket = _tickets(request).open_fields(form_text(form, "ticket"))
    if ticket is None:
        return _activate_page(ctx, status=400, error=ctx.t("console.activate.expired"))
    fields = {k: str(ticket[k]) for k in ("i", "c", "s", "u")}
    password, again = form_text(form, "password") or "", form_text(form, "password2") or ""
    if password != again:
        return _setup_page(ctx, request, fields, status=400,
                           error=ctx.t("console.setup.mismatch"))  # fmt: skip
    state = services(request)
    try:
        member = await asyncio.to_thread(state.staff.get, fields["i"])
        await state.staff.activate(
            member, password=password, secret_base32=fields["s"],
            code=form_text(form, "code") or "", activation=fields["c"],
        )  # fmt: skip
    except Throttled as exc:  # the hashing pool is full: 503, nothing changed
        return throttled_page(ctx, exc)
    except InvalidInput:
        short = ctx.t("console.setup.short", chars=MIN_PASSWORD_CHARS)
        return _setup_page(ctx, request, fields, status=400, error=short)
    except InvalidCredentials:
        return _setup_page(ctx, request, fields, status=400,
                           error=ctx.t("console.setup.code_wrong"))  # fmt: skip
    return see_other(ctx, "/console/login?activated=1")


# ---------------------------------------------------------------- sign-in and out


def _login_page(ctx: PageContext, *, status: int = 200, error: str | None = None,
                email: str = "") -> Response:  # fmt: skip
    activated = ctx.request.query_params.get("activated") == "1" and error is None
    return render(
        ctx, "console_login.html", title=ctx.t("console.login.title"), status=status,
        error=error, email_value=email[:254],
        notice=ctx.t("console.activated") if activated else None,
    )  # fmt: skip


@router.get("/console/login")
async def login_page(request: Request) -> Response:
    return _login_page(page_context(request))


@router.post("/console/login")
async def login(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    email = form_text(form, "email") or ""
    state = services(request)
    try:
        member = await state.staff.authenticate(
            email, form_text(form, "password") or "", form_text(form, "code") or ""
        )
    except Throttled as exc:  # a locked account, or a full hashing pool (503)
        return throttled_page(ctx, exc)
    except InvalidCredentials:
        return _login_page(ctx, status=400, error=ctx.t("console.login.refused"), email=email)
    sessions = state.console_sessions
    value = await asyncio.to_thread(
        lambda: sessions.create(
            member.id, auth_time=sessions.clock(), replacing=request.cookies.get(CONSOLE_COOKIE)
        )
    )
    response = see_other(ctx, "/console")
    response.set_cookie(value=value, **sessions.cookie_attributes())  # type: ignore[arg-type]
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    staff = await signed_in_staff(request, ctx=ctx)
    state = services(request)
    if isinstance(staff, Staff):
        await asyncio.to_thread(state.staff.signed_out, staff.member)
    await asyncio.to_thread(state.console_sessions.end, request.cookies.get(CONSOLE_COOKIE))
    response = see_other(ctx, "/console/login")
    attributes = state.console_sessions.cookie_attributes()
    response.delete_cookie(
        str(attributes["key"]), path=str(attributes["path"]), secure=bool(attributes["secure"]),
        httponly=True, samesite="strict",
    )  # fmt: skip
    return response


# ---------------------------------------------------------------- the pages of each role


@router.get("/console")
async def home(request: Request) -> Response:
    staff = await signed_in_staff(request)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    apps = [(a, app_name(state, a)) for a in staff.member.apps]
    return _staff_page(staff, "console_home.html", "console.home", apps=apps)


@dataclass(frozen=True, slots=True)
class _LogState:
    """What the status and log-integrity pages show of the audit log."""

    schema_current: bool
    sequencer_ok: bool
    queue_length: int
    oldest_queued_at: datetime | None
    checkpoints: list[Any]
    verification: Any


def _log_state(state: Services, recent: int) -> _LogState:
    store = state.audit_log.store
    queue = store.queue_status()
    current = migrate.current_revisions(state.database.engine)
    return _LogState(
        schema_current=current == state.expected_revisions,
        sequencer_ok=not state.sequencer_health.integrity_failure,
        queue_length=queue.length,
        oldest_queued_at=queue.oldest_queued_at,
        checkpoints=store.recent_checkpoints(limit=recent),
        verification=read_result(state.settings.data_dir),
    )


@router.get("/console/status")
async def status(request: Request) -> Response:
    staff = await signed_in_staff(request, (StaffRole.OPERATOR,))
    if not isinstance(staff, Staff):
        return staff
    log_state = await asyncio.to_thread(_log_state, services(request), 1)
    return _staff_page(staff, "console_status.html", "console.status.title", log=log_state,
                       integrity=False)  # fmt: skip


@router.get("/console/log-integrity")
async def log_integrity(request: Request) -> Response:
    staff = await signed_in_staff(request, (StaffRole.AUDITOR,))
    if not isinstance(staff, Staff):
        return staff
    log_state = await asyncio.to_thread(_log_state, services(request), _RECENT_CHECKPOINTS)
    return _staff_page(staff, "console_status.html", "console.integrity.title", log=log_state,
                       integrity=True)  # fmt: skip
