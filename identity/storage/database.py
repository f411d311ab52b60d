"""One engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite is opened in WAL mode with foreign keys on, a busy timeout and full synchronous
commits; SQLAlchemy's pysqlite driver is told not to manage transactions itself so that
write transactions start with ``BEGIN IMMEDIATE`` (taking the write lock up front instead of
failing with SQLITE_BUSY when a read later turns into a write).
PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from identity.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Seconds a pooled PostgreSQL connection may have been idle and still be handed out without
#: a ping (:func:`_ping_when_idle`).
PING_AFTER_IDLE = 1.0
#: Seconds to wait for a PostgreSQL connection to open.
CONNECT_TIMEOUT = 5
_IDLE_SINCE = "jati_idle_since"
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
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # SQL errors must not carry values into logs
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
        _ping_when_idle(engine)
        return engine
    raise ConfigurationError(
        [f"JATI_DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql+psycopg"]
    )


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before handing it out, as ``pool_pre_ping`` does, but only
    when it has been idle for :data:`PING_AFTER_IDLE` seconds or more: the ping is a round
    trip, as costly as a short statement, and a connection the pool had back moments ago
    is alive. A dead one is replaced before use; one that died within that second fails
    its statement, and SQLAlchemy's disconnect handling then replaces the pool's
    connections."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError("the pooled connection is dead") from exc  # retried
            raise


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
