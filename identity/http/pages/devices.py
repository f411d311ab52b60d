"""The account page's "Perangkat dan sesi" ("Devices and sessions", issue 18): the citizen's
live sessions, each with the browser and system that started it (a short summary, never the
``User-Agent`` header: :mod:`identity.login.user_agents`), when it started and when it was
last seen, the current one marked "this device". No place is shown: Jati keeps no location
data and does not guess one from an address.

- ``POST /account/sessions/{id}/end`` (CSRF-checked) ends one of the citizen's other
  sessions: that browser's next page asks it to sign in. An id that is not one of the
  citizen's live sessions (another citizen's, an ended or unknown one) changes nothing and
  answers 404, like the account page's other records.
- ``POST /account/sessions/end-others`` (CSRF-checked) ends every session but this one.

The current session is not ended from here: the list offers no button for it, and a form
naming it anyway is refused (400, nothing changes), since signing out of this browser is the
page's own *Sign out* (``POST /logout``), which also clears the cookie. Each ending is an
account-security audit entry (``erase`` of ``sessions`` by the citizen,
:meth:`identity.login.sessions.SessionService.end_by_id`), shown in the citizen's log.
The section's template is ``templates/_sessions.html``, included by ``account.html``.
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from identity.http.pages.account import _not_found, _posted
from identity.http.pages.common import see_other
from identity.login.sessions import SessionService
from identity.service.web.state import services

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: A session id as stored: the hex SHA-256 of its cookie value.
_SESSION_ID = re.compile(r"[0-9a-f]{64}")


def _sessions(request: Request) -> SessionService:
    sessions: SessionService = services(request).sessions
    return sessions


@router.post("/account/sessions/end-others")
async def end_other_sessions(request: Request) -> Response:
    """Sign out every other browser of the citizen (a lost or shared device)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    session = posted.session
    await asyncio.to_thread(_sessions(request).end_others, session.citizen_id, session.id)
    return see_other(posted.ctx, "/account?done=sessions-ended#sessions")


@router.post("/account/sessions/{session_id}/end")
async def end_session(request: Request, session_id: str) -> Response:
    """Sign out one other browser of the citizen."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    if session_id == posted.session.id:  # this browser: the page's own sign-out does it
        return await posted.refused(request, "sessions", posted.ctx.t("sessions.not_current"))
    if not _SESSION_ID.fullmatch(session_id):
        return _not_found(posted.ctx)
    citizen_id = posted.session.citizen_id
    if not await asyncio.to_thread(_sessions(request).end_by_id, citizen_id, session_id):
        return _not_found(posted.ctx)
    return see_other(posted.ctx, "/account?done=session-ended#sessions")
