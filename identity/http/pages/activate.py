"""The activation pages (issue 18, part 1): a citizen registered at the counter turns the
activation code they were given into an account only they can open.

- ``GET /activate``: NIK, birth date and activation code (:mod:`identity.login.access_codes`:
  16 letters and digits in four groups).
- ``POST /activate``: CSRF-checked, then
  :meth:`identity.citizens.account_access.AccountAccess.check_activation_async`, throttled
  like a login (per account and per address; too many failures answer 429 with
  ``Retry-After``, RFC 6585 §4). Every refusal, whether the NIK is unknown, the birth date
  wrong, or the code wrong, expired, replaced or used, gets ONE page that says all the reasons
  at once, so that a NIK and a birth date (which are not secrets) never tell whether an
  account waits for activation. The page keeps the NIK and the birth date, never the code.
  A code found valid is turned into a ticket (citizen id, the code's SHA-256, when the code
  expires) sealed in a short-lived cookie, ``jati_activate`` (AES-256-GCM under a key derived
  from the master key, :data:`identity.keys.derived_keys.ACTIVATION_TICKET_KEY`; 15 minutes,
  ``Path=/activate``, ``HttpOnly``, ``SameSite=Strict``, ``Secure`` under https): the code
  itself never travels again, and the browser cannot read or alter the ticket.
- ``GET /activate/setup``: with the cookie, the citizen chooses a password (NIST SP 800-63B
  §5.1.1.2: at least 8 characters, any characters, no composition rules); without it, a page
  that sends them back to ``/activate``.
- ``POST /activate/setup``: CSRF-checked; the two entries must match; then
  :meth:`~identity.citizens.account_access.AccountAccess.activate_with_password` stores the
  password's hash and uses the code up in one transaction (a code used meanwhile, in another
  tab, is refused and nothing is written). On success the cookie is cleared and a new session
  starts (``amr`` ``["pwd"]``, RFC 8176 §2; any earlier session of the browser ends first),
  and the browser goes to ``/account``.

Neither the NIK, nor the code, nor the password is ever logged; the code and the password
are never echoed in a page. The setup page offers a passkey first, the password after it
(:mod:`identity.http.pages.passkeys`, ``POST /activate/passkey``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identity.citizens.account_access import AccountAccess
from identity.citizens.fields import MIN_PASSWORD_CHARS
from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.errors import ActivationRefused, InvalidField, MalformedAccessCode, Throttled
from identity.http.login import MAX_NIK_CHARS, client_address
from identity.http.pages.common import (
    PageContext,
    checked_form,
    csrf_refused,
    form_text,
    message_page,
    page_context,
    render,
    see_other,
    throttled_page,
)
from identity.http.pages.login import start_session
from identity.http.pages.sealed_cookies import SealedCookie
from identity.keys.derived_keys import ACTIVATION_TICKET_KEY
from identity.keys.sealing import ACTIVATION_TICKET_AD
from identity.login.activation import ActivationTicket
from identity.oidc.tokens import ACR_PASSWORD
from identity.service.web.state import services

__all__ = [
    "ACTIVATION_COOKIE",
    "ActivationCookies",
    "router",
    "setup_gone",
    "ticket_form",
    "ticket_of",
]

router = APIRouter(include_in_schema=False)

ACTIVATION_COOKIE = "jati_activate"
ACTIVATION_COOKIE_LIFETIME = timedelta(minutes=15)
_PATH = "/activate"
_BIRTHDATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ActivationCookies(SealedCookie):
    """The ``jati_activate`` cookie (:class:`~identity.http.pages.sealed_cookies.SealedCookie`):
    an :class:`ActivationTicket`, never visible to the browser."""

    __slots__ = ()

    def __init__(self, master_key: bytes, *, clock: Callable[[], datetime], secure: bool) -> None:
        super().__init__(
            master_key, key_label=ACTIVATION_TICKET_KEY, associated_data=ACTIVATION_TICKET_AD,
            name=ACTIVATION_COOKIE, path=_PATH, lifetime=ACTIVATION_COOKIE_LIFETIME,
            clock=clock, secure=secure,
        )  # fmt: skip

    def seal(self, ticket: ActivationTicket) -> str:
        return self.seal_fields(
            {"c": ticket.citizen_id, "h": ticket.code_hash, "x": ticket.expires_at.timestamp()}
        )

    def open(self, value: str | None) -> ActivationTicket | None:
        """The ticket, or None (absent, altered, or older than the cookie's lifetime)."""
        fields = self.open_fields(value)
        if fields is None:
            return None
        try:
            return ActivationTicket(
                citizen_id=str(fields["c"]),
                code_hash=str(fields["h"]),
                expires_at=datetime.fromtimestamp(float(fields["x"]), UTC),
            )
        except (ValueError, KeyError, TypeError):
            return None


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class _Error:
    """What a form's answer says is wrong: a message key and the field it is about (the
    summary at the top of the form links to it)."""

    key: str
    field: str


def _cookies(request: Request) -> ActivationCookies:
    cookies: ActivationCookies = request.app.state.activation_cookies
    return cookies


def _account_access(request: Request) -> AccountAccess:
    access: AccountAccess = services(request).account_access
    return access


def ticket_of(request: Request) -> ActivationTicket | None:
    """The browser's activation ticket, or None (absent, altered, expired)."""
    return _cookies(request).open(request.cookies.get(ACTIVATION_COOKIE))


def _form_page(
    ctx: PageContext,
    template: str,
    title_key: str,
    *,
    status: int,
    error: _Error | None,
    **values: Any,
) -> Response:
    return render(
        ctx,
        template,
        title=ctx.t(title_key),
        status=status,
        error=ctx.t(error.key, minimum=MIN_PASSWORD_CHARS) if error else None,
        error_field=error.field if error else "",
        **values,
    )


def _code_page(
    ctx: PageContext,
    *,
    status: int = 200,
    error: _Error | None = None,
    nik: str = "",
    birthdate: str = "",
) -> Response:
    """The code form; after a refusal, the NIK and the birth date as typed (never the code)."""
    return _form_page(
        ctx, "activate.html", "activate.title", status=status, error=error,
        nik=nik, birthdate=birthdate,
    )  # fmt: skip


def _setup_page(ctx: PageContext, *, status: int = 200, error: _Error | None = None) -> Response:
    return _form_page(
        ctx, "activate_setup.html", "activate.setup.title", status=status, error=error,
        minimum=MIN_PASSWORD_CHARS,
    )  # fmt: skip


def setup_gone(ctx: PageContext, body_key: str) -> Response:
    """400: no ticket (none, or too old) or a code used meanwhile; back to the start."""
    return message_page(
        ctx,
        title=ctx.t("activate.setup.title"),
        body=ctx.t(body_key),
        status=400,
        links=[(_PATH, ctx.t("activate.again")), ("/login", ctx.t("nav.login"))],
    )


async def ticket_form(
    request: Request,
) -> tuple[PageContext, FormData, ActivationTicket] | Response:
    """A setup form (a password here, a passkey in :mod:`identity.http.pages.passkeys`):
    403 without this browser's CSRF token, then 400 without a ticket."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    ticket = ticket_of(request)
    if ticket is None:
        return setup_gone(ctx, "activate.setup.expired")
    return ctx, form, ticket


def _birthdate(typed: str) -> date | None:
    """``YYYY-MM-DD`` (what a date input sends), or None."""
    if not _BIRTHDATE.fullmatch(typed):
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None


def _code_form_error(nik: str, birthdate: date | None, code: str) -> _Error | None:
    """What is missing or cannot be right before anything is checked, or None."""
    if not nik or len(nik) > MAX_NIK_CHARS:
        return _Error("activate.missing_nik", "nik")
    if birthdate is None:
        return _Error("activate.bad_birthdate", "birthdate")
    if not code.strip():
        return _Error("activate.missing_code", "code")
    return None


def _password_rule(password: str) -> _Error:
    """The rule a refused password breaks (:func:`identity.citizens.fields.check_password`
    holds the rules; this only chooses the words)."""
    too_long = len(password.encode()) > MAX_PASSWORD_BYTES
    return _Error("activate.setup.too_long" if too_long else "activate.setup.too_short", "password")


def _fields(form: FormData, *names: str) -> list[str]:
    return [form_text(form, name) or "" for name in names]


# ---------------------------------------------------------------- routes


@router.get("/activate")
async def activate_page(request: Request) -> Response:
    return _code_page(page_context(request))


@router.post("/activate")
async def activate_submit(request: Request) -> Response:
    """Check the NIK, birth date and code (see the module docstring)."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    nik, typed_date, code = _fields(form, "nik", "birthdate", "code")
    nik, typed_date = nik.strip(), typed_date.strip()
    birthdate = _birthdate(typed_date)
    kept = {"nik": nik if len(nik) <= MAX_NIK_CHARS else "", "birthdate": typed_date[:10]}
    error = _code_form_error(nik, birthdate, code)
    if error is not None or birthdate is None:
        return _code_page(ctx, status=400, error=error, **kept)
    try:
        ticket = await _account_access(request).check_activation_async(
            nik=nik, birthdate=birthdate, code=code, address=client_address(request)
        )
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except MalformedAccessCode:
        return _code_page(ctx, status=400, error=_Error("activate.malformed_code", "code"), **kept)
    except ActivationRefused:
        return _code_page(ctx, status=400, error=_Error("activate.refused", "code"), **kept)
    response = see_other(ctx, f"{_PATH}/setup")
    cookies = _cookies(request)
    cookies.set_cookie(response, cookies.seal(ticket))
    return response


@router.get("/activate/setup")
async def setup_page(request: Request) -> Response:
    ctx = page_context(request)
    if ticket_of(request) is None:
        return setup_gone(ctx, "activate.setup.expired")
    return _setup_page(ctx)


@router.post("/activate/setup")
async def setup_submit(request: Request) -> Response:
    """Set the first password and sign in (see the module docstring)."""
    posted = await ticket_form(request)
    if isinstance(posted, Response):
        return posted
    ctx, form, ticket = posted
    password, repeat = _fields(form, "password", "password_repeat")
    if password != repeat:
        return _setup_page(
            ctx, status=400, error=_Error("activate.setup.mismatch", "password_repeat")
        )
    try:
        auth = await _account_access(request).activate_with_password_async(ticket, password)
    except Throttled as exc:  # the hashing pool was full (Overloaded): nothing was written
        return throttled_page(ctx, exc)
    except InvalidField:
        return _setup_page(ctx, status=400, error=_password_rule(password))
    except ActivationRefused:
        response = setup_gone(ctx, "activate.setup.used")
        _cookies(request).clear_cookie(response)
        return response
    response = await start_session(
        request, ctx, auth.citizen_id,
        auth_time=auth.auth_time, amr=("pwd",), acr=ACR_PASSWORD, request_id=None,
    )  # fmt: skip
    _cookies(request).clear_cookie(response)
    return response
