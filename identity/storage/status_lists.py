"""Status list tables and :class:`SqlStatusListStore` (SQLite and PostgreSQL).

- ``identity_status_list``: one row per list: its shape (``bits``, ``size``), how many
  entries are allocated, whether it still takes new ones (``closed_at`` NULL), and its
  ``version``, bumped by every status change so that each worker knows, with one primary-key
  read, whether the token it holds in memory is still current.
- ``identity_status_entry``: one row per allocated entry (``list_id``, ``idx``) with its
  status. The primary key is what makes a random index unique: two workers picking the same
  index race on the insert and one of them picks again. Building a list's token reads only
  the rows whose status is not VALID (index ``(list_id, status)``).

Allocation locks the open list's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write
transactions are ``BEGIN IMMEDIATE``), so its allocation count and closing are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from audit.storage.tables import UTCDateTime
from identity.credentials.status_registry import ListRecord
from identity.storage.database import Database
from identity.storage.sql_store import SqlStore, SqlTransaction, from_row, to_row
from identity.storage.tables import IdentityBase

#: Indices per ``IN (...)`` list (well under SQLite's and PostgreSQL's parameter limits).
_CHUNK = 500


class IdentityStatusList(IdentityBase):
    """A status list (draft-ietf-oauth-status-list §4); ``id`` is random (never ordered)."""

    __tablename__ = "identity_status_list"
    __table_args__ = (
        CheckConstraint("bits IN (1, 2, 4, 8)", name="bits"),
        CheckConstraint("size > 0 AND allocated >= 0 AND allocated <= size", name="counts"),
        Index(None, "closed_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bits: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityStatusEntry(IdentityBase):
    """An allocated entry of a list and its status (§7: 0 VALID, 1 INVALID, 2 SUSPENDED)."""

    __tablename__ = "identity_status_entry"
    __table_args__ = (
        CheckConstraint("idx >= 0", name="idx"),
        CheckConstraint("status >= 0 AND status <= 255", name="status"),
        Index(None, "list_id", "status"),
    )

    list_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("identity_status_list.id"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _record(row: IdentityStatusList) -> ListRecord:
    return from_row(ListRecord, row, open=row.closed_at is None)


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqlStatusListTransaction(SqlTransaction):
    """One transaction over the status list tables (:class:`identity.credentials.status_registry.
    StatusListTransaction`)."""

    def open_list(self) -> ListRecord | None:
        query = (
            select(IdentityStatusList)
            .where(IdentityStatusList.closed_at.is_(None))
            .order_by(IdentityStatusList.created_at, IdentityStatusList.id)
            .limit(1)
        )
        row = self.session.scalars(self.locked(query)).first()
        return _record(row) if row is not None else None

    def create_list(self, record: ListRecord, *, now: datetime) -> None:
        closed_at = None if record.open else now
        row = to_row(
            IdentityStatusList, record, created_at=now, updated_at=now, closed_at=closed_at
        )
        self.session.add(row)
        self.session.flush()  # before its entries (foreign key)

    def claim_index(self, list_id: str, idx: int, *, now: datetime) -> bool:
        return self.insert_new(
            IdentityStatusEntry,
            {"list_id": list_id, "idx": idx, "status": 0, "updated_at": now},
            ["list_id", "idx"],
        )

    def count_allocation(self, list_id: str, *, close: bool, now: datetime) -> None:
        values: dict[str, object] = {"allocated": IdentityStatusList.allocated + 1}
        if close:
            values["closed_at"] = now
        self.session.execute(
            update(IdentityStatusList).where(IdentityStatusList.id == list_id).values(**values)
        )

    def get_list(self, list_id: str) -> ListRecord | None:
        row = self.session.get(IdentityStatusList, list_id, populate_existing=True)
        return _record(row) if row is not None else None

    def statuses(self, list_id: str, indices: Sequence[int], *, lock: bool) -> dict[int, int]:
        found: dict[int, int] = {}
        for chunk in _chunks(indices):
            query = select(IdentityStatusEntry.idx, IdentityStatusEntry.status).where(
                IdentityStatusEntry.list_id == list_id, IdentityStatusEntry.idx.in_(chunk)
            )
            rows = self.session.execute(self.locked(query, lock))
            found.update((idx, status) for idx, status in rows)
        return found

    def update_statuses(
        self, list_id: str, indices: Sequence[int], status: int, *, now: datetime
    ) -> None:
        for chunk in _chunks(indices):
            self.session.execute(
                update(IdentityStatusEntry)
                .where(IdentityStatusEntry.list_id == list_id, IdentityStatusEntry.idx.in_(chunk))
                .values(status=status, updated_at=now)
            )

    def bump_version(self, list_id: str, *, now: datetime) -> None:
        self.session.execute(
            update(IdentityStatusList)
            .where(IdentityStatusList.id == list_id)
            .values(version=IdentityStatusList.version + 1, updated_at=now)
        )

    def non_valid_entries(self, list_id: str) -> Iterable[tuple[int, int]]:
        query = select(IdentityStatusEntry.idx, IdentityStatusEntry.status).where(
            IdentityStatusEntry.list_id == list_id, IdentityStatusEntry.status > 0
        )
        return [(idx, status) for idx, status in self.session.execute(query)]


class SqlStatusListStore(SqlStore[SqlStatusListTransaction]):
    """The status lists' store (:class:`identity.credentials.status_registry.StatusListStore`)."""

    def __init__(self, *, database: Database) -> None:
        super().__init__(database=database, transaction=SqlStatusListTransaction)
