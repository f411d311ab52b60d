"""Citizens' login sessions (:mod:`identity.login.sessions`): the ``identity_session`` table
and :class:`SessionStatements`, part of :class:`identity.storage.oidc.SqlOidcTransaction`.

A session is stored by the SHA-256 of its cookie value, never the value the browser holds.
Expired sessions are purged by the writes that add new ones, a batch at a time. A row keeps
the browser's short summary (``user_agent``, never the raw header) and whether the session is
restricted (a recovery-code sign-in), for the account page's list of devices (migration
``0016_session_devices``).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text, delete, false, select, update
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.login.sessions import Session as LoginSession
from identity.login.sessions import SessionInfo
from identity.login.user_agents import parse_stored
from identity.storage.sql_store import SqlTransaction, from_row, rowcount, to_row
from identity.storage.tables import IdentityBase


class IdentitySession(IdentityBase):
    """A citizen's login session; ``id`` is the SHA-256 of the cookie value."""

    __tablename__ = "identity_session"
    __table_args__ = (Index(None, "citizen_id"), Index(None, "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[str] = mapped_column(Text)  # JSON array (RFC 8176 values)
    acr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(120))
    restricted: Mapped[bool] = mapped_column(Boolean, server_default=false())


def _info(row: IdentitySession) -> SessionInfo:
    summary = parse_stored(row.user_agent)
    return SessionInfo(
        id=row.id,
        browser=summary.browser if summary else None,
        system=summary.system if summary else None,
        created_at=row.created_at,
        last_seen=row.last_seen,
        restricted=row.restricted,
    )


class SessionStatements(SqlTransaction):
    """The login sessions' statements in a transaction
    (:class:`identity.login.sessions.SessionTransaction`)."""

    def add_session(self, session: LoginSession, *, created_at: datetime) -> None:
        amr = json.dumps(list(session.amr))
        row = to_row(IdentitySession, session, amr=amr, created_at=created_at, last_seen=created_at)
        self.session.add(row)

    def get_session(self, session_id: str) -> tuple[LoginSession, datetime] | None:
        row = self.session.get(IdentitySession, session_id)
        if row is None:
            return None
        return from_row(LoginSession, row, amr=tuple(json.loads(row.amr))), row.last_seen

    def touch_session(self, session_id: str, now: datetime) -> None:
        self.session.execute(
            update(IdentitySession).where(IdentitySession.id == session_id).values(last_seen=now)
        )

    def delete_session(self, session_id: str) -> None:
        self.session.execute(delete(IdentitySession).where(IdentitySession.id == session_id))

    def delete_sessions_of(self, citizen_id: str) -> int:
        result = self.session.execute(
            delete(IdentitySession).where(IdentitySession.citizen_id == citizen_id)
        )
        return rowcount(result)

    def list_sessions_of(self, citizen_id: str, now: datetime) -> list[SessionInfo]:
        rows = self.session.execute(
            select(IdentitySession)
            .where(IdentitySession.citizen_id == citizen_id, IdentitySession.expires_at > now)
            .order_by(IdentitySession.created_at.desc(), IdentitySession.id)
        ).scalars()
        return [_info(row) for row in rows]

    def delete_session_of(self, citizen_id: str, session_id: str) -> int:
        result = self.session.execute(
            delete(IdentitySession).where(
                IdentitySession.id == session_id, IdentitySession.citizen_id == citizen_id
            )
        )
        return rowcount(result)

    def delete_sessions_except(self, citizen_id: str, keep_session_id: str) -> int:
        result = self.session.execute(
            delete(IdentitySession).where(
                IdentitySession.citizen_id == citizen_id, IdentitySession.id != keep_session_id
            )
        )
        return rowcount(result)

    def purge_sessions(self, now: datetime) -> int:
        return self.purge_expired(IdentitySession, IdentitySession.id, now)
