"""Statements compiled once per database dialect and run with ``exec_driver_sql``.

For the hottest paths only (the refresh grant runs a handful of statements per request):
SQLAlchemy's per-call work (building the expression, its cache key, the ORM's bulk-update
bookkeeping, the result object) costs more than the statement itself, so these run on the
DB-API cursor of the connection's transaction. The SQL text is still SQLAlchemy's own
compilation of a Core statement, and every value still goes through its column type's bind
and result processors, so rows are written and read exactly as the ORM would. Driver
errors reach the caller unwrapped (``psycopg.Error``, ``sqlite3.Error``), as a 500 would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable, Select

from identity.storage.loop_connections import LoopConnections

__all__ = ["DriverStatement"]

_Processor = Callable[[Any], Any]


class _Compiled:
    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.names: list[str] = list(compiled.positiontup or ()) or list(compiled.binds)
        binds = compiled.binds
        self.bind_processors: dict[str, _Processor] = {
            name: processor
            for name in self.names
            if (processor := binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            is not None
        }
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        self.result_processors: list[_Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def processed(self, row: Sequence[Any] | None) -> tuple[Any, ...] | None:
        if row is None:
            return None
        return tuple(
            processor(value) if processor is not None else value
            for processor, value in zip(self.result_processors, row, strict=True)
        )

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processors = self.bind_processors
        if self.positional:
            return tuple(
                processors[name](values[name]) if name in processors else values[name]
                for name in self.names
            )
        return {
            name: processors[name](values[name]) if name in processors else values[name]
            for name in self.names
        }


class DriverStatement:
    """A Core statement (with ``bindparam`` placeholders) compiled for each dialect it
    meets, the first time it meets it."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run a statement without result rows; the number of rows it changed."""
        compiled = self._for(connection.dialect)
        cursor = _cursor(connection)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            return int(cursor.rowcount or 0)
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first result row, each value through its column type's result processor."""
        compiled = self._for(connection.dialect)
        cursor = _cursor(connection)
        try:
            cursor.execute(compiled.sql, compiled.parameters(values))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return compiled.processed(row)

    def first_alone(self, engine: Engine, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """PostgreSQL: run the statement as its own transaction (autocommit: the server
        commits it, durably, before answering) on a pooled connection, and return its first
        row. One round trip where ``BEGIN``, the statement and ``COMMIT`` take three; for a
        change that is one statement, data-modifying ``WITH`` queries included (all of it
        commits or none). A connection lost meanwhile is dropped from the pool."""
        compiled = self._for(engine.dialect)
        pooled = engine.raw_connection()  # pinged if it was idle (identity.storage.database)
        driver: Any = pooled.driver_connection
        try:
            driver.autocommit = True
            try:
                cursor = driver.cursor()
                try:
                    cursor.execute(compiled.sql, compiled.parameters(values))
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                if not driver.closed:
                    driver.autocommit = False
        except BaseException:
            if driver.closed or getattr(driver, "broken", False):
                pooled.invalidate()
            raise
        finally:
            pooled.close()
        return compiled.processed(row)

    async def first_on_loop(
        self, connections: LoopConnections, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """:meth:`first_alone` on the event loop (:mod:`identity.storage.loop_connections`):
        the statement as its own transaction, its first row."""
        compiled = self._for(connections.dialect)
        async with connections.connection() as conn:
            cursor = conn.cursor()
            try:
                await cursor.execute(compiled.sql, compiled.parameters(values))
                row = await cursor.fetchone()
            finally:
                await cursor.close()
        return compiled.processed(row)


def _cursor(connection: Connection) -> Any:
    """A DB-API cursor of the connection's transaction (begun already: on SQLite the
    engine's ``begin`` event has issued ``BEGIN IMMEDIATE``; psycopg opens its transaction
    at the first statement)."""
    return connection.connection.cursor()
