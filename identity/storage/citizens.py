"""The citizens' tables and their store (see :mod:`identity.citizens.service` for the privacy
model, :mod:`identity.citizens.records` for what is stored).

- ``identity_citizen``: one row per citizen, kept as the tombstone after erasure. Each
  personal field is a ``sealed_<field>`` column (AES-256-GCM, UU PDP Art. 35/39); the NIK's
  keyed blind index is unique while the citizen exists and NULL once erased. Two CHECK
  constraints hold the invariants: an erased row holds nothing but its id and times, and a
  live row has at least its NIK, name and birth date.
- ``identity_citizen_key``: the wrapped data key, one row per live citizen. Erasure (Art.
  43-44) deletes it: crypto-shredding.

SQLite keeps freed bytes in the file unless told otherwise: the connection sets
``PRAGMA secure_delete=ON`` (:mod:`identity.storage.database`), so a deleted key or cleared
field is overwritten with zeros, and after an erasure :meth:`SqlCitizenStore.after_erasure`
checkpoints and truncates the write-ahead log, which would otherwise keep the old pages.
On PostgreSQL an old row version stays in the table file until VACUUM reclaims it (and in
the WAL and backups until they expire); see SECURITY.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, delete, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.citizens.fields import PERSONAL_FIELDS
from identity.citizens.records import NewCitizen, StoredCitizen
from identity.errors import DuplicateNik
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction
from identity.storage.tables import IdentityBase

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

_SEALED_COLUMNS = tuple(f"sealed_{name}" for name in PERSONAL_FIELDS)


class IdentityCitizen(IdentityBase):
    """A citizen: sealed personal fields, blind index, password hash; a tombstone once erased."""

    __tablename__ = "identity_citizen"
    __table_args__ = (
        CheckConstraint(
            "erased_at IS NULL OR (nik_index IS NULL AND password_hash IS NULL AND "
            + " AND ".join(f"{column} IS NULL" for column in _SEALED_COLUMNS)
            + ")",
            name="tombstone_is_empty",
        ),
        CheckConstraint(
            "erased_at IS NOT NULL OR (nik_index IS NOT NULL AND sealed_nik IS NOT NULL "
            "AND sealed_name IS NOT NULL AND sealed_birthdate IS NOT NULL)",
            name="active_is_complete",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nik_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    sealed_nik: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_birthdate: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_email: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_address: Mapped[bytes | None] = mapped_column(LargeBinary)
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityCitizenKey(IdentityBase):
    """A citizen's data key, wrapped under the master key (:class:`FieldCipher`)."""

    __tablename__ = "identity_citizen_key"

    citizen_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("identity_citizen.id"), primary_key=True
    )
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _stored(row: IdentityCitizen, wrapped_key: bytes | None) -> StoredCitizen:
    return StoredCitizen(
        id=row.id,
        nik_index=row.nik_index,
        wrapped_key=wrapped_key,
        sealed={name: getattr(row, f"sealed_{name}") for name in PERSONAL_FIELDS},
        password_hash=row.password_hash,
        created_at=row.created_at,
        erased_at=row.erased_at,
    )


class SqlCitizenTransaction(SqlTransaction):
    """:class:`identity.citizens.records.CitizenTransaction` over one SQLAlchemy session."""

    def add(self, citizen: NewCitizen) -> None:
        taken = self.session.scalar(
            select(IdentityCitizen.id).where(IdentityCitizen.nik_index == citizen.nik_index)
        )
        if taken is not None:
            raise DuplicateNik()
        row = IdentityCitizen(
            id=citizen.id,
            nik_index=citizen.nik_index,
            password_hash=citizen.password_hash,
            created_at=citizen.created_at,
            erased_at=None,
        )
        for name in PERSONAL_FIELDS:
            setattr(row, f"sealed_{name}", citizen.sealed.get(name))
        self.session.add(row)
        self.session.add(
            IdentityCitizenKey(
                citizen_id=citizen.id,
                wrapped_key=citizen.wrapped_key,
                created_at=citizen.created_at,
            )
        )
        try:
            self.session.flush()
        except IntegrityError as exc:
            # Another transaction registered the same NIK between the check and the insert
            # (PostgreSQL); the statement's parameters are not repeated anywhere.
            if "nik_index" in str(exc.orig):
                raise DuplicateNik() from None
            raise

    def _load(self, clause: Any, *, for_update: bool) -> StoredCitizen | None:
        query = select(IdentityCitizen, IdentityCitizenKey.wrapped_key).outerjoin(
            IdentityCitizenKey, IdentityCitizenKey.citizen_id == IdentityCitizen.id
        )
        query = query.where(clause)
        if for_update:
            query = query.with_for_update(of=IdentityCitizen)
        found = self.session.execute(query).first()
        return None if found is None else _stored(found[0], found[1])

    def load(self, citizen_id: str, *, for_update: bool = False) -> StoredCitizen | None:
        return self._load(IdentityCitizen.id == citizen_id, for_update=for_update)

    def find_by_nik_index(self, nik_index: bytes) -> StoredCitizen | None:
        return self._load(IdentityCitizen.nik_index == nik_index, for_update=False)

    def set_password_hash(self, citizen_id: str, password_hash: str | None) -> None:
        self.session.execute(
            sql_update(IdentityCitizen)
            .where(IdentityCitizen.id == citizen_id, IdentityCitizen.erased_at.is_(None))
            .values(password_hash=password_hash)
        )

    def set_sealed(self, citizen_id: str, sealed: Mapping[str, bytes]) -> None:
        unknown = set(sealed) - set(PERSONAL_FIELDS)
        if unknown:
            raise ValueError("not a personal field")
        self.session.execute(
            sql_update(IdentityCitizen)
            .where(IdentityCitizen.id == citizen_id, IdentityCitizen.erased_at.is_(None))
            .values(**{f"sealed_{name}": value for name, value in sealed.items()})
        )

    def erase(self, citizen_id: str, *, erased_at: datetime) -> None:
        self.session.execute(
            delete(IdentityCitizenKey).where(IdentityCitizenKey.citizen_id == citizen_id)
        )
        cleared: dict[str, Any] = dict.fromkeys(_SEALED_COLUMNS)
        self.session.execute(
            sql_update(IdentityCitizen)
            .where(IdentityCitizen.id == citizen_id)
            .values(nik_index=None, password_hash=None, erased_at=erased_at, **cleared)
        )


class SqlCitizenStore(SqlStore[SqlCitizenTransaction]):
    """:class:`identity.citizens.records.CitizenStore` on Jati's database."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlCitizenTransaction)

    def after_erasure(self) -> None:
        """On SQLite, move the WAL into the database file and truncate it: until then the
        WAL holds the pages as they were before the erasure. Best effort: a reader still on
        an old snapshot keeps the WAL alive, and the next checkpoint completes the work."""
        if self.database.dialect != "sqlite":
            return
        try:
            raw = self.database.engine.raw_connection()  # autocommit: outside any transaction
            try:
                busy = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
        except Exception as exc:  # the erasure itself has committed
            log.warning("WAL checkpoint after erasure failed: %s", type(exc).__name__)
            return
        if busy is not None and busy[0]:
            log.warning("WAL checkpoint after erasure incomplete: readers are active")
