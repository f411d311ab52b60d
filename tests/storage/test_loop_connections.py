"""PostgreSQL connections on the event loop (identity.storage.loop_connections): made from
the engine's URL (its schema included), reused on their own loop, pinged after a second
idle and replaced when dead, closed after a failure."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from identity.storage import loop_connections as loop_module
from identity.storage.database import Database
from identity.storage.loop_connections import LoopConnections
from tests.conftest import PG_URL

postgresql = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's event-loop connections")


async def _pid(connections: LoopConnections) -> int:
    async with connections.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        return int(row[0])


def _terminate(database: Database, pid: int) -> None:
    with database.write() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_they_are_for_postgresql_only(database: Database) -> None:
    if database.dialect == "postgresql":
        assert LoopConnections(database.engine).dialect.name == "postgresql"
    else:
        with pytest.raises(ValueError, match="PostgreSQL only"):
            LoopConnections(database.engine)


@postgresql
def test_a_connection_sees_the_engines_schema_and_commits_each_statement(
    database: Database,
) -> None:
    with database.write() as session:
        session.execute(text("CREATE TABLE scratch (x INTEGER)"))
    connections = LoopConnections(database.engine)

    async def insert() -> Any:
        async with connections.connection() as conn:
            await conn.execute("INSERT INTO scratch VALUES (1)")  # no COMMIT sent
            return conn.info.transaction_status

    status = asyncio.run(insert())
    assert status == psycopg.pq.TransactionStatus.IDLE  # autocommit: nothing left open
    with database.read() as session:
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 1


@postgresql
def test_a_connection_is_reused_on_its_loop_and_not_on_another(database: Database) -> None:
    connections = LoopConnections(database.engine)

    async def twice() -> tuple[int, int]:
        return await _pid(connections), await _pid(connections)

    first, second = asyncio.run(twice())
    assert first == second
    third = asyncio.run(_pid(connections))  # a new loop: a new connection
    assert third != first


@postgresql
def test_a_connection_that_died_while_idle_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = LoopConnections(database.engine)

    async def scenario() -> tuple[int, int]:
        pid = await _pid(connections)
        _terminate(database, pid)
        monkeypatch.setattr(loop_module, "PING_AFTER_IDLE", 0.0)  # as if idle long enough
        return pid, await _pid(connections)

    dead, fresh = asyncio.run(scenario())
    assert fresh != dead


@postgresql
def test_a_connection_whose_statement_failed_is_not_reused(database: Database) -> None:
    connections = LoopConnections(database.engine)

    async def scenario() -> tuple[int, int]:
        pid = await _pid(connections)
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with connections.connection() as conn:
                await conn.execute("SELECT * FROM no_such_table")
        return pid, await _pid(connections)

    before, after = asyncio.run(scenario())
    assert before != after
