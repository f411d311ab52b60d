"""Server-side login sessions of citizens (OIDC Core §3.1.2.3: the authorization server's
own session, read by the authorization endpoint).

A session is created when a citizen authenticates on the login page. The browser holds only
a random 256-bit value in the ``jati_session`` cookie; the server keeps the SHA-256 of that
value as the session id, never the value itself, so a copy of the database (or of a backup)
holds nothing that can be replayed as a cookie. The session records who authenticated, when
(``auth_time``) and how (``amr``, RFC 8176; ``acr``), which the ID token repeats.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent on cross-site
sub-requests or POSTs, yet sent on the top-level navigation that brings the citizen back
from a relying app), ``Secure`` when the issuer is https, ``Path=/`` and lives as long as
the session (``JATI_SESSION_LIFETIME``, 8 hours by default). An expired session is treated
as none and removed. ``end`` logs out one browser; ``end_all_for`` every browser of a
citizen (after an erasure or a password change).

**Devices and sessions** (issue 18): the account page lists the citizen's live sessions
(:meth:`SessionService.list_for`) and lets them end one (:meth:`SessionService.end_by_id`)
or all but the current one (:meth:`SessionService.end_others`); each ending is an
account-security audit entry the citizen sees (``erase`` of ``sessions``). A session keeps
only a short summary of the browser that started it (``"Firefox on Windows"``, from
:mod:`identity.login.user_agents`), never the raw ``User-Agent`` header (data minimisation,
UU PDP Art. 16(2)(a)). Jati holds no location data and does not guess one from the client
address: the approximate place the issue mentions is shown as nothing ("none if unknown").

**Restricted sessions**: a sign-in with a recovery code starts a ``restricted`` session. It
opens only the account page, where the citizen adds a new way to sign in; the authorization
endpoint treats it as no session (:func:`app_session`), so no app gets a code from it.

Danger: the cookie value is a bearer credential. Never log it; compare it only through its
hash (the lookup by hash is the comparison).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from audit import AuditAppender
from audit.entry import Action
from audit.pseudonym import SubjectPseudonymizer
from identity.citizens.service import SELF
from identity.login.account_events import AccountEvents
from identity.storage.housekeeping import purge_due

__all__ = [
    "SESSION_COOKIE",
    "Session",
    "SessionInfo",
    "SessionService",
    "SessionStore",
    "SessionTransaction",
    "app_session",
    "session_id_of",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "jati_session"
#: Longest cookie value looked up (ours are 43 characters); anything longer is no session.
MAX_COOKIE_CHARS = 128
#: ``last_seen`` is written at most this often per session (a read is not a write).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
#: How long an expired session's row stays (unusable) so that a form posted just after the
#: expiry can keep the citizen's intent for them (identity/http/pages/intent.py).
EXPIRED_KEPT = timedelta(hours=1)
MAX_AMR_VALUES = 8
#: The longest browser summary kept (the column's width).
MAX_USER_AGENT_CHARS = 120
#: The audit entry's data item when a citizen ends sessions from the account page.
SESSIONS_ITEM = "sessions"


def session_id_of(cookie_value: str) -> str:
    """The session id stored for a cookie value: hex SHA-256 (the value is 256 random bits,
    so an unsalted hash is enough: nothing to guess)."""
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A citizen's login at Jati, as the authorization endpoint sees it.

    ``id`` is the hash of the cookie value (never the value); ``auth_time`` is when the
    citizen authenticated (OIDC Core §2); ``amr`` the methods (RFC 8176, e.g. ``pwd``,
    ``otp``); ``acr`` the authentication context class (:mod:`identity.oidc.tokens`);
    ``restricted``: signed in with a recovery code, the account page only; ``user_agent``:
    the browser's short summary (:mod:`identity.login.user_agents`), or None.
    """

    id: str
    citizen_id: str
    auth_time: datetime
    amr: tuple[str, ...]
    acr: str
    expires_at: datetime
    restricted: bool = False
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One live session as the account page lists it ("Perangkat dan sesi").

    ``id`` is the session id (the hash of the cookie value: it names the session without
    being able to act as its cookie); ``browser`` and ``system`` the families of the short
    summary (:mod:`identity.login.user_agents`; None when unknown); ``current`` is filled
    by the caller (the session of the browser looking at the list). There is no place:
    Jati keeps no location data and never guesses one, so the page shows none.
    """

    id: str
    browser: str | None
    system: str | None
    created_at: datetime
    last_seen: datetime
    restricted: bool = False
    current: bool = False


def app_session(session: Session | None) -> Session | None:
    """``session`` as the authorization endpoint counts it: a restricted session (a
    recovery-code sign-in, the account page only) is no session, so the citizen is sent to
    sign in properly and ``prompt=none`` answers ``login_required``."""
    return None if session is None or session.restricted else session


class SessionTransaction(Protocol):
    def add_session(self, session: Session, *, created_at: datetime) -> None: ...
    def get_session(self, session_id: str) -> tuple[Session, datetime] | None:
        """The session and its ``last_seen``."""
        ...

    def touch_session(self, session_id: str, now: datetime) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def delete_sessions_of(self, citizen_id: str) -> int: ...
    def list_sessions_of(self, citizen_id: str, now: datetime) -> list[SessionInfo]:
        """The citizen's unexpired sessions, newest first."""
        ...

    def delete_session_of(self, citizen_id: str, session_id: str) -> int:
        """Delete the session if it is the citizen's; how many rows went (0 or 1)."""
        ...

    def delete_sessions_except(self, citizen_id: str, keep_session_id: str) -> int: ...
    def purge_sessions(self, now: datetime) -> int: ...

    @property
    def bind(self) -> Any:
        """Where the audit appender writes, so an entry commits with the change."""
        ...


