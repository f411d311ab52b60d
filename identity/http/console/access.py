"""Who is at the console: the ``jati_console`` session (never a citizen's ``jati_session``)
and the role a page needs. A request without a live console session answers 401 with a
link to sign in; a staff member of another role answers 403; a disabled or reset account's
sessions are gone, so it answers 401 too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identity.errors import NotFound
from identity.http.pages.common import (
    PageContext,
    checked_form,
    csrf_refused,
    message_page,
    page_context,
)
from identity.service.web.state import services
from identity.staff.records import StaffMember, StaffRole
from identity.staff.sessions import CONSOLE_COOKIE, ConsoleSession

__all__ = ["Staff", "no_app", "signed_in_staff", "staff_form"]

EVERY_ROLE = frozenset(StaffRole)


@dataclass(frozen=True, slots=True)
class Staff:
    """A console request's page context, its staff member and session."""

    ctx: PageContext
    member: StaffMember
    session: ConsoleSession


def _load(request: Request) -> tuple[ConsoleSession, StaffMember] | None:
    state = services(request)
    session = state.console_sessions.get(request.cookies.get(CONSOLE_COOKIE))
    if session is None:
        return None
    try:
        member = state.staff.get(session.staff_id)
    except NotFound:
        return None
    return (session, member) if member.active else None


async def signed_in_staff(
    request: Request, roles: Iterable[StaffRole] = EVERY_ROLE, *, ctx: PageContext | None = None
) -> Staff | Response:
    """The staff member at the console, or the 401/403 page to answer."""
    ctx = ctx or page_context(request)
    found = await asyncio.to_thread(_load, request)
    if found is None:
        return message_page(
            ctx, title=ctx.t("console.signed_out.title"), body=ctx.t("console.signed_out"),
            status=401, links=[("/console/login", ctx.t("console.login.title"))],
        )  # fmt: skip
    session, member = found
    if member.role not in frozenset(roles):
        return message_page(
            ctx, title=ctx.t("console.forbidden.title"), body=ctx.t("console.forbidden"),
            status=403, links=[("/console", ctx.t("console.home"))],
        )  # fmt: skip
    return Staff(ctx, member, session)


async def staff_form(
    request: Request, roles: Iterable[StaffRole]
) -> tuple[Staff, FormData] | Response:
    """A console form and who sent it: the CSRF token is checked first (its refusal page),
    then the console session and the role (401/403), as every console POST needs."""
    ctx, form = await checked_form(request)
    if form is None:
        return csrf_refused(ctx)
    staff = await signed_in_staff(request, roles, ctx=ctx)
    if not isinstance(staff, Staff):
        return staff
    return staff, form


def no_app(staff: Staff) -> Response:
    """404 for an app that is not registered (or, to a DPO, not theirs)."""
    ctx = staff.ctx
    return message_page(
        ctx, title=ctx.t("error.not_found.title"), body=ctx.t("console.apps.unknown"),
        status=404, links=[("/console/apps", ctx.t("console.apps.title"))],
    )  # fmt: skip
