"""No lost actions: a form posted after the citizen's session expired is kept for them.

Instead of a bare login page, the citizen reads "Sesi berakhir; permintaan belum dikirim".
The form's fields travel sealed in the ``jati_intent`` cookie (AES-256-GCM under a key of
their own, :class:`~identity.http.pages.sealed_cookies.SealedCookie`, 30 minutes,
``SameSite=Strict``), never secrets: no CSRF token, password, code or passkey response.
After sign-in the citizen lands on the page of that form, refilled, with a notice that
nothing was sent; nothing happens until they submit again.

The intent is bound to the citizen whose session expired (the session row stays, unusable,
for :data:`identity.login.sessions.EXPIRED_KEPT`): it is kept only when that citizen is
known, and refilled only for the same citizen, so that on a shared device the next person
never sees what the previous one typed. A signed-out browser (no session row) gets the
login page as before.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from identity.http.pages.common import PageContext, see_other
from identity.http.pages.csrf import CSRF_FIELD
from identity.http.pages.sealed_cookies import SealedCookie
from identity.keys.derived_keys import PAGE_INTENT_KEY
from identity.keys.sealing import PAGE_INTENT_AD
from identity.login.sessions import SESSION_COOKIE, Session, SessionService
from identity.service.web.state import services

__all__ = [
    "INTENT_COOKIE",
    "IntentCookie",
    "after_sign_in",
    "forget_intent",
    "keep_intent",
    "kept_for",
    "posted_session",
    "waiting",
]

INTENT_COOKIE = "jati_intent"
INTENT_LIFETIME = timedelta(minutes=30)
#: Fields never kept: the CSRF token, the language, every secret, and an irreversible act's
#: statement.
_NOT_KEPT = frozenset(
    {CSRF_FIELD, "lang", "password", "code", "credential", "confirm-erasure"}
)  # the erasure's statement is ticked again, by hand
_MAX_FIELDS = 12
_MAX_KEPT_CHARS = 2_400
#: A form's path -> the page (and section) it came from.
_PAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], FormData], str]], ...] = (
    (re.compile(r"/account/requests"), lambda m, f: "/account#requests"),
    (
        re.compile(r"/account/consents/([A-Za-z0-9_-]{1,64})/withdraw"),
        lambda m, f: "/account/apps" if f.get("back") == "apps" else f"/account#grant-{m[1]}",
    ),
    (
        re.compile(r"/account/credentials/([A-Za-z0-9_-]{1,64})/revoke"),
        lambda m, f: f"/account#credential-{m[1]}",
    ),
    (re.compile(r"/account/erase"), lambda m, f: "/account/erase"),
)


class IntentCookie(SealedCookie):
    """The ``jati_intent`` cookie (``app.state.intents``)."""

    __slots__ = ()
    max_chars = 4_000  # the fields of a correction, sealed and base64url-encoded

    def __init__(self, master_key: bytes, *, clock: Callable[[], datetime], secure: bool) -> None:
        super().__init__(
            master_key, key_label=PAGE_INTENT_KEY, associated_data=PAGE_INTENT_AD,
            name=INTENT_COOKIE, path="/", lifetime=INTENT_LIFETIME, clock=clock, secure=secure,
        )  # fmt: skip


def _intents(request: Request) -> IntentCookie:
    intents: IntentCookie = request.app.state.intents
    return intents


async def posted_session(request: Request) -> tuple[Session | None, str | None]:
    """The live session of a posted form, or None and the citizen id of the session that
    expired just before (None when there was none)."""
    sessions: SessionService = services(request).sessions
    return await asyncio.to_thread(sessions.lookup, request.cookies.get(SESSION_COOKIE))


def _page_of(path: str, form: FormData) -> str:
    for pattern, page in _PAGES:
        if (found := pattern.fullmatch(path)) is not None:
            return page(found, form)
    return "/account"


def keep_intent(ctx: PageContext, request: Request, form: FormData, owner: str | None) -> Response:
    """The answer to a form posted without a live session: on to ``/login``, the form kept
    for ``owner`` (the citizen whose session just expired) when there is one."""
    response = see_other(ctx, "/login")
    if owner is None:
        return response
    fields = {
        name: value
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in _NOT_KEPT
    }
    if (
        len(fields) > _MAX_FIELDS
        or sum(len(k) + len(v) for k, v in fields.items()) > _MAX_KEPT_CHARS
    ):
        fields = {}  # too much to carry: the page alone
    page = _page_of(request.url.path, form)
    _intents(request).set_cookie(
        response, _intents(request).seal_fields({"p": page, "c": owner, "f": fields})
    )
    return response


def _opened(request: Request) -> dict[str, object] | None:
    return _intents(request).open_fields(request.cookies.get(INTENT_COOKIE))


def waiting(request: Request) -> bool:
    """Whether a kept intent waits for a sign-in (the login page says so)."""
    return _opened(request) is not None


def after_sign_in(request: Request, citizen_id: str) -> str | None:
    """The page to go to after ``citizen_id`` signed in: their kept form's, if any."""
    kept = _opened(request)
    if kept is None or kept.get("c") != citizen_id or not isinstance(kept.get("p"), str):
        return None
    return str(kept["p"])


def kept_for(request: Request, page: str, citizen_id: str) -> dict[str, str] | None:
    """The fields kept for ``citizen_id`` from a form of ``page`` (a path), or None."""
    kept = _opened(request)
    if kept is None or kept.get("c") != citizen_id:
        return None
    target, fields = kept.get("p"), kept.get("f")
    if not isinstance(target, str) or target.partition("#")[0] != page:
        return None
    if not isinstance(fields, dict):
        return {}
    return {k: v for k, v in fields.items() if isinstance(k, str) and isinstance(v, str)}


def forget_intent(request: Request, response: Response) -> None:
    """Clear the kept intent (once its page has shown it)."""
    _intents(request).clear_cookie(response)
