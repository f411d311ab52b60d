"""The auditor's charts of the console (issue 20, part 4): ``GET /console/charts``.

Over the last 7, 14 (the default), 30 or 90 days in the auditor's zone, drawn on the server
(:mod:`identity.http.console.charts`), each with its table:

- the apps' accesses to citizens' data, per app per day;
- the releases the consent gate refused, per app per day (UU PDP Art. 20(2), 22, 41);
- withdrawals of consent per day (Art. 9, 40);
- the data-subject requests by kind and state, overdue apart (Art. 14).

The counts come from the log's query columns, which ``jati audit verify`` checks against
each entry (:mod:`audit.statistics`), and from the request register; no personal data and no
pseudonym is read. Opening the page is recorded as an auditor's query (``statistics``).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from audit.records import auditor_query_entry
from audit.statistics import LogActivity, log_activity
from identity.http.console.access import Staff, signed_in_staff
from identity.http.console.charts import Chart, stacked_chart
from identity.http.pages.activity import app_name
from identity.http.pages.common import PageContext, render
from identity.http.pages.local_time import ZONES, local_day
from identity.service.services import Services
from identity.service.web.state import services
from identity.staff.records import StaffRole

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_AUDITORS = (StaffRole.AUDITOR,)
WINDOWS = (7, 14, 30, 90)
DEFAULT_WINDOW = 14
_KINDS = ("access", "correction", "restriction", "erasure")
_STATES = ("overdue", "received", "completed", "refused")


def _window(ctx: PageContext, days: int, now: datetime) -> tuple[list[date], datetime, datetime]:
    """The last ``days`` local days up to today, and their bounds in time."""
    zone = ZONES[ctx.zone]
    today = now.astimezone(zone).date()
    window = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    since = datetime.combine(window[0], time(0), tzinfo=zone)
    return window, since, datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)


def _day_chart(ctx: PageContext, state: Services, key: str, series: dict[date, dict[str, int]],
               window: list[date], names: dict[str, str]) -> Chart:  # fmt: skip
    t = ctx.t
    total = sum(sum(day.values()) for day in series.values())
    return stacked_chart(
        id=key, title=t(f"console.charts.{key}"),
        description=t("console.charts.summary", total=total, days=len(window)),
        categories=[(d.isoformat(), local_day(d, ctx.lang)) for d in window],
        values={d.isoformat(): counts for d, counts in series.items()},
        names=names, other=t("console.charts.other"),
        label_every=max(1, len(window) // 7),
    )  # fmt: skip


def _charts(ctx: PageContext, state: Services, days: int, staff: Staff) -> list[Chart]:
    window, since, until = _window(ctx, days, state.audit_log.clock())
    offset = ZONES[ctx.zone].utcoffset(None) or timedelta(0)
    counts = state.audit_log.store.daily_counts(since=since, until=until, utc_offset=offset)
    activity: LogActivity = log_activity(window, counts)
    apps = {a for day in (*activity.accesses.values(), *activity.refusals.values()) for a in day}
    names = {a: app_name(state, a) for a in apps} | {"": ctx.t("console.charts.withdrawals")}
    requests = state.subject_requests.register.counts()
    by_kind = {k: {s: requests.get((k, s), 0) for s in _STATES} for k in _KINDS}
    state.audit_recorder.record(
        auditor_query_entry(time=state.audit_log.clock(), actor=staff.member.actor,
                            resource="statistics", filters=())
    )  # fmt: skip
    t = ctx.t
    return [
        _day_chart(ctx, state, "accesses", activity.accesses, window, names),
        _day_chart(ctx, state, "refusals", activity.refusals, window, names),
        _day_chart(ctx, state, "withdrawals", activity.withdrawals, window, names),
        stacked_chart(
            id="requests", title=t("console.charts.requests"),
            description=t("console.charts.requests_summary",
                          total=sum(sum(v.values()) for v in by_kind.values()),
                          overdue=sum(v["overdue"] for v in by_kind.values())),
            categories=[(k, t(f"console.charts.kind.{k}")) for k in _KINDS], values=by_kind,
            names={s: t(f"console.charts.state.{s}") for s in _STATES},
            other=t("console.charts.other"),
        ),
    ]  # fmt: skip


@router.get("/console/charts")
async def charts(request: Request) -> Response:
    staff = await signed_in_staff(request, _AUDITORS)
    if not isinstance(staff, Staff):
        return staff
    asked = request.query_params.get("days", "")
    days = int(asked) if asked in {str(w) for w in WINDOWS} else DEFAULT_WINDOW  # never echoed
    state = services(request)
    drawn = await asyncio.to_thread(_charts, staff.ctx, state, days, staff)
    return render(
        staff.ctx, "console_charts.html", title=staff.ctx.t("console.charts.title"),
        console_user=staff.member, charts=drawn, days=days, windows=WINDOWS,
    )  # fmt: skip
