"""The passkey pages (WebAuthn Level 3; issue 18, part 2), over
:class:`identity.login.passkeys.Passkeys`, which verifies, stores and audits.

Every ceremony is two requests, both CSRF-checked forms (:mod:`identity.http.pages.csrf`):
``POST .../options`` answers the ``PublicKeyCredential*OptionsJSON`` (§5.4, §5.5) and keeps
the ceremony's state (challenge, expiry, for a registration the citizen) in a sealed cookie;
the script ``/static/webauthn.js`` hands the options to the browser and posts the response
(``RegistrationResponseJSON`` / ``AuthenticationResponseJSON``, §5.1) as the form's
``credential`` field to the ceremony's own path. The cookie, ``jati_webauthn``
(:class:`CeremonyCookie`: AES-256-GCM under
:data:`identity.keys.derived_keys.WEBAUTHN_CEREMONY_KEY`, 5 minutes, ``HttpOnly``,
``SameSite=Strict``, ``Secure`` under https) is limited to the ceremony's path, so a sign-in,
a registration on the account page and one at activation never share a state, and it is
cleared after every attempt, right or wrong (the core spends the challenge in the same
transaction: a response sent again is refused as a replay).

- **Sign-in** (``/login/passkey``): discoverable credentials, no NIK typed, user verification
  required. The login page offers it first, the password form after it; ``GET
  /login/passkey?req=ID`` is the step-up page of a citizen whose only second factor is a
  passkey (``/login/otp`` sends them here; one with TOTP too sees both). A verified passkey
  starts a new session (``amr`` from the passkey: ``hwk``/``swk``, ``user``, ``mfa``, RFC 8176
  §2; ``acr`` ``urn:jati:acr:mfa``) exactly as a password login does, and resumes the
  pending authorization request.
- **Account** (``/account/passkeys``, on the login session): add (the name is the citizen's
  label, optional), rename, remove; after an addition the recovery codes are shown once
  (:func:`identity.http.pages.recovery.new_recovery_codes_page`).
- **Activation** (``/activate/passkey``, with the ``jati_activate`` ticket): passkey-first.
  The passkey is stored and the activation code used up in ONE transaction
  (:meth:`Passkeys.register`'s ``within``, :meth:`Activations.complete`): a code used
  meanwhile rolls the passkey back. Then a session starts with the passkey's ``amr``/``acr``
  and the recovery codes are shown.

Errors are one plain 400 page, never the failed check: a refused or malformed response, a
replay and an expired ceremony read alike ("try again, or sign in another way"); a
cloned-authenticator signal (audited as denied by the core) asks the citizen to sign in
another way and remove that passkey. The sign-in error page links to "Tidak bisa masuk?"
(``/help/sign-in``). Authenticators see ``Akun Jati`` / ``Jati account`` as the account's
name: the names a passkey provider shows may sync to its cloud, so they hold no personal data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from identity.citizens.service import SELF, CitizenService
from identity.errors import (
    ActivationRefused,
    ClonedAuthenticator,
    DuplicatePasskey,
    InvalidPasskeyName,
    InvalidPasskeyResponse,
    LastPasskey,
    PasskeyNotFound,
    PasskeyRefused,
    TooManyPasskeys,
)
from identity.http.pages.activate import ActivationCookies, setup_gone, ticket_form, ticket_of
from identity.http.pages.common import (
    NO_STORE,
    PageContext,
    checked_form,
    csrf_refused,
    form_text,
    keyed_message_page,
    message_page,
    render,
    see_other,
    session_of,
)
from identity.http.pages.login import PendingLogins, SessionStart, form_step, page_step
from identity.http.pages.recovery import new_recovery_codes_page
from identity.http.pages.sealed_cookies import SealedCookie
from identity.http.session_cookie import set_session_cookie
from identity.keys.derived_keys import WEBAUTHN_CEREMONY_KEY
from identity.keys.sealing import WEBAUTHN_CEREMONY_AD
from identity.login.activation import Activations, ActivationTicket
from identity.login.passkeys import MAX_PASSKEYS, Passkey, PasskeyLogin, Passkeys, passkey_amr
from identity.login.sessions import Session
from identity.login.webauthn import CEREMONY_LIFETIME
from identity.oidc.tokens import ACR_MULTI_FACTOR
from identity.service.web.security_headers import WEBAUTHN_SCRIPT
from identity.service.web.state import services

__all__ = [
    "CEREMONY_COOKIE",
    "ERASE_PATH",
    "REFUSED",
    "CeremonyCookie",
    "PasskeyCeremonies",
    "credential_of",
    "json_refusal",
    "router",
]

router = APIRouter(include_in_schema=False)

CEREMONY_COOKIE = "jati_webauthn"
LOGIN_PATH = "/login/passkey"
ACCOUNT_PATH = "/account/passkeys"
ACTIVATION_PATH = "/activate/passkey"
ERASE_PATH = "/account/erase"
HELP_PATH = "/help/sign-in"
#: What the script's options request may be refused with, and what a ceremony's answer may.
REFUSED = (PasskeyRefused, InvalidPasskeyResponse)
REGISTRATION_REFUSED = (*REFUSED, InvalidPasskeyName, DuplicatePasskey, TooManyPasskeys)
#: A refused registration's message (the first match), else ``passkey.refused``.
REGISTRATION_MESSAGES = (
    (InvalidPasskeyName, "passkeys.bad_name"),
    (DuplicatePasskey, "passkeys.duplicate"),
    (TooManyPasskeys, "passkeys.too_many"),
    (ClonedAuthenticator, "passkey.cloned"),
)


# ---------------------------------------------------------------- the ceremony's state


class CeremonyCookie(SealedCookie):
    """The ``jati_webauthn`` cookie of one ceremony path
    (:class:`~identity.http.pages.sealed_cookies.SealedCookie`): the state
    :class:`~identity.login.passkeys.Passkeys` made with the options, never visible to the
    browser."""

    __slots__ = ()

    def __init__(
        self, master_key: bytes, *, path: str, clock: Callable[[], datetime], secure: bool
    ) -> None:
        super().__init__(
            master_key, key_label=WEBAUTHN_CEREMONY_KEY, associated_data=WEBAUTHN_CEREMONY_AD,
            name=CEREMONY_COOKIE, path=path, lifetime=CEREMONY_LIFETIME,
            clock=clock, secure=secure,
        )  # fmt: skip

    def state(self, request: Request) -> dict[str, Any]:
        """The state the browser holds; empty when absent, altered or expired (the core
        then answers :class:`~identity.errors.PasskeyCeremonyExpired`)."""
        fields = self.open_fields(request.cookies.get(self.name)) or {}
        fields.pop("e", None)
        return fields

    def options(self, options: dict[str, Any], state: dict[str, Any]) -> Response:
        """The options for the script, the state sealed in the cookie."""
        response = JSONResponse(options, headers=dict(NO_STORE))
        self.set_cookie(response, self.seal_fields(state))
        return response


@dataclass(frozen=True, slots=True)
class PasskeyCeremonies:
    """The ceremony cookie of each path (``app.state.passkey_ceremonies``)."""

    login: CeremonyCookie
    account: CeremonyCookie
    activation: CeremonyCookie
    erasure: CeremonyCookie  # the re-authentication before an erasure (pages/erasure.py)

    @classmethod
    def create(
        cls, master_key: bytes, *, clock: Callable[[], datetime], secure: bool
    ) -> PasskeyCeremonies:
        def cookie(path: str) -> CeremonyCookie:
            return CeremonyCookie(master_key, path=path, clock=clock, secure=secure)

        return cls(
            cookie(LOGIN_PATH), cookie(ACCOUNT_PATH), cookie(ACTIVATION_PATH), cookie(ERASE_PATH)
        )


# ---------------------------------------------------------------- helpers


def _ceremonies(request: Request) -> PasskeyCeremonies:
    ceremonies: PasskeyCeremonies = request.app.state.passkey_ceremonies
    return ceremonies


def credential_of(form: FormData) -> dict[str, Any]:
    """The ``credential`` field as a JSON object; empty when it is not one (the core then
    answers :class:`~identity.errors.InvalidPasskeyResponse`)."""
    try:
        value = json.loads(form_text(form, "credential") or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def json_refusal(ctx: PageContext, key: str, status: int, **values: object) -> Response:
    """An options request refused: the script shows ``message`` (in the page's language)."""
    return JSONResponse({"message": ctx.t(key, **values)}, status_code=status, headers=NO_STORE)


def _refused(
    ctx: PageContext,
    error: Exception,
    *,
    back: tuple[str, str],
    signed_in: bool = False,
) -> Response:
    """400: one plain message for a refused ceremony, never the check that failed; ``back``
    is (URL, message key) of the way to try again."""
    key = next((k for kind, k in REGISTRATION_MESSAGES if isinstance(error, kind)), None)
    return message_page(
        ctx,
        title=ctx.t("passkey.refused.title"),
        body=ctx.t(key or "passkey.refused", limit=MAX_PASSKEYS),
        status=400,
        links=[(back[0], ctx.t(back[1])), (HELP_PATH, ctx.t("passkey.help"))],
        signed_in=signed_in,
    )


async def _registration_options(
    request: Request, ctx: PageContext, citizen_id: str, cookie: CeremonyCookie
) -> Response:
    name = ctx.t("passkeys.user_display")
    try:
        options, state = await asyncio.to_thread(
            services(request).passkeys.registration_options,
            citizen_id,
            user_name=name,
            display_name=name,
        )
    except TooManyPasskeys:
        return json_refusal(ctx, "passkeys.too_many", 409, limit=MAX_PASSKEYS)
    return cookie.options(options, state)


# ---------------------------------------------------------------- the script


@router.get("/static/webauthn.js")
async def script() -> Response:
    """The pages' one script, allowed by its hash (``PAGE_CSP``); revalidated on every use,
    so a new version never meets an old page's ``integrity``."""
    return Response(
        WEBAUTHN_SCRIPT,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


# ---------------------------------------------------------------- sign-in


@router.get(LOGIN_PATH)
async def sign_in_page(request: Request) -> Response:
    """Sign in with a passkey; with a signed-in citizen and a request, the step-up page."""
    step = await page_step(request)
    if isinstance(step, Response):
        return step
    session = await session_of(request, restricted=False) if step.pending else None
    return render(
        step.ctx,
        "passkey_signin.html",
        title=step.ctx.t("passkey.signin.title"),
        form_targets=step.targets(),
        passkey_action=f"{LOGIN_PATH}{step.query}",
        other_way=f"/login{step.query}",
        step_up_app=step.pending.client.name if step.pending and session else None,
    )


@router.post(f"{LOGIN_PATH}/options")
async def sign_in_options(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return json_refusal(ctx, "csrf.body", 403)
    options, state = services(request).passkeys.authentication_options()
    return _ceremonies(request).login.options(options, state)


@router.post(LOGIN_PATH)
async def sign_in(request: Request) -> Response:
    """Verify the assertion, then a new session as a password login makes one, committed
    with the passkey's use (one transaction)."""
    step = await form_step(request)
    if isinstance(step, Response):
        return step
    cookie = _ceremonies(request).login
    start = SessionStart(request)
    opened: list[tuple[str, str]] = []  # (cookie value, citizen id)

    def open_session(bind: Any, login: PasskeyLogin) -> None:
        cookie_value = start.open(
            login.citizen_id, auth_time=login.auth_time, amr=login.amr, acr=login.acr,
            within=bind,
        )  # fmt: skip
        opened.append((cookie_value, login.citizen_id))

    try:
        await asyncio.to_thread(
            services(request).passkeys.authenticate,
            cookie.state(request),
            credential_of(step.form),
            within=open_session,
        )
    except REFUSED as error:
        response = _refused(step.ctx, error, back=(f"/login{step.query}", "passkey.other_way"))
    else:
        cookie_value, citizen_id = opened[0]
        response = start.response(step.ctx, cookie_value, step.request_id, citizen_id)
        pending_logins: PendingLogins = request.app.state.pending_logins
        pending_logins.clear_cookie(response)  # a step-up's TOTP step, if any, is done
    cookie.clear_cookie(response)
    return response


# ---------------------------------------------------------------- the account page


async def _signed_in(
    request: Request, *, script: bool = False
) -> tuple[PageContext, FormData, Session] | Response:
    """An account form: CSRF, then the session (the script's request gets JSON)."""
    ctx, form = await checked_form(request)
    if form is None:
        return json_refusal(ctx, "csrf.body", 403) if script else csrf_refused(ctx)
    session = await session_of(request)
    if session is None:
        signed_out = json_refusal(ctx, "passkeys.signed_out", 401) if script else None
        return signed_out or see_other(ctx, "/login")
    return ctx, form, session


def _account_message(ctx: PageContext, body_key: str, status: int) -> Response:
    return keyed_message_page(
        ctx, "passkeys.heading", body_key, status=status,
        link=("/account#passkeys", "common.back_to_account"), signed_in=True,
    )  # fmt: skip


@router.post(f"{ACCOUNT_PATH}/options")
async def account_options(request: Request) -> Response:
    posted = await _signed_in(request, script=True)
    if isinstance(posted, Response):
        return posted
    ctx, _form, session = posted
    return await _registration_options(
        request, ctx, session.citizen_id, _ceremonies(request).account
    )


@router.post(ACCOUNT_PATH)
async def account_add(request: Request) -> Response:
    """Register a passkey for the signed-in citizen, then show the recovery codes."""
    posted = await _signed_in(request)
    if isinstance(posted, Response):
        return posted
    ctx, form, session = posted
    cookie = _ceremonies(request).account
    state, credential, name = cookie.state(request), credential_of(form), form_text(form, "name")
    passkeys = services(request).passkeys

    def register() -> Passkey:
        return passkeys.register(state, credential, name=name, citizen_id=session.citizen_id)

    try:
        await asyncio.to_thread(register)
    except REGISTRATION_REFUSED as error:
        response = _refused(
            ctx, error, back=("/account#passkeys", "common.back_to_account"), signed_in=True
        )
    else:
        response = await new_recovery_codes_page(
            request, ctx, session.citizen_id, notice=ctx.t("passkeys.added"),
            then="/account?done=passkey-added#passkeys",
        )  # fmt: skip
    cookie.clear_cookie(response)
    return response


async def _account_change(
    request: Request,
    passkey_id: str,
    change: Callable[[Passkeys, str, str, FormData], object],
    done: str,
) -> Response:
    """``change(passkeys, citizen_id, passkey_id, form)`` on one of the signed-in citizen's
    passkeys, then 303 to the account page saying ``done``."""
    posted = await _signed_in(request)
    if isinstance(posted, Response):
        return posted
    ctx, form, session = posted
    passkeys = services(request).passkeys
    try:
        await asyncio.to_thread(change, passkeys, session.citizen_id, passkey_id[:64], form)
    except PasskeyNotFound:
        return _account_message(ctx, "passkeys.not_found", 404)
    except LastPasskey:
        return _account_message(ctx, "passkeys.last_one", 409)
    except InvalidPasskeyName:
        return _account_message(ctx, "passkeys.bad_name", 400)
    return see_other(ctx, f"/account?done={done}#passkeys")


def _rename(passkeys: Passkeys, citizen_id: str, passkey_id: str, form: FormData) -> None:
    passkeys.rename(citizen_id, passkey_id, form_text(form, "name"))


def _remove(
    passkeys: Passkeys,
    citizen_id: str,
    passkey_id: str,
    form: FormData,
    *,
    citizens: CitizenService,
) -> None:
    passkeys.remove(citizen_id, passkey_id, keep_one=not citizens.has_password(citizen_id))


@router.post(ACCOUNT_PATH + "/{passkey_id}/rename")
async def account_rename(request: Request, passkey_id: str) -> Response:
    return await _account_change(request, passkey_id, _rename, "passkey-renamed")


@router.post(ACCOUNT_PATH + "/{passkey_id}/remove")
async def account_remove(request: Request, passkey_id: str) -> Response:
    """Remove one of the citizen's passkeys (audited by the core); never the last one of a
    citizen without a password (409: add another way to sign in first)."""
    removal = partial(_remove, citizens=services(request).citizens)  # after the CSRF check
    return await _account_change(request, passkey_id, removal, "passkey-removed")


# ---------------------------------------------------------------- activation


@router.post(f"{ACTIVATION_PATH}/options")
async def activation_options(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return json_refusal(ctx, "csrf.body", 403)
    ticket = ticket_of(request)
    if ticket is None:
        return json_refusal(ctx, "activate.setup.expired", 400)
    return await _registration_options(
        request, ctx, ticket.citizen_id, _ceremonies(request).activation
    )


def _activate(
    passkeys: Passkeys,
    activations: Activations,
    ticket: ActivationTicket,
    form: FormData,
    state: dict[str, Any],
    start: SessionStart,
) -> str:
    """Register the passkey, use the activation code up and start a session with the
    passkey's ``amr``/``acr`` (any earlier one of the browser ends), in one transaction;
    the session's cookie value."""
    now = passkeys.clock()
    opened: list[str] = []

    def use_code(bind: Any, passkey: Passkey) -> None:
        activations.complete(ticket, actor=SELF, now=now, password_set=False, bind=bind)
        opened.append(
            start.open(
                passkey.citizen_id, auth_time=passkey.created_at, amr=passkey_amr(passkey),
                acr=ACR_MULTI_FACTOR, within=bind,
            )
        )  # fmt: skip

    passkeys.register(
        state, credential_of(form), name=form_text(form, "name"), now=now,
        citizen_id=ticket.citizen_id, within=use_code,
    )  # fmt: skip
    return opened[0]


@router.post(ACTIVATION_PATH)
async def activation_finish(request: Request) -> Response:
    """Activate with a passkey: the passkey stored and the code used up together, then a
    session with the passkey's ``amr``/``acr`` and the recovery codes."""
    posted = await ticket_form(request)
    if isinstance(posted, Response):
        return posted
    ctx, form, ticket = posted
    cookie = _ceremonies(request).activation
    tickets: ActivationCookies = request.app.state.activation_cookies
    state = cookie.state(request)
    try:
        cookie_value = await asyncio.to_thread(
            _activate,
            services(request).passkeys,
            services(request).activations,
            ticket,
            form,
            state,
            SessionStart(request),
        )
    except ActivationRefused:
        response = setup_gone(ctx, "activate.setup.used")
        tickets.clear_cookie(response)
    except REGISTRATION_REFUSED as error:
        response = _refused(ctx, error, back=("/activate/setup", "passkey.try_again"))
    else:
        response = await new_recovery_codes_page(
            request, ctx, ticket.citizen_id, notice=ctx.t("activate.passkey.done")
        )
        set_session_cookie(response, request, cookie_value)
        tickets.clear_cookie(response)
    cookie.clear_cookie(response)
    return response
