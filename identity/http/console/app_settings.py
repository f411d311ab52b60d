"""One relying app's page of the console (issue 20, part 2): its registration, its redirect
URIs edited, and taking it out of service.

- ``GET /console/apps/{id}``: the app's registration (in service or disabled, and since
  when), its redirect URIs in a form.
- ``POST /console/apps/{id}/redirect-uris``: replace them, one a line, under the rules of
  registration (exact https URIs, RFC 9700 §4.1.3; at least one for a sign-in app). The
  app's sector, and so each citizen's pairwise ``sub`` at it (OIDC Core §8.1), stays.
- ``POST /console/apps/{id}/disable`` and ``/enable``, behind a fresh authenticator code
  (destructive acts): a disabled app is unknown to authorization, the token endpoint,
  userinfo, introspection and logout, and its refresh tokens are revoked at once; enabling
  it again revives none of them.

Each change and each refusal is recorded in the log under the operator, naming the app.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import Action, Outcome
from identity.errors import InvalidCredentials, InvalidInput, NotFound, Throttled
from identity.http.console.access import Staff, no_app, signed_in_staff, staff_form
from identity.http.pages.common import (
    form_text,
    render,
    see_other,
    throttled_page,
)
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_OPERATORS = (StaffRole.OPERATOR,)
#: The data items that name these acts in the log (with the app's id as ``request_id``).
URIS_ITEM = "relying_app:redirect_uris"
STATE_ITEM = "relying_app"
_MAX_REDIRECTS = 20
_DONE = {"uris": "console.app.uris_saved", "disabled": "console.app.disabled_done",
         "enabled": "console.app.enabled_done"}  # fmt: skip


def _page(staff: Staff, state: Services, app_id: str, *, status: int = 200,
          error: str | None = None, reason: str | None = None, done: str | None = None,
          uris: str | None = None) -> Response:  # fmt: skip
    app = state.clients.find(app_id)
    assert app is not None  # the caller checked
    return render(
        staff.ctx, "console_app.html", title=staff.ctx.t("console.app.title", app=app.name),
        status=status, console_user=staff.member, app=app, error=error, reason=reason,
        done=staff.ctx.t(_DONE[done]) if done in _DONE else None,
        uris="\n".join(app.redirect_uris) if uris is None else uris,
    )  # fmt: skip


@router.get("/console/apps/{client_id}")
async def app_page(request: Request, client_id: str) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    done = request.query_params.get("done")
    return await asyncio.to_thread(lambda: _page(staff, state, app_id, done=done))


@router.post("/console/apps/{client_id}/redirect-uris")
async def replace_redirect_uris(request: Request, client_id: str) -> Response:
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    typed = (form_text(form, "redirect_uris") or "")[:4000]
    uris = [u.strip() for u in typed.splitlines() if u.strip()]
    acted = state.staff.acted
    try:
        if len(uris) > _MAX_REDIRECTS:
            raise InvalidInput(f"at most {_MAX_REDIRECTS} redirect URIs")
        await asyncio.to_thread(state.clients.replace_redirect_uris, app_id, uris)
    except InvalidInput as exc:  # names the rule broken
        await asyncio.to_thread(lambda: acted(staff.member, URIS_ITEM, outcome=Outcome.DENIED,
                                              target=app_id))  # fmt: skip
        error, reason = ctx.t("console.app.uris_refused"), str(exc)
        return await asyncio.to_thread(
            lambda: _page(staff, state, app_id, status=400, error=error, reason=reason, uris=typed)
        )
    await asyncio.to_thread(lambda: acted(staff.member, URIS_ITEM, outcome=Outcome.SUCCESS,
                                          target=app_id))  # fmt: skip
    return see_other(ctx, f"/console/apps/{app_id}?done=uris")


async def _change_state(request: Request, client_id: str, *, disable: bool) -> Response:
    """Disable or enable the app, behind a fresh authenticator code."""
    sent = await staff_form(request, _OPERATORS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    state, app_id = services(request), client_id[:64]
    if not await asyncio.to_thread(state.clients.exists, app_id):
        return no_app(staff)
    act = f"{STATE_ITEM}:{'disable' if disable else 'enable'}"
    try:
        await asyncio.to_thread(
            state.staff.reauthenticate, staff.member.id, form_text(form, "code") or "", act=act
        )
        change = state.clients.disable if disable else state.clients.enable
        await asyncio.to_thread(change, app_id)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except (InvalidCredentials, NotFound):
        error = ctx.t("console.reauth.refused")
        return await asyncio.to_thread(lambda: _page(staff, state, app_id, status=400, error=error))
    action = Action.RESTRICT if disable else Action.UPDATE
    await asyncio.to_thread(
        lambda: state.staff.acted(
            staff.member, STATE_ITEM, outcome=Outcome.SUCCESS, action=action, target=app_id
        )
    )
    return see_other(ctx, f"/console/apps/{app_id}?done={'disabled' if disable else 'enabled'}")


@router.post("/console/apps/{client_id}/disable")
async def disable_app(request: Request, client_id: str) -> Response:
    return await _change_state(request, client_id, disable=True)


@router.post("/console/apps/{client_id}/enable")
async def enable_app(request: Request, client_id: str) -> Response:
    return await _change_state(request, client_id, disable=False)
