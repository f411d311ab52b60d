"""Erasure on its own page (UU PDP Art. 8, 43-45; PP 71/2019 Art. 18 self-service deletion):
``GET /account/erase`` and ``POST /account/erase``.

The page says, before anything happens, what is erased (the citizen's personal data and
every way to sign in), what is kept and on which basis (the request service's
``retained_after_erasure``), that every connected app loses access at once, and that it
cannot be undone. The erasure then needs a ticked statement and a fresh proof that the
citizen is at the keyboard, whatever they have: their password (throttled like a login),
a code of their authenticator app, or a passkey (``POST /account/erase/passkey/options``
and the script's assertion; the passkey must be the citizen's own). A refusal changes
nothing and answers the page again with a 400 in the page's language. On success the
request is recorded and carried out at once, and every session of the citizen ends
(:func:`identity.http.pages.account.erased_page`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from consent.requests.records import RequestKind, RequestStatus, RetainedData
from identity.citizens.fields import PERSONAL_FIELDS
from identity.errors import InvalidCode, InvalidCredentials, NoEnrolment, Throttled
from identity.http.pages.account import erased_page
from identity.http.pages.common import (
    PageContext,
    checked_form,
    csrf_refused,
    form_text,
    page_context,
    render,
    see_other,
    session_of,
    throttled_page,
)
from identity.http.pages.connected_apps import connected_apps
from identity.http.pages.intent import forget_intent, keep_intent, kept_for, posted_session
from identity.http.pages.passkeys import (
    ERASE_PATH,
    REFUSED,
    PasskeyCeremonies,
    credential_of,
    json_refusal,
)
from identity.login.sessions import Session
from identity.service.services import Services
from identity.service.web.state import services

__all__ = ["ERASE_PATH", "router"]

router = APIRouter(include_in_schema=False)

#: What the erasure removes besides the personal fields (its ways to sign in).
ACCESS_ITEMS = ("password", "passkey", "totp", "recovery_codes", "sessions", "tokens")


@dataclass(frozen=True, slots=True)
class _Methods:
    """The ways this citizen can prove they are at the keyboard."""

    password: bool
    totp: bool
    passkey: bool


def _load(state: Services, citizen_id: str) -> tuple[_Methods, list[str], list[RetainedData]]:
    methods = _Methods(
        password=state.citizens.has_password(citizen_id),
        totp=state.second_factor.is_enabled(citizen_id),
        passkey=state.passkeys.is_enabled(citizen_id),
    )
    apps = [a.name for a in connected_apps(state, citizen_id) if a.consents]
    return methods, apps, list(state.subject_requests.retained_after_erasure)


async def _page(
    ctx: PageContext,
    request: Request,
    session: Session,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    refill: Mapping[str, str] | None = None,
) -> Response:
    methods, apps, kept = await asyncio.to_thread(_load, services(request), session.citizen_id)
    return render(
        ctx, "erase.html", title=ctx.t("erase.title"), status=status, signed_in=True,
        methods=methods, apps=apps, errors=errors or {}, refill=refill,
        erased_items=[*PERSONAL_FIELDS, *ACCESS_ITEMS],
        kept=[(k.description_en if ctx.lang == "en" else k.description_id, k.basis) for k in kept],
    )  # fmt: skip


@router.get(ERASE_PATH)
async def erase_page(request: Request) -> Response:
    ctx = page_context(request)
    session = await session_of(request)
    if session is None:
        return see_other(ctx, "/login")
    refill = kept_for(request, ERASE_PATH, session.citizen_id)
    response = await _page(ctx, request, session, refill=refill)
    if refill is not None:
        forget_intent(request, response)
    return response


@router.post(f"{ERASE_PATH}/passkey/options")
async def passkey_options(request: Request) -> Response:
    """The passkey ceremony's options (the script's request); the state in a sealed cookie
    on :data:`ERASE_PATH`."""
    ctx, form = await checked_form(request)
    if form is None:
        return json_refusal(ctx, "csrf.body", 403)
    if await session_of(request) is None:
        return json_refusal(ctx, "passkeys.signed_out", 401)
    options, state = services(request).passkeys.authentication_options()
    ceremonies: PasskeyCeremonies = request.app.state.passkey_ceremonies
    return ceremonies.erasure.options(options, state)


async def _proof(request: Request, form: FormData, session: Session) -> str | None:
    """None when the citizen proved it is them, else the message key of the refusal.

    Raises:
        Throttled, Overloaded: from the password check (answered as 429 / 503).
    """
    state = services(request)
    method = form_text(form, "method")
    citizen_id = session.citizen_id
    if method == "password":
        password = form_text(form, "password") or ""
        if not password:
            return "erase.password_missing"
        address = request.client.host if request.client else "unknown"
        try:
            await state.citizens.confirm_password_async(citizen_id, password, address=address)
        except InvalidCredentials:
            return "erase.password_wrong"
        return None
    if method == "totp":
        try:
            code = form_text(form, "code") or ""
            await asyncio.to_thread(state.second_factor.verify, citizen_id, code)
        except (InvalidCode, NoEnrolment):
            return "erase.code_wrong"
        return None
    if method == "passkey":
        cookie = request.app.state.passkey_ceremonies.erasure
        try:
            login = await asyncio.to_thread(
                state.passkeys.authenticate, cookie.state(request), credential_of(form)
            )
        except REFUSED:
            return "erase.passkey_refused"
        return None if login.citizen_id == citizen_id else "erase.passkey_not_yours"
    return "erase.choose_method"


@router.post(ERASE_PATH)
async def erase(request: Request) -> Response:
    """Erase the citizen's account after the statement and a fresh proof (Art. 43-45)."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    session, owner = await posted_session(request)
    if session is None:  # kept for the same citizen (identity/http/pages/intent.py)
        return keep_intent(ctx, request, form, owner)
    if form_text(form, "confirm-erasure") != "yes":
        return await _page(ctx, request, session, status=400, errors=_error(ctx, "erase.confirm"))
    try:
        refused = await _proof(request, form, session)
    except Throttled as exc:  # Overloaded too: 503
        return throttled_page(ctx, exc)
    if refused is not None:
        return await _page(ctx, request, session, status=400, errors=_error(ctx, refused))
    state = services(request)
    recorded = await asyncio.to_thread(
        state.subject_requests.submit, session.citizen_id, RequestKind.ERASURE.value
    )
    if recorded.status is not RequestStatus.COMPLETED:  # an exception keeps data: say so
        return see_other(ctx, "/account?done=request#requests")
    response = await erased_page(ctx, request, session.citizen_id, recorded)
    request.app.state.passkey_ceremonies.erasure.clear_cookie(response)
    return response


def _error(ctx: PageContext, key: str) -> dict[str, Any]:
    return {"erase": ctx.t(key)}
