"""Login throttle counters in the database, shared by every worker (:mod:`identity.login.throttle`).

``identity_login_throttle`` holds one row per key: an HMAC of an account's blind index or of
a client address, never the NIK or the IP itself. The client-authentication throttle
(:mod:`identity.oidc.client_throttle`) keeps its counters here too, as HMACs of client ids and
addresses under a key of its own (scopes ``account`` and ``address`` alike). A transaction
locks the rows it changes: SQLite write transactions start with ``BEGIN IMMEDIATE`` (one
writer at a time); on PostgreSQL the row is created if missing (``INSERT ... ON CONFLICT DO
NOTHING``) and then locked with ``SELECT ... FOR UPDATE``, so two workers counting the same
key queue behind each other instead of both reading the old count.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, LargeBinary, String, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.login.throttle import Counter, Scope
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row, row_values, rowcount
from identity.storage.tables import IdentityBase

PURGE_BATCH = 1000


class IdentityLoginThrottle(IdentityBase):
    """Failures in the current window and the lockout state of one throttle key."""

    __tablename__ = "identity_login_throttle"
    __table_args__ = (
        CheckConstraint("scope IN ('account', 'address')", name="scope"),
        CheckConstraint("failures >= 0 AND lockouts >= 0", name="counts"),
        Index("ix_identity_login_throttle_updated_at", "updated_at"),
    )

    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lockouts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


_T = IdentityLoginThrottle


class SqlThrottleTransaction(SqlTransaction):
    """:class:`identity.login.throttle.ThrottleTransaction` over one session."""

    def lock(self, key: bytes, scope: Scope, *, now: datetime) -> Counter:
        """The key's counter, created if absent, locked until the transaction ends.

        One statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: it creates the
        row or takes the existing row's lock, and answers it. On PostgreSQL (READ COMMITTED)
        a row deleted by another transaction meanwhile (a successful login clears the
        account's counter) is handled by the statement itself, which then inserts; there is
        no window between creating and locking. SQLite's ``BEGIN IMMEDIATE`` already holds
        the database's write lock.
        """
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(_T)
            .values(row_values(_T, Counter.new(now), key_hash=key, scope=scope))
            .on_conflict_do_update(index_elements=["key_hash"], set_={"updated_at": _T.updated_at})
            .returning(_T)
        )
        row = self.session.scalars(statement, execution_options={"populate_existing": True}).one()
        return from_row(Counter, row)

    def save(self, key: bytes, counter: Counter) -> None:
        row = self.session.get(IdentityLoginThrottle, key)
        assert row is not None, "save() follows lock() in the same transaction"
        row.failures = counter.failures
        row.window_started_at = counter.window_started_at
        row.lockouts = counter.lockouts
        row.locked_until = counter.locked_until
        row.updated_at = counter.updated_at

    def delete(self, key: bytes) -> None:
        self.session.execute(delete(_T).where(_T.key_hash == key))


class SqlThrottleStore(SqlStore[SqlThrottleTransaction]):
    """:class:`identity.login.throttle.ThrottleStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlThrottleTransaction)

    def transaction(self) -> AbstractContextManager[SqlThrottleTransaction]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        return self.write()

    def purge(self, *, untouched_since: datetime, now: datetime) -> int:
        """Delete up to ``PURGE_BATCH`` stale, unlocked counters; rows another transaction
        holds are skipped (PostgreSQL ``SKIP LOCKED``), never waited for."""
        stale = (
            select(_T.key_hash)
            .where(
                _T.updated_at < untouched_since,
                or_(_T.locked_until.is_(None), _T.locked_until <= now),
            )
            .limit(PURGE_BATCH)
        )
        if self.database.dialect == "postgresql":
            stale = stale.with_for_update(skip_locked=True)
        with self.database.write() as session:
            return rowcount(session.execute(delete(_T).where(_T.key_hash.in_(stale))))

    def count(self) -> int:
        """How many counters are stored (for tests and metrics)."""
        with self.database.read() as session:
            return len(session.scalars(select(_T.key_hash)).all())
