"""What the stores over ORM sessions share (SQLite and PostgreSQL).

- :class:`SqlStore`: ``write()`` and ``read()``, each one transaction of :class:`Database`
  (``BEGIN IMMEDIATE`` on SQLite for a write) wrapped in the store's transaction type;
  ``joined(bind)``, the store's transaction inside another store's open one.
- :class:`SqlTransaction`: a transaction's session and dialect; ``bind`` is what the audit
  appender writes through, so that entries commit with the change. Its statements:
  :meth:`~SqlTransaction.insert_new` (``INSERT ... ON CONFLICT DO NOTHING``: whether the row
  went in), :meth:`~SqlTransaction.purge_expired` (a batch of expired rows) and
  :meth:`~SqlTransaction.locked` (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions
  already hold the database's write lock).
- :func:`from_row` and :func:`to_row`: a domain record from a row's columns of the same
  names, and a row from a record's attributes of the same names (:func:`row_values`: the
  same values, for an ``INSERT`` statement).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Select, delete, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session

from identity.storage.database import Database

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Transaction = TypeVar("Transaction")
Record = TypeVar("Record", bound="DataclassInstance")
RowType = TypeVar("RowType", bound=DeclarativeBase)
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])

#: Expired rows deleted at most per purge, so that no write waits long behind one.
PURGE_BATCH = 500


def rowcount(result: Any) -> int:
    """The rows a statement changed (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(record_type))


def from_row(record_type: type[Record], row: object, **computed: Any) -> Record:
    """A ``record_type`` whose every field is the row's attribute of the same name, except
    the ``computed`` ones (a column of another name or type)."""
    names = (name for name in _field_names(record_type) if name not in computed)
    return record_type(**{name: getattr(row, name) for name in names}, **computed)


@cache
def _column_names(table: type[DeclarativeBase]) -> tuple[str, ...]:
    return tuple(column.key for column in inspect(table).column_attrs)


def row_values(table: type[DeclarativeBase], record: object, **computed: Any) -> dict[str, Any]:
    """Every column of ``table``: the record's attribute of the same name, except the
    ``computed`` ones (a column of another name or type, or not in the record)."""
    names = (name for name in _column_names(table) if name not in computed)
    return {name: getattr(record, name) for name in names} | computed


def to_row(table: type[RowType], record: object, **computed: Any) -> RowType:
    """A ``table`` row of :func:`row_values`."""
    return table(**row_values(table, record, **computed))


class SqlTransaction:
    """One transaction over one ORM session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    @property
    def bind(self) -> Session:
        """Where the audit appender writes, so entries commit with the change."""
        return self.session

    def locked(self, query: Query, lock: bool = True) -> Query:
        """``query`` locking its rows until the transaction ends, on PostgreSQL."""
        return query.with_for_update() if lock and self.dialect == "postgresql" else query

    def insert_new(self, table: Any, values: dict[str, Any], keys: list[str]) -> bool:
        """Insert a row unless one with the same ``keys`` exists; True if it went in."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        # RETURNING says whether the row went in (psycopg reports no rowcount for it)
        returning = statement.returning(*(getattr(table, key) for key in keys))
        return self.session.execute(returning).first() is not None

    def purge_expired(
        self, table: Any, column: Any, now: datetime, *, batch: int = PURGE_BATCH
    ) -> int:
        """Delete up to ``batch`` rows of ``table`` expired at ``now`` (``expires_at``),
        picked by ``column``; a table with a composite key loses all its expired rows."""
        stale = select(column).where(table.expires_at <= now).limit(batch)
        key = table.__mapper__.primary_key
        if len(key) == 1:
            result = self.session.execute(delete(table).where(key[0].in_(stale)))
        else:  # composite key: delete by the expiry itself
            result = self.session.execute(delete(table).where(table.expires_at <= now))
        return rowcount(result)


class SqlStore(Generic[Transaction]):
    """A store whose transactions each wrap one session of :class:`Database`."""

    def __init__(
        self, *, database: Database, transaction: Callable[[Session], Transaction]
    ) -> None:
        self.database = database
        self._transaction = transaction

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with self.database.write() as session:
            yield self._transaction(session)

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self.database.read() as session:
            yield self._transaction(session)

    def joined(self, bind: Session) -> Transaction:
        """This store's transaction inside another store's open write transaction on the
        same database (``bind``: that transaction's session): its changes commit, or roll
        back, with the other's; one commit where there would be two."""
        return self._transaction(bind)
