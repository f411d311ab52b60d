"""PostgreSQL connections for the event loop (psycopg's ``AsyncConnection``), for the one
statement of the refresh grant's common case.

Every other database call of the service runs in a worker thread, on SQLAlchemy's pool. The
refresh grant is the busiest request and needs exactly one statement, so it runs on the
event loop instead: handing a request to a thread and back costs more CPU than the
statement itself (two thread wake-ups per request, each a context switch on a loaded host),
and the loop stays free while the statement is in flight.

The connections are made from the engine's own URL and driver options (host, database,
``options``, SQLAlchemy's type adapters), in autocommit mode: each statement is its own
transaction, committed durably before the server answers. As in
:mod:`identity.storage.database`, a connection idle for :data:`PING_AFTER_IDLE` seconds is
pinged before use and replaced if dead; a connection that fails is closed, never reused.
At most ``size`` are in use at once (further requests wait), and at most ``size`` are kept
idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from sqlalchemy import Engine

from identity.storage.database import CONNECT_TIMEOUT, PING_AFTER_IDLE

__all__ = ["LoopConnections"]


class LoopConnections:
    """A small pool of autocommit ``AsyncConnection``s for one event loop at a time (a
    connection made on another loop, as test clients make, is closed, not reused)."""

    def __init__(self, engine: Engine, *, size: int = 10) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("event-loop connections are for PostgreSQL only")
        self.dialect = engine.dialect
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._args = list(args)
        self._kwargs = {"connect_timeout": CONNECT_TIMEOUT, **kwargs, "autocommit": True}
        self._size = size
        # (connection, the loop it was made on, idle since)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], asyncio.AbstractEventLoop, float]] = []
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            self._slots = {loop: asyncio.Semaphore(self._size)}  # forget finished loops
            slots = self._slots[loop]
        async with slots:
            conn = await self._checkout(loop)
            try:
                yield conn
            except BaseException:
                await _close(conn)
                raise
            if conn.closed or conn.broken or len(self._idle) >= self._size:
                await _close(conn)
            else:
                self._idle.append((conn, loop, time.monotonic()))

    async def _checkout(self, loop: asyncio.AbstractEventLoop) -> psycopg.AsyncConnection[Any]:
        while self._idle:
            conn, made_on, idle_since = self._idle.pop()
            if made_on is not loop or conn.closed:
                conn.pgconn.finish()  # made on another loop: close it without awaiting
                continue
            if time.monotonic() - idle_since < PING_AFTER_IDLE:
                return conn
            try:
                await conn.execute("SELECT 1")
            except psycopg.Error:
                await _close(conn)
                continue
            return conn
        return await psycopg.AsyncConnection.connect(*self._args, **self._kwargs)

    async def close(self) -> None:
        """Close the idle connections (at shutdown)."""
        idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            conn.pgconn.finish()


async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        await conn.close()
