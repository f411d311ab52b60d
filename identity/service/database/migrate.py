"""Alembic migrations, applied by ``jati serve`` on start and by ``jati db upgrade``.

Concurrent starts (several hosts on one PostgreSQL database) are serialised by a
transaction-level advisory lock; on SQLite by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: An arbitrary, fixed 64-bit key for pg_advisory_xact_lock ("jati-mig").
_MIGRATION_LOCK_KEY = 0x6A6174692D6D6967


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revisions() -> set[str]:
    """The revisions the code expects the database to be at."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a database never migrated)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction, under a lock.

    A schema already at head is left alone without taking the lock or running DDL, so that
    a service connecting as a least-privilege role starts normally.
    """
    if revision == "head" and is_current(engine):
        return
    config = alembic_config()
    locked = engine.execution_options(jati_sqlite_begin="BEGIN IMMEDIATE")
    with locked.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
