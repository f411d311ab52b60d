"""The second factor's table and :class:`SqlTotpStore` (SQLite and PostgreSQL).

``identity_totp``: one row per citizen with a second factor enabled or waiting for its
confirming code (:mod:`identity.login.totp`). The secret is sealed (AES-256-GCM under a key
derived from the master key, bound to the citizen id); ``last_step`` is the last RFC 6238
time step accepted, so a code is never accepted twice; ``failures``, ``lockouts`` and
``locked_until`` throttle guessing. Rows are changed under a row lock (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's write transactions are ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.storage.tables import UTCDateTime
from identity.login.totp import TotpRecord
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row
from identity.storage.tables import IdentityBase


class IdentityTotp(IdentityBase):
    """A citizen's TOTP second factor (``enabled_at`` NULL while waiting for a code)."""

    __tablename__ = "identity_totp"

    citizen_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer)
    lockouts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SqlTotpTransaction(SqlTransaction):
    """:class:`identity.login.totp.TotpTransaction` over one session."""

    def load(self, citizen_id: str, *, for_update: bool = False) -> TotpRecord | None:
        query = select(IdentityTotp).where(IdentityTotp.citizen_id == citizen_id)
        row = self.session.scalars(self.locked(query, for_update)).first()
        return from_row(TotpRecord, row) if row is not None else None

    def save(self, record: TotpRecord) -> None:
        row = self.session.get(IdentityTotp, record.citizen_id)
        if row is None:
            row = IdentityTotp(citizen_id=record.citizen_id)
            self.session.add(row)
        row.sealed_secret = record.sealed_secret
        row.created_at = record.created_at
        row.enabled_at = record.enabled_at
        row.last_step = record.last_step
        row.failures = record.failures
        row.lockouts = record.lockouts
        row.locked_until = record.locked_until
        self.session.flush()

    def delete(self, citizen_id: str) -> None:
        self.session.execute(delete(IdentityTotp).where(IdentityTotp.citizen_id == citizen_id))


class TotpErasure:
    """:class:`identity.citizens.erasure.ErasureStep`: the citizen's second factor (its sealed
    secret and counters) is deleted in the erasure's own transaction (UU PDP Art. 43-44), whichever
    path erases: ``/me/requests``, the account page or ``jati citizen erase``."""

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        bind.execute(delete(IdentityTotp).where(IdentityTotp.citizen_id == citizen_id))


class SqlTotpStore(SqlStore[SqlTotpTransaction]):
    """:class:`identity.login.totp.TotpStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlTotpTransaction)
