"""Logout: the sign-out button and the logout confirmation page (OpenID Connect
RP-Initiated Logout 1.0 §2).

- ``POST /logout``: CSRF-checked; ends the browser's session and removes its cookie (and a
  pending login's, :mod:`identity.http.pages.login`).

``/end_session`` (:mod:`identity.http.end_session`) ends a session at once only on an
``id_token_hint`` of the session's citizen. Any other request (a bare link another site
put on its page, a ``client_id`` alone, a hint naming someone else) comes here, because
the OP "MUST ask the End-User" then (issue 17: a cross-site link signed citizens out).

- ``GET /end_session/confirm[?client_id=&post_logout_redirect_uri=&state=]``: the question,
  naming the app when one is named, with *Ya, keluar* and *Batal, tetap masuk*. The query
  is checked again (:meth:`identity.oidc.logout.RpInitiatedLogout.check`): a bad one is a 400
  page. Without a live session there is nothing to ask: the browser goes where a logout
  would send it (the registered URI with ``state``, or the signed-out page).
- ``POST /end_session/confirm[?...]``: CSRF-checked (:mod:`identity.http.pages.csrf`; 403 and
  nothing ends without the token). *Ya, keluar* ends the session, clears its cookie and
  goes to the registered ``post_logout_redirect_uri`` with ``state``, or shows the
  signed-out page; *Batal* keeps the session and goes to the account page.

The page follows the pages' rules (:mod:`identity.http.pages.common`): Bahasa Indonesia
first with the English switch, no script, ``Content-Security-Policy`` whose
``form-action`` also names the origin of the registered URI (Chromium checks a form's
redirects against it), ``Cache-Control: no-store``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from identity.errors import AuthorizationError
from identity.http.pages import common
from identity.http.pages.login import PendingLogins
from identity.http.session_cookie import clear_session_cookie
from identity.login.sessions import SESSION_COOKIE, SessionService
from identity.oidc.logout import CONFIRMATION_PATH, LogoutRequest, RpInitiatedLogout
from identity.oidc.request_parameters import split_repeated
from identity.service.web.state import services

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def clear_sign_in_cookies(response: Response, request: Request) -> None:
    """Clear the session's cookie and a pending login's: what ending a session sends."""
    clear_session_cookie(response, request)
    pending_logins: PendingLogins = request.app.state.pending_logins
    pending_logins.clear_cookie(response)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End this browser's session (the RP-initiated logout of OIDC is ``/end_session``)."""
    ctx, form = await common.checked_form(request)
    if form is None:
        return common.csrf_refused(ctx)
    sessions: SessionService = services(request).sessions
    await asyncio.to_thread(sessions.end, request.cookies.get(SESSION_COOKIE))
    response = common.signed_out_page(ctx)
    clear_sign_in_cookies(response, request)
    return response


def _parameters(request: Request) -> dict[str, str] | None:
    """The query's parameters, or None when one is repeated."""
    params, repeated = split_repeated(request.query_params.multi_items())
    return None if repeated else params


def _invalid(ctx: common.PageContext) -> Response:
    return common.keyed_message_page(
        ctx, "end_session.title", "end_session.invalid", status=400,
        link=("/account", "nav.account"),
    )  # fmt: skip


def _signed_out(ctx: common.PageContext, redirect: str | None) -> Response:
    if redirect is not None:
        return common.see_other(ctx, redirect)
    return common.signed_out_page(ctx)


def _action(checked: LogoutRequest) -> str:
    query = urlencode(checked.confirmation_parameters())
    return f"{CONFIRMATION_PATH}?{query}" if query else CONFIRMATION_PATH


@router.get(CONFIRMATION_PATH)
async def confirmation_page(request: Request) -> Response:
    ctx = common.page_context(request)
    params = _parameters(request)
    logout: RpInitiatedLogout = services(request).logout
    try:
        if params is None:
            raise AuthorizationError("invalid_request", "a parameter is repeated")
        checked = await asyncio.to_thread(logout.check, params)
    except AuthorizationError:
        return _invalid(ctx)
    if await common.session_of(request) is None:
        return _signed_out(ctx, checked.after_logout())
    target = common.origin_of(checked.post_logout_redirect_uri or "")
    return common.render(
        ctx,
        "end_session.html",
        title=ctx.t("end_session.title"),
        form_targets=(target,) if target else (),
        action=_action(checked),
        app_name=checked.app.name if checked.app is not None else None,
    )


@router.post(CONFIRMATION_PATH)
async def confirmation_submit(request: Request) -> Response:
    ctx, form = await common.checked_form(request)
    if form is None:
        return common.csrf_refused(ctx)
    action = common.form_text(form, "action")
    if action == "cancel":
        return common.see_other(ctx, "/account")
    params = _parameters(request)
    if action != "confirm" or params is None:
        return _invalid(ctx)
    logout: RpInitiatedLogout = services(request).logout
    try:
        outcome = await asyncio.to_thread(
            logout.end_session, params, request.cookies.get(SESSION_COOKIE), confirmed=True
        )
    except AuthorizationError:
        return _invalid(ctx)
    response = _signed_out(ctx, outcome.redirect)
    if outcome.ended:
        clear_sign_in_cookies(response, request)
    return response
