"""Recovery codes' table and :class:`SqlRecoveryCodeStore` (SQLite and PostgreSQL).

``identity_recovery_code``: one row per recovery code (:mod:`identity.login.recovery_codes`),
keyed by the citizen and the code's SHA-256 (never the code); ``used_at`` is set when the
code is used. A code is used up by one ``UPDATE ... WHERE used_at IS NULL``: of two uses at
once, on PostgreSQL the second waits for the first's row lock and then matches nothing;
SQLite's write transactions are ``BEGIN IMMEDIATE``, one at a time. Making a new list takes
a transaction advisory lock per citizen on PostgreSQL, so that two lists made at once do not
both survive.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, delete, func, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.storage.tables import UTCDateTime
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, rowcount
from identity.storage.tables import IdentityBase

#: The first key of the per-citizen advisory lock ("jrec"), apart from other locks' keys.
_LOCK_NAMESPACE = 0x6A726563


class IdentityRecoveryCode(IdentityBase):
    """One of a citizen's recovery codes, by its SHA-256 (hex); ``used_at`` once used."""

    __tablename__ = "identity_recovery_code"

    citizen_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SqlRecoveryCodeTransaction(SqlTransaction):
    """:class:`identity.login.recovery_codes.RecoveryCodeTransaction` over one session."""

    def replace_all(self, citizen_id: str, code_hashes: Sequence[str], *, now: datetime) -> None:
        if self.dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE holds the database's lock
            key = zlib.crc32(citizen_id.encode()) - (1 << 31)
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                {"ns": _LOCK_NAMESPACE, "key": key},
            )
        self.delete_all(citizen_id)
        self.session.execute(
            insert(IdentityRecoveryCode),
            [
                {"citizen_id": citizen_id, "code_hash": hashed, "created_at": now}
                for hashed in code_hashes
            ],
        )

    def mark_used(self, citizen_id: str, code_hash: str, *, now: datetime) -> bool:
        result = self.session.execute(
            update(IdentityRecoveryCode)
            .where(
                IdentityRecoveryCode.citizen_id == citizen_id,
                IdentityRecoveryCode.code_hash == code_hash,
                IdentityRecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return rowcount(result) == 1

    def is_unused(self, citizen_id: str, code_hash: str) -> bool:
        query = select(IdentityRecoveryCode.used_at).where(
            IdentityRecoveryCode.citizen_id == citizen_id,
            IdentityRecoveryCode.code_hash == code_hash,
            IdentityRecoveryCode.used_at.is_(None),
        )
        return self.session.execute(query).first() is not None

    def remaining(self, citizen_id: str) -> int:
        query = select(func.count()).where(
            IdentityRecoveryCode.citizen_id == citizen_id,
            IdentityRecoveryCode.used_at.is_(None),
        )
        return int(self.session.execute(query).scalar_one())

    def delete_all(self, citizen_id: str) -> None:
        self.session.execute(
            delete(IdentityRecoveryCode).where(IdentityRecoveryCode.citizen_id == citizen_id)
        )


class RecoveryCodeErasure:
    """:class:`identity.citizens.erasure.ErasureStep`: an erased citizen's recovery codes are
    deleted in the erasure's own transaction (UU PDP Art. 43-44)."""

    def end_for_erased(self, bind: Session, citizen_id: str, *, now: datetime) -> None:
        SqlRecoveryCodeTransaction(bind).delete_all(citizen_id)


class SqlRecoveryCodeStore(SqlStore[SqlRecoveryCodeTransaction]):
    """:class:`identity.login.recovery_codes.RecoveryCodeStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlRecoveryCodeTransaction)
