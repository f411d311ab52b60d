"""The citizen's login session as the browser holds it: the ``jati_session`` cookie.

:func:`current_session` reads it (``/authorize`` and every page); the login pages set it
(:func:`set_session_cookie`), and logouts and an erasure remove it
(:func:`clear_session_cookie`). The cookie's attributes are the session service's
(:meth:`identity.login.sessions.SessionService.cookie_attributes`).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from identity.login.sessions import SESSION_COOKIE, Session, SessionService
from identity.service.web.state import services

__all__ = ["clear_session_cookie", "current_session", "set_session_cookie"]


async def current_session(request: Request) -> Session | None:
    """The citizen's live session named by the request's ``jati_session`` cookie, or None.

    Reads the database off the event loop: ``session = await current_session(request)``.
    """
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    sessions: SessionService = services(request).sessions
    return await asyncio.to_thread(sessions.get, value)


def set_session_cookie(response: Response, request: Request, cookie_value: str) -> None:
    """Set the session cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` under https,
    ``Path=/``, ``Max-Age`` = the session lifetime) on ``response``."""
    sessions: SessionService = services(request).sessions
    response.set_cookie(value=cookie_value, **sessions.cookie_attributes())


def clear_session_cookie(response: Response, request: Request) -> None:
    """Remove the session cookie from the browser (same attributes, expired)."""
    sessions: SessionService = services(request).sessions
    attributes = sessions.cookie_attributes()
    response.delete_cookie(
        attributes["key"],
        path=attributes["path"],
        secure=attributes["secure"],
        httponly=attributes["httponly"],
        samesite=attributes["samesite"],
    )
