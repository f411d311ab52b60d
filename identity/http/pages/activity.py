"""Who used my data (UU PDP Art. 31-32), as a story: ``GET /account/activity``.

One plain sentence per event (:mod:`identity.http.pages.story`), newest first, in the
citizen's time zone (``?tz=WIB|WITA|WIT``, remembered in a cookie). Filters by app
(``?app=CLIENT_ID``) and by period (``?period=7|30|90|365`` days); the paging link
(``?before=LEAF``) keeps them. Entries not yet covered by a checkpoint are marked "sedang
dicatat"; every event's raw entries are one click away (``<details>``), each with its leaf
index and, once a checkpoint covers it, a link to its RFC 9162 inclusion proof. The account
page shows the latest few events and links here.

Without a session the page redirects to ``/login``. A filter value that is not one of the
choices is ignored (the page shows everything), never echoed into a query.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from consent.purposes import LocalizedText
from identity.citizens.activity import activity_page, apps_in
from identity.http.pages.common import PageContext, page_context, render, see_other, session_of
from identity.http.pages.local_time import ZONES
from identity.http.pages.story import Names, StoryLine, story_lines
from identity.service.services import Services
from identity.service.web.state import services

__all__ = ["PERIODS", "Activity", "app_name", "load_activity", "router"]

router = APIRouter(include_in_schema=False)

#: Raw entries read for one page of the story (several make one event).
PAGE_ENTRIES = 50
#: ``?period=`` choices, in days.
PERIODS = ("7", "30", "90", "365")
_APP_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_MAX_LEAF = 2**62


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's filters and cursor, each None when absent or not a valid choice."""

    app: str | None = None
    period: str | None = None
    before: int | None = None

    def link(self, ctx: PageContext, *, before: int | None = None) -> str:
        """This page with the same filters (and another cursor)."""
        params = {"app": self.app, "period": self.period, "before": before}
        query = [(k, str(v)) for k, v in params.items() if v is not None]
        query += [("tz", ctx.zone), ("lang", ctx.lang)]
        return f"/account/activity?{urlencode(query)}"


def filters_of(request: Request) -> Filters:
    params = request.query_params
    app = params.get("app") or None
    period = params.get("period") or None
    raw_before = params.get("before", "")
    ok = raw_before.isascii() and raw_before.isdigit() and len(raw_before) < 20
    before = int(raw_before) if ok else None
    return Filters(
        app if app is not None and _APP_ID.fullmatch(app) else None,
        period if period in PERIODS else None,
        before if before is not None and before <= _MAX_LEAF else None,
    )


@dataclass(frozen=True, slots=True)
class Activity:
    """One page of the story: its lines, the cursor to older events, the apps to filter by."""

    lines: list[StoryLine]
    next_before: int | None
    apps: list[tuple[str, str]]  # (client id, name), by name


def app_name(state: Services, app_id: str) -> str:
    """A relying app's name (a disabled one's too), or its id when it is no app's id."""
    app = state.clients.find(app_id)
    return app.name if app is not None else app_id


def _names(state: Services, app_ids: set[str]) -> Names:
    apps: dict[str, str] = {}
    purposes: dict[tuple[str, str], LocalizedText] = {}
    for app_id in app_ids:
        apps[app_id] = app_name(state, app_id)
        for purpose in state.consent_ledger.purposes(app_id):
            purposes[(app_id, purpose.code)] = purpose.description
    return Names(apps, purposes)


def load_activity(
    state: Services, ctx: PageContext, citizen_id: str, filters: Filters, *, limit: int
) -> Activity:
    """The story's page for ``filters`` (blocking: run it in a thread)."""
    since = None
    if filters.period is not None:
        since = state.audit_log.clock() - timedelta(days=int(filters.period))
    page = activity_page(
        state.audit_log, state.pseudonymizer, citizen_id,
        app_id=filters.app, since=since, before=filters.before, limit=limit,
    )  # fmt: skip
    connected = {c["app_id"] for c in state.consent_ledger.consents_of(citizen_id)}
    names = _names(state, apps_in(page.stories) | connected)
    return Activity(
        story_lines(ctx.t, names, page.stories, page.checkpoint_size),
        page.next_before,
        sorted(((a, names.apps[a]) for a in connected), key=lambda pair: pair[1].lower()),
    )


def to_login(ctx: PageContext) -> Response:
    return see_other(ctx, "/login")


@router.get("/account/activity")
async def activity(request: Request) -> Response:
    ctx = page_context(request)
    session = await session_of(request)
    if session is None:
        return to_login(ctx)
    filters = filters_of(request)
    shown = await asyncio.to_thread(
        load_activity, services(request), ctx, session.citizen_id, filters, limit=PAGE_ENTRIES
    )
    older = shown.next_before
    return render(
        ctx, "activity.html", title=ctx.t("account.access_log"), signed_in=True,
        activity=shown, filters=filters, periods=PERIODS, zones=list(ZONES),
        next_link=filters.link(ctx, before=older) if older is not None else None,
        first_link=filters.link(ctx) if filters.before is not None else None,
    )  # fmt: skip
