"""Activation codes' table and :class:`SqlActivationStore` (SQLite and PostgreSQL).

``identity_activation``: one row per citizen with an outstanding activation code
(:mod:`identity.login.activation`): the SHA-256 of the code (never the code), when it was
issued and when it expires. A new code replaces the row in one ``INSERT ... ON CONFLICT DO
UPDATE``, so two issued at once leave one row; the code is used up by one ``DELETE ...
WHERE code_hash = ... AND expires_at > now``, so of two completions at once, one deletes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.storage.tables import UTCDateTime
from identity.login.activation import ActivationRecord
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row, rowcount
from identity.storage.tables import IdentityBase

_REPLACED = ("code_hash", "created_at", "expires_at")


class IdentityActivation(IdentityBase):
    """A citizen's outstanding activation code, by its SHA-256 (hex)."""

    __tablename__ = "identity_activation"

    citizen_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SqlActivationTransaction(SqlTransaction):
    """:class:`identity.login.activation.ActivationTransaction` over one session."""

    def load(self, citizen_id: str) -> ActivationRecord | None:
        row = self.session.get(IdentityActivation, citizen_id)
        return from_row(ActivationRecord, row) if row is not None else None

    def replace(self, record: ActivationRecord) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(IdentityActivation).values(
            citizen_id=record.citizen_id,
            code_hash=record.code_hash,
            created_at=record.created_at,
            expires_at=record.expires_at,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["citizen_id"],
                set_={name: statement.excluded[name] for name in _REPLACED},
            )
        )

    def consume(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        result = self.session.execute(
            delete(IdentityActivation).where(
                IdentityActivation.citizen_id == citizen_id,
                IdentityActivation.code_hash == code_hash,
                IdentityActivation.expires_at > now,
            )
        )
        return rowcount(result) == 1

    def delete(self, citizen_id: str) -> None:
        self.session.execute(
            delete(IdentityActivation).where(IdentityActivation.citizen_id == citizen_id)
        )


class ActivationErasure:
    """:class:`identity.citizens.erasure.ErasureStep`: an erased citizen's outstanding
    activation code is deleted in the erasure's own transaction (UU PDP Art. 43-44), so no
    code issued before the erasure opens anything after it."""

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        SqlActivationTransaction(bind).delete(citizen_id)


class SqlActivationStore(SqlStore[SqlActivationTransaction]):
    """:class:`identity.login.activation.ActivationStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlActivationTransaction)
