"""Staff accounts and console sessions (:mod:`identity.staff`): the ``identity_staff`` and
``identity_staff_session`` tables and :class:`SqlStaffStore` (SQLite and PostgreSQL).

``identity_staff``: one row per staff member: name, email (unique, lower case), role, the
apps a DPO answers for (a JSON array), the argon2id password hash, the sealed TOTP secret and
its last accepted step, the activation code's SHA-256 and expiry, the failure counter and
lock, and when the account was disabled (never deleted: the audit log's ``staff:<id>``
actors keep their meaning). ``identity_staff_session``: console sessions by the SHA-256 of
their cookie value, apart from citizens' sessions. Migration ``0018_staff``.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.staff.records import StaffMember, StaffRole
from identity.staff.sessions import ConsoleSession
from identity.storage.database import Database
from identity.storage.sql_store import (
    SqlStore,
    SqlTransaction,
    from_row,
    row_values,
    rowcount,
    to_row,
)
from identity.storage.tables import IdentityBase

__all__ = ["IdentityStaff", "IdentityStaffSession", "SqlStaffStore", "SqlStaffTransaction"]


class IdentityStaff(IdentityBase):
    """A staff member's account."""

    __tablename__ = "identity_staff"
    __table_args__ = (Index(None, "email", unique=True), Index(None, "activation_hash"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    apps: Mapped[str] = mapped_column(Text)  # JSON array of client ids
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(Text)
    sealed_totp: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    activation_hash: Mapped[str | None] = mapped_column(String(64))
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityStaffSession(IdentityBase):
    """A console session; ``id`` is the SHA-256 of the cookie value."""

    __tablename__ = "identity_staff_session"
    __table_args__ = (Index(None, "staff_id"), Index(None, "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


def _member(row: IdentityStaff) -> StaffMember:
    return from_row(StaffMember, row, role=StaffRole(row.role), apps=tuple(json.loads(row.apps)))


class SqlStaffTransaction(SqlTransaction):
    """:class:`identity.staff.accounts.StaffTransaction` and
    :class:`identity.staff.sessions.ConsoleSessionTransaction` over one session."""

    def add(self, member: StaffMember) -> bool:
        values = row_values(
            IdentityStaff, member, role=member.role.value, apps=json.dumps(list(member.apps))
        )
        return self.insert_new(IdentityStaff, values, ["email"])

    def _one(self, condition: object, for_update: bool) -> StaffMember | None:
        query = select(IdentityStaff).where(condition)  # type: ignore[arg-type]
        row = self.session.scalars(self.locked(query, for_update)).first()
        return _member(row) if row is not None else None

    def get(self, staff_id: str, *, for_update: bool = False) -> StaffMember | None:
        return self._one(IdentityStaff.id == staff_id, for_update)

    def by_email(self, email: str, *, for_update: bool = False) -> StaffMember | None:
        return self._one(IdentityStaff.email == email, for_update)

    def by_activation(self, digest: str, *, for_update: bool = False) -> StaffMember | None:
        return self._one(IdentityStaff.activation_hash == digest, for_update)

    def list(self) -> list[StaffMember]:
        rows = self.session.scalars(select(IdentityStaff).order_by(IdentityStaff.created_at))
        return [_member(row) for row in rows]

    def save(self, member: StaffMember) -> None:
        self.session.execute(
            update(IdentityStaff)
            .where(IdentityStaff.id == member.id)
            .values(
                password_hash=member.password_hash, sealed_totp=member.sealed_totp,
                totp_last_step=member.totp_last_step, activation_hash=member.activation_hash,
                activation_expires_at=member.activation_expires_at, failures=member.failures,
                locked_until=member.locked_until, disabled_at=member.disabled_at,
            )
        )  # fmt: skip

    def delete_sessions_of(self, staff_id: str) -> int:
        statement = delete(IdentityStaffSession).where(IdentityStaffSession.staff_id == staff_id)
        return rowcount(self.session.execute(statement))

    # -- console sessions

    def add_session(self, session: ConsoleSession) -> None:
        self.session.add(to_row(IdentityStaffSession, session))
        self.session.flush()

    def get_session(self, session_id: str) -> ConsoleSession | None:
        row = self.session.get(IdentityStaffSession, session_id)
        return from_row(ConsoleSession, row) if row is not None else None

    def touch_session(self, session_id: str, now: datetime) -> None:
        self.session.execute(
            update(IdentityStaffSession)
            .where(IdentityStaffSession.id == session_id)
            .values(last_seen=now)
        )

    def delete_session(self, session_id: str) -> None:
        self.session.execute(
            delete(IdentityStaffSession).where(IdentityStaffSession.id == session_id)
        )

    def purge_sessions(self, now: datetime) -> int:
        return self.purge_expired(IdentityStaffSession, IdentityStaffSession.id, now)


class SqlStaffStore(SqlStore[SqlStaffTransaction]):
    """Staff accounts and console sessions on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlStaffTransaction)
