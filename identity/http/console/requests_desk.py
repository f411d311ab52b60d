"""The data protection officer's requests page of the console (issue 20, part 3).

- ``GET /console/requests``: a DPO of some apps sees the data-subject requests addressed to
  those apps' controllers: the open ones first, the soonest due first, each with the hours
  left before its 72-hour due time or, past it, marked overdue with the hours late (UU PDP
  Art. 30, 32); then the latest closed ones. Each names the citizen as the app knows them,
  by their pairwise ``sub`` there (OIDC Core §8.1), never by name or NIK. The platform's DPO
  (a DPO of no app) sees the requests to Jati itself.
- ``POST /console/requests/{id}/complete``: answer an open access request (the citizen can
  then download Jati's export under it) or confirm a correction.
- ``POST /console/requests/{id}/lift``: the platform's DPO lifts a citizen's restriction of
  processing (Art. 41), behind a fresh authenticator code: processing resumes everywhere.

Each act is recorded under the officer and told in the citizen's log
(:class:`consent.requests.controllers.ControllerDesk`); a request that is not the officer's
answers 404.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from consent.errors import InvalidSubjectRequest, RequestNotFound
from consent.requests.records import RequestStatus, SubjectRequest
from identity.errors import InvalidCredentials, NotFound, Throttled
from identity.http.console.access import Staff, signed_in_staff, staff_form
from identity.http.pages.common import message_page, render, see_other, throttled_page
from identity.oidc.issuance import sector
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_DPOS = (StaffRole.DPO,)
LIFT_ACT = "restriction:lift"
_DONE = {"completed": "console.requests.completed", "lifted": "console.requests.lifted"}


@dataclass(frozen=True, slots=True)
class _Row:
    request: SubjectRequest
    app: str | None  # the app's name, for a request to its controller
    who: str  # the citizen as the reader may know them: the app's sub, or Jati's id
    overdue: bool
    hours: int  # left before the due time, or late past it
    restricted: bool  # a restriction that still holds (the platform's DPO may lift it)


def _rows(state: Services, staff: Staff) -> list[_Row]:
    desk, apps = state.controller_desk, staff.member.apps
    found = desk.requests_for(apps if apps else None)
    restricted = desk.restricted(found) if not apps else set()
    now = state.audit_log.clock()
    names: dict[str, tuple[str, str]] = {}
    rows = []
    for r in found:
        app = None
        who = r.subject_id
        if r.client_id is not None:
            if r.client_id not in names:
                registered = state.clients.find(r.client_id)
                names[r.client_id] = (
                    (registered.name, sector(registered)) if registered else (r.client_id, "")
                )
            app, area = names[r.client_id]
            who = state.issuance.tokens.subject(r.subject_id, area) if area else "-"
        overdue = r.is_overdue(now)
        hours = r.hours_late(now) if overdue else r.hours_left(now)
        rows.append(_Row(r, app, who, overdue, int(hours + 0.999), r.id in restricted))
    return rows


def _page(staff: Staff, state: Services, *, status: int = 200, error: str | None = None,
          done: str | None = None) -> Response:  # fmt: skip
    ctx = staff.ctx
    rows = _rows(state, staff)
    return render(
        ctx, "console_requests.html", title=ctx.t("console.requests.title"), status=status,
        console_user=staff.member, rows=rows, error=error, platform=not staff.member.apps,
        open_count=sum(r.request.status is RequestStatus.RECEIVED for r in rows),
        overdue_count=sum(r.overdue for r in rows), done=ctx.t(done) if done else None,
    )  # fmt: skip


@router.get("/console/requests")
async def requests_page(request: Request) -> Response:
    staff = await signed_in_staff(request, _DPOS)
    if not isinstance(staff, Staff):
        return staff
    done = _DONE.get(request.query_params.get("done", ""))
    state = services(request)
    return await asyncio.to_thread(lambda: _page(staff, state, done=done))


def _not_yours(staff: Staff) -> Response:
    ctx = staff.ctx
    return message_page(
        ctx, title=ctx.t("error.not_found.title"), body=ctx.t("console.requests.unknown"),
        status=404, links=[("/console/requests", ctx.t("console.requests.title"))],
    )  # fmt: skip


@router.post("/console/requests/{request_id}/complete")
async def complete(request: Request, request_id: str) -> Response:
    sent = await staff_form(request, _DPOS)
    if isinstance(sent, Response):
        return sent
    staff, _form = sent
    state = services(request)
    try:
        await asyncio.to_thread(
            lambda: state.controller_desk.complete(
                request_id[:64], client_ids=staff.member.apps, actor=staff.member.actor
            )
        )
    except RequestNotFound:
        return _not_yours(staff)
    except InvalidSubjectRequest:
        error = staff.ctx.t("console.requests.closed")
        return await asyncio.to_thread(lambda: _page(staff, state, status=409, error=error))
    return see_other(staff.ctx, "/console/requests?done=completed")


@router.post("/console/requests/{request_id}/lift")
async def lift(request: Request, request_id: str) -> Response:
    sent = await staff_form(request, _DPOS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    if staff.member.apps:  # an app's DPO: Jati's restrictions are not theirs
        return _not_yours(staff)
    state = services(request)
    code = form.get("code")
    try:
        await asyncio.to_thread(
            state.staff.reauthenticate, staff.member.id, code if isinstance(code, str) else "",
            act=LIFT_ACT,
        )  # fmt: skip
        await asyncio.to_thread(
            lambda: state.controller_desk.lift(request_id[:64], actor=staff.member.actor)
        )
    except Throttled as exc:
        return throttled_page(staff.ctx, exc)
    except (InvalidCredentials, NotFound):
        error = staff.ctx.t("console.reauth.refused")
        return await asyncio.to_thread(lambda: _page(staff, state, status=400, error=error))
    except RequestNotFound:
        return _not_yours(staff)
    except InvalidSubjectRequest:
        error = staff.ctx.t("console.requests.closed")
        return await asyncio.to_thread(lambda: _page(staff, state, status=409, error=error))
    return see_other(staff.ctx, "/console/requests?done=lifted")
