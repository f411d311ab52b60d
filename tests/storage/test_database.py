"""The engine, its connection settings and the migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from audit.storage.naming import NAMING_CONVENTION, new_metadata
from identity.errors import ConfigurationError
from identity.storage import migrate
from identity.storage.database import Database


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
