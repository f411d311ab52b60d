"""The operator's pages of the console (issue 20, part 2), beyond the service status.

- ``GET /console/keys``: the token signing keys (id, algorithm, state, whether published,
  created), never a private part; ``POST /console/keys/rotate`` rotates them (each
  algorithm's next key becomes active, the active one retired and still published for a
  token's lifetime and a minute, as ``jati keys rotate`` does). A rotation is a destructive
  act: it needs a fresh authenticator code, and the code's check and its outcome are
  recorded in the log under the operator.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.entry import Outcome
from identity.errors import InvalidCredentials, Throttled
from identity.http.console.access import Staff, signed_in_staff
from identity.http.pages.common import (
    checked_form,
    csrf_refused,
    form_text,
    render,
    see_other,
    throttled_page,
)
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_OPERATORS = (StaffRole.OPERATOR,)
KEYS_ACT = "signing_keys"


def _keys_page(staff: Staff, state: Services, *, status: int = 200, error: str | None = None,
               done: bool = False) -> Response:  # fmt: skip
    now = state.audit_log.clock()
    keys = [
        {"kid": k.kid, "alg": k.alg, "state": k.state.value, "published": k.published_at(now),
         "created_at": k.created_at}
        for k in state.key_store.list_keys()
    ]  # fmt: skip
    return render(
        staff.ctx, "console_keys.html", title=staff.ctx.t("console.keys.title"), status=status,
        console_user=staff.member, keys=keys, error=error,
        done=staff.ctx.t("console.keys.rotated") if done else None,
    )  # fmt: skip


@router.get("/console/keys")
async def keys(request: Request) -> Response:
    staff = await signed_in_staff(request, _OPERATORS)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    done = request.query_params.get("done") == "rotated"
    return await asyncio.to_thread(lambda: _keys_page(staff, state, done=done))


@router.post("/console/keys/rotate")
async def rotate(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    staff = await signed_in_staff(request, _OPERATORS, ctx=ctx)
    if not isinstance(staff, Staff):
        return staff
    state = services(request)
    code = form_text(form, "code") or ""
    try:
        await asyncio.to_thread(state.staff.reauthenticate, staff.member.id, code, act=KEYS_ACT)
    except Throttled as exc:
        return throttled_page(ctx, exc)
    except InvalidCredentials:
        error = ctx.t("console.reauth.refused")
        return await asyncio.to_thread(lambda: _keys_page(staff, state, status=400, error=error))

    def run() -> None:
        now = state.audit_log.clock()
        state.key_store.ensure(SUPPORTED_ALGORITHMS, now=now)
        state.key_store.rotate(
            SUPPORTED_ALGORITHMS, now=now,
            publish_for=timedelta(seconds=state.settings.token_lifetime + 60),
        )  # fmt: skip

    try:
        await asyncio.to_thread(run)
    except Exception:
        await asyncio.to_thread(state.staff.acted, staff.member, KEYS_ACT, outcome=Outcome.ERROR)
        raise
    await asyncio.to_thread(state.staff.acted, staff.member, KEYS_ACT, outcome=Outcome.SUCCESS)
    return see_other(ctx, "/console/keys?done=rotated")