class SessionStore(Protocol):
    def write(self) -> AbstractContextManager[SessionTransaction]: ...
    def read(self) -> AbstractContextManager[SessionTransaction]: ...
    def joined(self, bind: Any) -> SessionTransaction:
        """A transaction of the sessions inside another store's open write transaction
        (``bind``), committing with it."""
        ...


class SessionService:
    """Creates, finds and ends citizens' sessions.

    Args:
        store: where sessions live (``identity.storage.oidc.SqlOidcStore``).
        clock: the current UTC time, read once per operation.
        lifetime: how long a session lasts from login (not extended by use: OIDC Core
            ``max_age`` and ``auth_time`` stay meaningful).
        secure: set the cookie's ``Secure`` attribute (the issuer is https).
        audit, pseudonymizer: where the account-security entries of sessions ended from
            the account page go (both, or neither: then nothing is audited, as in tests of
            the store alone).
    """

    def __init__(
        self,
        *,
        store: SessionStore,
        clock: Callable[[], datetime],
        lifetime: timedelta = timedelta(hours=8),
        secure: bool,
        audit: AuditAppender | None = None,
        pseudonymizer: SubjectPseudonymizer | None = None,
    ) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("a session lifetime is positive")
        if (audit is None) != (pseudonymizer is None):
            raise ValueError("audit and pseudonymizer go together")
        self.store = store
        self.clock = clock
        self.lifetime = lifetime
        self.secure = secure
        self.events = (
            None
            if audit is None or pseudonymizer is None
            else AccountEvents(audit=audit, pseudonymizer=pseudonymizer)
        )

    def create(
        self,
        citizen_id: str,
        *,
        auth_time: datetime,
        amr: Sequence[str],
        acr: str,
        restricted: bool = False,
        user_agent: str | None = None,
        replacing: str | None = None,
        within: Any = None,
    ) -> tuple[str, Session]:
        """Start a session for a citizen who just authenticated.

        Returns the raw cookie value to set (with :meth:`cookie_attributes`) and the
        session. Call it after every successful login, with the browser's previous cookie
        value as ``replacing``: that session ends in the same transaction (a fresh value
        for every login defeats session fixation). ``restricted``: a recovery-code sign-in
        (the account page only); ``user_agent``: the browser's short summary
        (:func:`identity.login.user_agents.stored_summary`), never the raw header.
        ``within``: another store's open write transaction (its ``bind``) that the session
        commits with (the passkey's use recorded, the activation code used up), instead of
        a transaction of its own.
        """
        if not citizen_id:
            raise ValueError("a session needs a citizen id")
        methods = tuple(amr)
        if not methods or len(methods) > MAX_AMR_VALUES or not all(methods):
            raise ValueError("amr lists one or more authentication methods (RFC 8176)")
        if auth_time.tzinfo is None:
            raise ValueError("auth_time must be timezone-aware")
        if user_agent is not None and not 0 < len(user_agent) <= MAX_USER_AGENT_CHARS:
            raise ValueError("user_agent is a short browser summary")
        now = self.clock()
        cookie_value = secrets.token_urlsafe(32)
        session = Session(
            id=session_id_of(cookie_value),
            citizen_id=citizen_id,
            auth_time=auth_time,
            amr=methods,
            acr=acr,
            expires_at=now + self.lifetime,
            restricted=restricted,
            user_agent=user_agent,
        )
        if within is not None:
            self._add(self.store.joined(within), session, now, replacing)
        else:
            with self.store.write() as tx:
                self._add(tx, session, now, replacing)
        return cookie_value, session

    @staticmethod
    def _add(
        tx: SessionTransaction, session: Session, now: datetime, replacing: str | None
    ) -> None:
        if replacing and len(replacing) <= MAX_COOKIE_CHARS:
            tx.delete_session(session_id_of(replacing))
        if purge_due():
            tx.purge_sessions(now - EXPIRED_KEPT)
        tx.add_session(session, created_at=now)

    def get(self, cookie_value: str | None) -> Session | None:
        """The live session a cookie value names, or None (absent, unknown, expired)."""
        return self.lookup(cookie_value)[0]

    def lookup(self, cookie_value: str | None) -> tuple[Session | None, str | None]:
        """The live session a cookie value names, or None and, when it named a session that
        expired less than :data:`EXPIRED_KEPT` ago, that session's citizen id (so that a
        form posted after the expiry is kept for the same citizen, never for another)."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_CHARS:
            return None, None
        session_id = session_id_of(cookie_value)
        now = self.clock()
        with self.store.read() as tx:
            found = tx.get_session(session_id)
        if found is None:
            return None, None
        session, last_seen = found
        if now >= session.expires_at:
            if now - session.expires_at < EXPIRED_KEPT:
                return None, session.citizen_id  # unusable; the purge removes it later
            with self.store.write() as wtx:
                wtx.delete_session(session_id)
            return None, None
        if now - last_seen >= LAST_SEEN_RESOLUTION:
            with self.store.write() as wtx:
                wtx.touch_session(session_id, now)
        return session, None

    def end(self, cookie_value: str | None) -> None:
        """Log out the browser holding ``cookie_value`` (nothing happens for an unknown one)."""
        if not cookie_value or len(cookie_value) > MAX_COOKIE_CHARS:
            return
        with self.store.write() as tx:
            tx.delete_session(session_id_of(cookie_value))

    def end_all_for(self, citizen_id: str) -> int:
        """Log the citizen out everywhere; returns how many sessions ended."""
        with self.store.write() as tx:
            ended = tx.delete_sessions_of(citizen_id)
        if ended:
            log.info("ended %d session(s) of a citizen", ended)
        return ended

    def list_for(self, citizen_id: str) -> list[SessionInfo]:
        """The citizen's live sessions, newest first (``current`` False: the caller marks
        the one of the browser asking). No place is given: Jati has no location data."""
        now = self.clock()
        with self.store.read() as tx:
            return tx.list_sessions_of(citizen_id, now)

    def end_by_id(self, citizen_id: str, session_id: str) -> bool:
        """End one of the citizen's sessions by id (the account page's "sign out"); True if
        it ended. Another citizen's session, or an unknown id, is left alone (False), and
        nothing is audited then. Audited as an ``erase`` of ``sessions`` by the citizen."""
        if not session_id or len(session_id) > MAX_COOKIE_CHARS:
            return False
        return self._end(citizen_id, lambda tx: tx.delete_session_of(citizen_id, session_id)) > 0

    def end_others(self, citizen_id: str, keep_session_id: str) -> int:
        """End every session of the citizen but ``keep_session_id`` (the browser asking);
        how many ended. Audited once (``erase`` of ``sessions``) when any did."""
        return self._end(
            citizen_id, lambda tx: tx.delete_sessions_except(citizen_id, keep_session_id)
        )

    def _end(self, citizen_id: str, delete: Callable[[SessionTransaction], int]) -> int:
        now = self.clock()
        with self.store.write() as tx:
            ended = delete(tx)
            if ended and self.events is not None:
                self.events.append(
                    tx.bind, citizen_id, now, actor=SELF, action=Action.ERASE,
                    items=(SESSIONS_ITEM,),
                )  # fmt: skip
        if ended:
            log.info("a citizen ended %d session(s)", ended)
        return ended

    def cookie_attributes(self) -> dict[str, Any]:
        """The cookie's name and attributes as keyword arguments of Starlette's
        ``Response.set_cookie`` (``key``, ``max_age``, ``path``, ``secure``, ``httponly``,
        ``samesite``): ``response.set_cookie(value=cookie_value, **cookie_attributes())``."""
        return {
            "key": SESSION_COOKIE,
            # past the session's own end by EXPIRED_KEPT, so that a form posted just after
            # it still names the session whose citizen the form is kept for (the server's
            # expiry is the authority: the cookie alone opens nothing)
            "max_age": int((self.lifetime + EXPIRED_KEPT).total_seconds()),
            "path": "/",
            "secure": self.secure,
            "httponly": True,
            "samesite": "lax",
        }
