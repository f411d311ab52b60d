"""The breach report page of the console (issue 20, part 3), for data protection officers
and auditors.

``GET /console/breach`` is the form; ``POST /console/breach`` makes the UU PDP Art. 46
report for an app and a window of dates in the reader's zone: the affected citizens by
internal id and pseudonym (never a NIK or a name), the data items, actions, first and last
access and count; ``format=csv`` downloads it. The report is recorded in the log under the
reader.

- A DPO reports on their own apps only: another app, even a registered one, answers 404 as
  if it did not exist. Notifying the citizens is the controller's duty (Art. 46(1)), so a
  DPO may ask for the contacts (email, phone), each read through the audited access path.
- An auditor (an inspectorate, the PDP authority) reports on any app, and never reads
  contacts: checking a controller's notification needs who was affected, not how to reach
  them (Art. 16(2) data minimisation); asking for them answers 403.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.breach import BreachWindow
from audit.errors import AuditError
from identity.http.console.access import Staff, signed_in_staff, staff_form
from identity.http.pages.activity import app_name
from identity.http.pages.common import (
    NO_STORE,
    form_text,
    message_page,
    render,
)
from identity.http.pages.local_time import ZONES
from identity.service.breach_reports import breach_report, breach_rows
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_READERS = (StaffRole.DPO, StaffRole.AUDITOR)


def _apps_of(staff: Staff, request: Request) -> list[tuple[str, str]]:
    """The apps this reader may report on, as (client id, name): a DPO's own, or every
    registered app for an auditor."""
    state = services(request)
    if staff.member.role is StaffRole.AUDITOR:
        every = sorted(state.clients.list(), key=lambda app: app.name.casefold())
        return [(app.client_id, app.name) for app in every]
    return [(a, app_name(state, a)) for a in staff.member.apps]


def _form(staff: Staff, request: Request, *, status: int = 200, error: str | None = None,
          header: dict[str, object] | None = None, rows: list[dict[str, object]] | None = None,
          kept: dict[str, str] | None = None) -> Response:  # fmt: skip
    apps = _apps_of(staff, request)
    return render(
        staff.ctx, "console_breach.html", title=staff.ctx.t("console.breach.title"),
        status=status, console_user=staff.member, apps=apps, error=error, header=header,
        rows=rows, kept=kept or {}, contacts=staff.member.role is StaffRole.DPO,
    )  # fmt: skip


@router.get("/console/breach")
async def breach_form(request: Request) -> Response:
    staff = await signed_in_staff(request, _READERS)
    if not isinstance(staff, Staff):
        return staff
    return await asyncio.to_thread(_form, staff, request)


def _window(app: str, since: str, until: str, zone: str) -> BreachWindow:
    """Raises: ValueError (a date that is none), AuditError (an empty or reversed window)."""
    start = datetime.combine(date.fromisoformat(since), time(0), tzinfo=ZONES[zone])
    end = datetime.combine(date.fromisoformat(until), time(0), tzinfo=ZONES[zone])
    return BreachWindow(actor_id=app, since=start, until=end + timedelta(days=1))


@router.post("/console/breach")
async def breach(request: Request) -> Response:
    sent = await staff_form(request, _READERS)
    if isinstance(sent, Response):
        return sent
    staff, form = sent
    ctx = staff.ctx
    kept = {n: (form_text(form, n) or "")[:64] for n in ("app", "since", "until")}
    with_contact = form_text(form, "with_contact") == "yes"
    if with_contact and staff.member.role is not StaffRole.DPO:
        return message_page(
            ctx, title=ctx.t("console.forbidden.title"), body=ctx.t("console.breach.no_contacts"),
            status=403, links=[("/console/breach", ctx.t("console.breach.title"))],
        )  # fmt: skip
    apps = await asyncio.to_thread(_apps_of, staff, request)
    if kept["app"] not in {app for app, _name in apps}:  # another controller's: as if none
        return message_page(
            ctx, title=ctx.t("error.not_found.title"), body=ctx.t("console.breach.not_yours"),
            status=404, links=[("/console/breach", ctx.t("console.breach.title"))],
        )  # fmt: skip
    try:
        window = _window(kept["app"], kept["since"], kept["until"], ctx.zone)
    except (ValueError, OverflowError, AuditError):
        return await asyncio.to_thread(
            _form, staff, request, status=400, error=ctx.t("console.breach.bad_window"), kept=kept
        )
    csv = form_text(form, "format") == "csv"
    state = services(request)
    report = await asyncio.to_thread(
        breach_report, state, window, actor=staff.member.actor, fmt="csv" if csv else "json",
        with_contact=with_contact,
    )  # fmt: skip
    if csv:
        return Response(
            report, media_type="text/csv; charset=utf-8",
            headers={**NO_STORE,
                     "Content-Disposition": 'attachment; filename="jati-breach-report.csv"'},
        )  # fmt: skip
    header, rows = breach_rows(report)
    return await asyncio.to_thread(_form, staff, request, header=header, rows=rows, kept=kept)
