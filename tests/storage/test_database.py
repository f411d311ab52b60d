"""The engine, its connection settings and the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from audit.storage.naming import NAMING_CONVENTION, new_metadata
from identity.errors import ConfigurationError
from identity.service.database import migrate
from identity.storage import database as database_module
from identity.storage.database import Database
from tests.conftest import PG_URL


def test_connection_settings_for_each_database(database: Database) -> None:
    if database.dialect == "sqlite":
        with database.read() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
            assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    else:
        assert database.dialect == "postgresql"
        assert database.engine.dialect.driver == "psycopg"
        with database.read() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_migrations_reach_head_and_are_idempotent(database: Database) -> None:
    assert migrate.is_current(database.engine)
    migrate.upgrade(database.engine)  # a second run changes nothing and does not fail
    assert migrate.current_revisions(database.engine) == migrate.head_revisions()


def test_write_transactions_roll_back_on_error(database: Database) -> None:
    with database.write() as session:
        session.execute(text("CREATE TABLE scratch (x INTEGER)"))
    with pytest.raises(RuntimeError), database.write() as session:
        session.execute(text("INSERT INTO scratch VALUES (1)"))
        raise RuntimeError("boom")
    with database.read() as session:
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar() == 0


def test_naming_convention_names_constraints() -> None:
    metadata = new_metadata()
    assert metadata.naming_convention == NAMING_CONVENTION
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}


@pytest.mark.parametrize(
    "url", ["mysql://x@y/z", "postgresql+psycopg2://x@y/z", "not a url at all"]
)
def test_unsupported_database_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Database(url)
    assert "JATI_DATABASE_URL" in str(caught.value)


def _backend_pid(database: Database) -> int:
    with database.read() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    """Kill one server process from another connection, as a server restart would."""
    killer = Database(str(PG_URL))
    try:
        with killer.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's connection pool")
def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(database)
    _terminate(pid)
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.0)  # as if idle long enough
    with database.read() as session:  # pinged, found dead, replaced: no error
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert _backend_pid(database) != pid


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's connection pool")
def test_a_connection_used_moments_ago_is_handed_out_without_a_ping(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[int] = []
    ping = database.engine.dialect.do_ping
    monkeypatch.setattr(
        database.engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn)
    )
    _backend_pid(database)
    _backend_pid(database)
    assert pings == []  # used within PING_AFTER_IDLE: no round trip spent on a ping
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.0)
    _backend_pid(database)
    assert pings == [1]
