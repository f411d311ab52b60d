"""Recovery codes and the way back in (issue 18, part 4): ten one-time codes
(:mod:`identity.login.recovery_codes`; look-up secrets, NIST SP 800-63B §5.1.2) that take a
citizen who lost their phone or passkey back to their account page, and the help page that
explains them and the counter route.

- :func:`new_recovery_codes_page`: once a second factor or a passkey is added (after
  ``POST /account/totp/confirm``, :mod:`identity.http.pages.totp_setup`; after a passkey is
  registered), the citizen's ten codes are made and shown **once**, in a printable list with
  what to do with them; a citizen who still holds unused codes keeps them and goes on.
- ``POST /account/recovery-codes`` (CSRF-checked, signed in): new codes, shown once; they
  replace every earlier one. The account page says how many unused codes remain.
- ``GET/POST /login/recovery``: signing in with a recovery code, throttled like a login (the
  login throttle on the NIK's blind index and the client address:
  :class:`identity.citizens.account_access.AccountAccess`), in one of two ways:

  a. after the password step of a citizen with a second factor (the pending-login cookie
     ``jati_login`` of :mod:`identity.http.pages.login`): the code replaces the app's code;
  b. a citizen without a password (passkeys only): NIK, birth date and a code.

  A code, right or wrong, is never echoed; every refusal gets one answer. Success starts a
  **restricted** session (``amr`` ``["pwd", "recovery-code"]`` or ``["recovery-code"]``:
  :data:`identity.citizens.account_access.AMR_RECOVERY_CODE` says why not ``otp``; ``acr``
  ``urn:jati:acr:password``) that opens only the account page: the authorization endpoint
  treats it as no session, so no app gets a code from it and the browser is sent to sign
  in properly. The account page shows a banner asking for a new way to sign in.
- ``GET /help/sign-in``: "Tidak bisa masuk?": recovery codes, and the counter route (an
  officer checks the citizen's identity in person and gives a new activation code:
  ``jati citizen reset-access``). The throttled page and the code step link to it.

Every answer is ``no-store`` (:func:`identity.http.pages.common.render`).
"""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from identity.citizens.account_access import AccountAccess
from identity.citizens.records import Authentication
from identity.citizens.service import SELF
from identity.errors import MalformedAccessCode, RecoveryCodeRefused, Throttled
from identity.http.login import MAX_NIK_CHARS, client_address
from identity.http.pages.account import _posted
from identity.http.pages.activate import _birthdate
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
from identity.http.pages.login import (
    PENDING_LOGIN_COOKIE,
    PendingLogin,
    PendingLogins,
    start_session,
)
from identity.login.recovery_codes import RecoveryCodes
from identity.oidc.tokens import ACR_PASSWORD
from identity.service.web.state import services

__all__ = ["new_recovery_codes_page", "router"]

router = APIRouter(include_in_schema=False)

#: Longest code field read (a code is 19 characters with its hyphens; spaces are allowed).
MAX_CODE_CHARS = 64


# ---------------------------------------------------------------- the codes, shown once


def _recovery_codes(request: Request) -> RecoveryCodes:
    codes: RecoveryCodes = services(request).recovery_codes
    return codes


def _codes_page(
    ctx: PageContext, codes: tuple[str, ...], *, notice: str | None, then: str
) -> Response:
    return render(
        ctx, "recovery_codes.html", title=ctx.t("recovery.title"), signed_in=True,
        codes=codes, notice=notice, then=then,
    )  # fmt: skip


async def new_recovery_codes_page(
    request: Request,
    ctx: PageContext,
    citizen_id: str,
    *,
    notice: str | None = None,
    then: str = "/account",
) -> Response:
    """After a second factor or a passkey was added: the citizen's new recovery codes, shown
    once (``notice``, already in the page's language, says above them what was just done);
    or, when the citizen still has unused codes, 303 to ``then`` (a path of Jati's), keeping
    them. The codes are made as the citizen (audited: ``recovery_codes`` created)."""
    codes_service = _recovery_codes(request)
    clock = services(request).citizens.clock

    def make() -> tuple[str, ...] | None:
        if codes_service.remaining(citizen_id) > 0:
            return None
        return codes_service.generate(citizen_id, actor=SELF, now=clock())

    codes = await asyncio.to_thread(make)
    if codes is None:
        return see_other(ctx, then)
    return _codes_page(ctx, codes, notice=notice, then=then)


