"""The writers' side of the audit log: queueing entries in the writer's own transaction.

A writer never touches the tree: it inserts the entry into ``audit_queue`` with its leaf hash
and query columns already computed (:func:`queue_row`), inside the transaction of the access
it records, so the two commit together or not at all (UU PDP Art. 31).
:class:`~audit.storage.store.SqlAuditStore` queues through :class:`DriverInsert`; a writer
that builds its own statement uses :func:`enqueue_statement` or :func:`guarded_enqueue` with
:func:`enqueue_parameters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CTE, Connection, Table, bindparam, exists, insert, select, union_all
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from audit.entry import AuditEntry, encode_entry
from audit.merkle.tree_hash import hash_leaf
from audit.storage.tables import AuditQueue

__all__ = [
    "DriverInsert",
    "enqueue_parameters",
    "enqueue_statement",
    "guarded_enqueue",
    "queue_row",
]

_queue = cast(Table, AuditQueue.__table__)
_QUEUED = [c for c in _queue.c if c.name != "id"]


def queue_row(entry: AuditEntry, data: bytes, queued_at: datetime) -> dict[str, Any]:
    """The ``audit_queue`` row of ``entry``, whose canonical encoding is ``data``."""
    return {
        "entry": data,
        "leaf_hash": hash_leaf(data),
        "event_at": entry.time,
        "subject": entry.subject,
        "actor_kind": entry.actor.kind.value,
        "actor_id": entry.actor.id,
        "action": entry.action.value,
        "purpose": entry.purpose,
        "legal_basis": entry.legal_basis.value if entry.legal_basis else None,
        "outcome": entry.outcome.value,
        "queued_at": queued_at,
    }


def guarded_enqueue(guard: CTE, count: int, *, name: str = "audit_entries") -> CTE:
    """Queue ``count`` audit entries inside a writer's own single statement.

    An ``INSERT INTO audit_queue ... SELECT`` as a data-modifying ``WITH`` query (PostgreSQL)
    that inserts only when ``guard``, another ``WITH`` query of the same statement (say an
    ``UPDATE ... RETURNING``), returns a row; its parameters are ``audit_<column>_<n>``
    (:func:`enqueue_parameters`). A change and its audit entries then commit together
    (UU PDP Art. 31) in one statement: one round trip, no ``BEGIN``/``COMMIT`` (the refresh
    grant, :mod:`identity.storage.token_families`).
    """
    return _enqueue_rows(count, exists(select(guard))).cte(name)


def enqueue_statement(count: int) -> Insert:
    """The ``INSERT`` of ``count`` queued entries with the parameters of
    :func:`enqueue_parameters`, for a writer's own transaction (any database)."""
    return _enqueue_rows(count, None)


def _enqueue_rows(count: int, guard: ColumnElement[bool] | None) -> Insert:
    if count < 1:
        raise ValueError("at least one audit entry")
    rows = []
    for n in range(count):
        row = select(*(bindparam(f"audit_{c.name}_{n}", type_=c.type) for c in _QUEUED))
        rows.append(row.where(guard) if guard is not None else row)
    source = rows[0] if count == 1 else union_all(*rows)
    return insert(_queue).from_select([c.name for c in _QUEUED], source)


def enqueue_parameters(entries: Sequence[AuditEntry], *, queued_at: datetime) -> dict[str, Any]:
    """The parameters of :func:`guarded_enqueue` for ``entries``: each entry encoded once,
    its leaf hash and query columns computed as
    :meth:`~audit.storage.store.SqlAuditStore.append` does."""
    parameters: dict[str, Any] = {}
    for n, entry in enumerate(entries):
        for column, value in queue_row(entry, encode_entry(entry), queued_at).items():
            parameters[f"audit_{column}_{n}"] = value
    return parameters


class DriverInsert:
    """An INSERT compiled once for the dialect and run with ``exec_driver_sql``.

    The writers' hot path: it skips SQLAlchemy's per-call statement compilation and cache
    lookup, which cost more than the insert itself. Values still pass through each column
    type's bind processor, so they are stored exactly as the ORM would store them.
    """

    def __init__(self, table: Table, dialect: Dialect, *, generated: str = "id") -> None:
        values = {c.name: bindparam(c.name, type_=c.type) for c in table.c if c.name != generated}
        compiled = insert(table).values(values).inline().compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or compiled.binds)
        columns = table.c
        self.processors = {
            name: processor
            for name in self.names
            if (processor := columns[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        }
        self.positional = compiled.positional

    def execute(self, conn: Connection, row: dict[str, Any]) -> None:
        values = {
            name: (self.processors[name](row[name]) if name in self.processors else row[name])
            for name in self.names
        }
        if self.positional:
            conn.exec_driver_sql(self.sql, tuple(values[name] for name in self.names))
        else:
            conn.exec_driver_sql(self.sql, values)
