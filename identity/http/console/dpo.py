"""The data protection officer's page of the console (issue 20, part 3): the breach report.

``GET /console/breach`` is the form; ``POST /console/breach`` makes the UU PDP Art. 46
report for one of the DPO's own apps (another app, even a registered one, answers 404 as if
it did not exist) and a window of dates in the DPO's zone: the affected citizens by internal
id and pseudonym (never a NIK or a name), the data items, actions, first and last access and
count; ``format=csv`` downloads it. Contacts (email, phone) are read only when asked, each
through the audited access path. The report is recorded in the log under the DPO.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.breach import BreachWindow
from audit.errors import AuditError
from identity.http.console.access import Staff, signed_in_staff
from identity.http.pages.activity import app_name
from identity.http.pages.common import (
    NO_STORE,
    checked_form,
    csrf_refused,
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

_DPOS = (StaffRole.DPO,)


def _form(staff: Staff, request: Request, *, status: int = 200, error: str | None = None,
          header: dict[str, object] | None = None, rows: list[dict[str, object]] | None = None,
          kept: dict[str, str] | None = None) -> Response:  # fmt: skip
    state = services(request)
    apps = [(a, app_name(state, a)) for a in staff.member.apps]
    return render(
        staff.ctx, "console_breach.html", title=staff.ctx.t("console.breach.title"),
        status=status, console_user=staff.member, apps=apps, error=error, header=header,
        rows=rows, kept=kept or {},
    )  # fmt: skip


@router.get("/console/breach")
async def breach_form(request: Request) -> Response:
    staff = await signed_in_staff(request, _DPOS)
    if not isinstance(staff, Staff):
        return staff
    return _form(staff, request)


def _window(app: str, since: str, until: str, zone: str) -> BreachWindow:
    """Raises: ValueError (a date that is none), AuditError (an empty or reversed window)."""
    start = datetime.combine(date.fromisoformat(since), time(0), tzinfo=ZONES[zone])
    end = datetime.combine(date.fromisoformat(until), time(0), tzinfo=ZONES[zone])
    return BreachWindow(actor_id=app, since=start, until=end + timedelta(days=1))


@router.post("/console/breach")
async def breach(request: Request) -> Response:
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    staff = await signed_in_staff(request, _DPOS, ctx=ctx)
    if not isinstance(staff, Staff):
        return staff
    kept = {n: (form_text(form, n) or "")[:64] for n in ("app", "since", "until")}
    if kept["app"] not in staff.member.apps:  # another controller's app: as if none
        return message_page(
            ctx, title=ctx.t("error.not_found.title"), body=ctx.t("console.breach.not_yours"),
            status=404, links=[("/console/breach", ctx.t("console.breach.title"))],
        )  # fmt: skip
    try:
        window = _window(kept["app"], kept["since"], kept["until"], ctx.zone)
    except (ValueError, OverflowError, AuditError):
        return _form(staff, request, status=400, error=ctx.t("console.breach.bad_window"),
                     kept=kept)  # fmt: skip
    csv = form_text(form, "format") == "csv"
    state = services(request)
    report = await asyncio.to_thread(
        breach_report, state, window, actor=staff.member.actor, fmt="csv" if csv else "json",
        with_contact=form_text(form, "with_contact") == "yes",
    )  # fmt: skip
    if csv:
        return Response(
            report, media_type="text/csv; charset=utf-8",
            headers={**NO_STORE,
                     "Content-Disposition": 'attachment; filename="jati-breach-report.csv"'},
        )  # fmt: skip
    header, rows = breach_rows(report)
    return _form(staff, request, header=header, rows=rows, kept=kept)