@router.post("/account/recovery-codes")
async def regenerate(request: Request) -> Response:
    """New codes in place of every earlier one, shown once."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    codes_service = _recovery_codes(request)
    now = services(request).citizens.clock()
    codes = await asyncio.to_thread(
        codes_service.generate, posted.session.citizen_id, actor=SELF, now=now
    )
    return _codes_page(posted.ctx, codes, notice=None, then="/account#recovery-codes")


# ---------------------------------------------------------------- signing in with a code


def _account_access(request: Request) -> AccountAccess:
    access: AccountAccess = services(request).account_access
    return access


def _pending_login(request: Request) -> PendingLogin | None:
    """The password step's pending login (way a), whatever sign-in request it was for: a
    restricted session never answers one."""
    pending_logins: PendingLogins = request.app.state.pending_logins
    return pending_logins.open(request.cookies.get(PENDING_LOGIN_COOKIE))


def _login_page(
    ctx: PageContext,
    *,
    after_password: bool,
    status: int = 200,
    error: tuple[str, str] | None = None,
    nik: str = "",
    birthdate: str = "",
) -> Response:
    """The form of way a (the code) or b (NIK, birth date, code); ``error`` is (message
    key, the field it is about). The NIK and the birth date come back as typed, never the
    code."""
    return render(
        ctx, "login_recovery.html", title=ctx.t("recovery_login.title"), status=status,
        after_password=after_password, error=ctx.t(error[0]) if error else None,
        error_field=error[1] if error else "", nik=nik, birthdate=birthdate,
    )  # fmt: skip


@router.get("/login/recovery")
async def recovery_login_page(request: Request) -> Response:
    ctx = page_context(request)
    return _login_page(ctx, after_password=_pending_login(request) is not None)


def _missing(nik: str, birthdate: date | None, code: str) -> tuple[str, str] | None:
    """What way b's form lacks before anything is checked, or None."""
    if not nik or len(nik) > MAX_NIK_CHARS:
        return "activate.missing_nik", "nik"
    if birthdate is None:
        return "activate.bad_birthdate", "birthdate"
    return ("recovery_login.missing_code", "code") if not code.strip() else None


@router.post("/login/recovery")
async def recovery_login_submit(request: Request) -> Response:
    """Check the code (way a or b, see the module docstring) and start a restricted
    session."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    pending = _pending_login(request)
    access = _account_access(request)
    address = client_address(request)
    code = (form_text(form, "code") or "")[:MAX_CODE_CHARS]
    nik = (form_text(form, "nik") or "").strip()
    typed_date = (form_text(form, "birthdate") or "").strip()
    kept = {"nik": nik if len(nik) <= MAX_NIK_CHARS else "", "birthdate": typed_date[:10]}
    if pending is not None:
        kept = {}
        if not code.strip():
            return _login_page(
                ctx, after_password=True, status=400, error=("recovery_login.missing_code", "code")
            )
        attempt = asyncio.to_thread(
            access.sign_in_with_recovery_code, pending.citizen_id, code, address=address
        )
        refused = "recovery_login.refused"
    else:
        birthdate = _birthdate(typed_date)
        missing = _missing(nik, birthdate, code)
        if missing is not None or birthdate is None:
            return _login_page(ctx, after_password=False, status=400, error=missing, **kept)
        attempt = asyncio.to_thread(
            access.recover_without_password,
            nik=nik, birthdate=birthdate, code=code, address=address,
        )  # fmt: skip
        refused = "recovery_login.refused_nik"
    after_password = pending is not None
    try:
        auth: Authentication = await attempt
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except MalformedAccessCode:
        error = ("recovery_login.malformed", "code")
        return _login_page(ctx, after_password=after_password, status=400, error=error, **kept)
    except RecoveryCodeRefused:
        error = (refused, "code")
        return _login_page(ctx, after_password=after_password, status=400, error=error, **kept)
    response = await start_session(
        request, ctx, auth.citizen_id,
        auth_time=auth.auth_time, amr=auth.amr, acr=ACR_PASSWORD, request_id=None,
        restricted=True,
    )  # fmt: skip
    pending_logins: PendingLogins = request.app.state.pending_logins
    pending_logins.clear_cookie(response)
    return response


# ---------------------------------------------------------------- help


@router.get("/help/sign-in")
async def help_sign_in(request: Request) -> Response:
    """The "Tidak bisa masuk?" page: the ways back in, in plain words."""
    ctx = page_context(request)
    return render(ctx, "help_sign_in.html", title=ctx.t("help.title"))
