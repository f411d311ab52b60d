"""One engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite is opened in WAL mode with foreign keys on, a busy timeout and full synchronous
commits; SQLAlchemy's pysqlite driver is told not to manage transactions itself so that
write transactions start with ``BEGIN IMMEDIATE`` (taking the write lock up front instead of
failing with SQLITE_BUSY when a read later turns into a write).
PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from identity.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 10_000
_BEGIN_OPTION = "jati_sqlite_begin"


class Database:
    """The service's engine plus read and write session factories.

    ``write()`` opens a transaction that will write (``BEGIN IMMEDIATE`` on SQLite);
    ``read()`` one that only reads. Both commit on success and roll back on error.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_database_engine(url, echo=echo, pool_size=pool_size)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"}),
            expire_on_commit=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def create_database_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Create the engine for ``url`` with Jati's connection settings."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(
            [f"JATI_DATABASE_URL is not a valid database URL ({type(exc).__name__})"]
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo=echo)
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg",):
            raise ConfigurationError(
                ["JATI_DATABASE_URL must use the psycopg 3 driver: postgresql+psycopg://..."]
            )
        return create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # SQL errors must not carry values into logs
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"connect_timeout": 5},
        )
    raise ConfigurationError(
        [f"JATI_DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql+psycopg"]
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN; pysqlite's own handling defers it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # erased keys/fields leave zeros, not bytes
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: audit indexes stay in memory
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))

    return engine
