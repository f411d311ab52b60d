"""Console sessions (issue 20): short, in a table and a cookie of their own (``jati_console``,
``Path=/console``), never a citizen's session.

A session lasts at most ``JATI_CONSOLE_SESSION_LIFETIME`` (an hour by default) from the
sign-in and ends after :data:`IDLE` without use. It is stored by the SHA-256 of its cookie
value (256 random bits), as citizens' sessions are; a disabled or reset account's sessions
are deleted with it (:mod:`identity.staff.accounts`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from identity.login.sessions import session_id_of

__all__ = ["CONSOLE_COOKIE", "IDLE", "ConsoleSession", "ConsoleSessions"]

CONSOLE_COOKIE = "jati_console"
CONSOLE_PATH = "/console"
#: A session unused this long ends.
IDLE = timedelta(minutes=15)
_MAX_COOKIE_CHARS = 128
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    id: str  # SHA-256 (hex) of the cookie value
    staff_id: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    last_seen: datetime


class ConsoleSessionTransaction(Protocol):
    def add_session(self, session: ConsoleSession) -> None: ...
    def get_session(self, session_id: str) -> ConsoleSession | None: ...
    def touch_session(self, session_id: str, now: datetime) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def purge_sessions(self, now: datetime) -> int: ...


class ConsoleSessionStore(Protocol):
    def write(self) -> AbstractContextManager[ConsoleSessionTransaction]: ...
    def read(self) -> AbstractContextManager[ConsoleSessionTransaction]: ...


class ConsoleSessions:
    """Start, find and end console sessions (``Services.console_sessions``)."""

    def __init__(
        self,
        *,
        store: ConsoleSessionStore,
        clock: Callable[[], datetime],
        lifetime: timedelta,
        secure: bool,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lifetime = lifetime
        self.secure = secure

    def create(self, staff_id: str, *, auth_time: datetime, replacing: str | None) -> str:
        """A new session's cookie value; the browser's previous one (``replacing``) ends."""
        now = self.clock()
        value = secrets.token_urlsafe(32)
        session = ConsoleSession(
            id=session_id_of(value), staff_id=staff_id, auth_time=auth_time, created_at=now,
            expires_at=now + self.lifetime, last_seen=now,
        )  # fmt: skip
        with self.store.write() as tx:
            if replacing and len(replacing) <= _MAX_COOKIE_CHARS:
                tx.delete_session(session_id_of(replacing))
            tx.purge_sessions(now)
            tx.add_session(session)
        return value

    def get(self, value: str | None) -> ConsoleSession | None:
        """The live session a cookie value names (None: absent, unknown, expired or idle)."""
        if not value or len(value) > _MAX_COOKIE_CHARS:
            return None
        session_id, now = session_id_of(value), self.clock()
        with self.store.read() as tx:
            session = tx.get_session(session_id)
        if session is None:
            return None
        if now >= session.expires_at or now - session.last_seen >= IDLE:
            with self.store.write() as tx:
                tx.delete_session(session_id)
            return None
        if now - session.last_seen >= _TOUCH_EVERY:
            with self.store.write() as tx:
                tx.touch_session(session_id, now)
        return session

    def end(self, value: str | None) -> None:
        if value and len(value) <= _MAX_COOKIE_CHARS:
            with self.store.write() as tx:
                tx.delete_session(session_id_of(value))

    def cookie_attributes(self) -> dict[str, object]:
        """``HttpOnly``, ``SameSite=Strict``, ``Path=/console``, ``Secure`` under https."""
        return {
            "key": CONSOLE_COOKIE, "path": CONSOLE_PATH, "httponly": True,
            "samesite": "strict", "secure": self.secure,
            "max_age": int(self.lifetime.total_seconds()),
        }  # fmt: skip
