"""Many rows into one table at once, in the caller's transaction (SQLite and PostgreSQL):
the audit queue's batches (:meth:`audit.storage.store.SqlAuditStore.append_many`) and the
population import's tables (:mod:`identity.storage.population_import`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, LargeBinary, Table, bindparam, insert
from sqlalchemy.exc import IntegrityError

__all__ = ["bulk_insert"]


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns``' order) into ``table`` in ``conn``'s
    transaction: ``COPY ... FROM STDIN`` on PostgreSQL (about twice as fast as psycopg's
    pipelined ``executemany``, measured on the population import's tables), else one
    ``executemany``. Values pass through each column type's bind processor, as the ORM's would;
    a value equal to the row before's (the batch's one time) is processed once, and
    ``bytes`` go to the driver as they are (``LargeBinary``'s processor only wraps them in
    the DB-API ``Binary``, which both drivers read as the same bytes).

    Raises:
        sqlalchemy.exc.IntegrityError: a constraint failed (the driver's error as ``orig``).
    """
    dialect = conn.dialect
    processors = [
        None
        if isinstance(table.c[name].type, LargeBinary)
        else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in columns
    ]
    driver_rows = _processed(rows, processors)
    if dialect.name == "postgresql":
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for row in driver_rows:
                    copy.write_row(row)
        except dialect.loaded_dbapi.IntegrityError as exc:
            raise IntegrityError(sql, None, exc) from None
        return
    values = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    compiled = insert(table).values(values).compile(dialect=dialect)
    order = [columns.index(name) for name in compiled.positiontup or columns]
    conn.exec_driver_sql(str(compiled), [tuple([row[i] for i in order]) for row in driver_rows])


def _processed(
    rows: Iterable[Sequence[Any]], processors: Sequence[Callable[[Any], Any] | None]
) -> list[Sequence[Any]]:
    processed = [(i, process) for i, process in enumerate(processors) if process is not None]
    if not processed:
        return list(rows)
    done: list[Sequence[Any]] = []
    last: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        values = list(row)
        for i, process in processed:
            value = values[i]
            seen = last.get(i)
            if seen is None or (value is not seen[0] and value != seen[0]):
                seen = last[i] = (value, process(value))
            values[i] = seen[1]
        done.append(values)
    return done
