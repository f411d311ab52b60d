"""The audit log's tables (SQLAlchemy 2.0 typed mappings).

- ``audit_queue``: entries committed by writers, not yet in the tree (Trillian's
  "unsequenced" table), with their leaf hash and query columns. Writers only INSERT; the
  sequencer copies rows into ``audit_leaf`` and DELETEs them. Rows are never updated.
- ``audit_leaf``: the log itself, one row per leaf index, dense from 0. Holds the canonical
  entry bytes (the leaf input), the leaf hash, and columns copied from the entry for queries.
  Append-only.
- ``audit_node``: hashes of complete subtrees at level >= ``MIN_STORED_LEVEL`` (lower levels
  are recomputed from at most ``2**MIN_STORED_LEVEL`` leaf hashes). Append-only.
- ``audit_checkpoint``: every signed checkpoint, by tree size. Append-only.
- ``audit_tree_state``: one row, the sequencer's cursor (size, root, origin); its row lock
  elects the sequencer on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit.storage.naming import new_metadata

metadata = new_metadata()

#: BIGINT that still auto-increments on SQLite (only INTEGER PRIMARY KEY does there).
AutoBigInt = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = metadata


class EntryColumns:
    """The columns that a queued entry and a leaf share: the canonical entry bytes (the leaf
    input), its leaf hash, the columns copied from the entry for queries, and when it was
    queued. Mapped after each table's own key column."""

    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str | None] = mapped_column(String(43))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str | None] = mapped_column(String(1))
    outcome: Mapped[str | None] = mapped_column(String(16))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditQueue(EntryColumns, Base):
    """Written by each writer with the leaf hash and query columns already computed, so that
    the sequencer moves rows with one INSERT ... SELECT instead of decoding entries."""

    __tablename__ = "audit_queue"

    id: Mapped[int] = mapped_column(AutoBigInt, primary_key=True, autoincrement=True)


class AuditLeaf(EntryColumns, Base):
    __tablename__ = "audit_leaf"
    __table_args__ = (
        CheckConstraint("leaf_index >= 0", name="leaf_index_non_negative"),
        Index(None, "subject", "leaf_index"),
        Index(None, "actor_id", "leaf_index"),
        Index(None, "event_at"),
    )

    leaf_index: Mapped[int] = mapped_column(AutoBigInt, primary_key=True, autoincrement=False)
    # after the shared columns, as in the migration that created the table
    integrated_at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=1)


class AuditNode(Base):
    __tablename__ = "audit_node"
    __table_args__ = (
        CheckConstraint("level > 0 AND node_index >= 0", name="node_position"),
        {"sqlite_with_rowid": False},
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(AutoBigInt, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditTreeState(Base):
    __tablename__ = "audit_tree_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(255))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Tables whose rows may never change or disappear.
APPEND_ONLY_TABLES = ("audit_leaf", "audit_node", "audit_checkpoint")
