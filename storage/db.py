"""Database engine and session factory (SQLite in WAL mode, or PostgreSQL via asyncpg)."""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from storage.connection_check import ping_idle_connections
from storage.held_writes import TurnSyncSession
from storage.sqlite_connection import one_trip_connector
from storage.turn_session import TurnSession
from storage.wal_checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    # hide_parameters: a database error in the log does not show the values (texts, ids)
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": not echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        args, options = parsed.get_dialect()().create_connect_args(parsed)
        kwargs["async_creator"] = one_trip_connector(args, {**options, "timeout": 30})
    else:
        # no pool_pre_ping: idle connections are pinged, busy ones are not
        # (storage/connection_check.py)
        kwargs.update(pool_size=10, max_overflow=10)
        kwargs["connect_args"] = {
            "server_settings": {"application_name": f"citybot-{os.getpid()}"}
        }
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        queue = WriterQueue()
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", queue.begin)
        for name in ("commit", "rollback"):
            event.listen(engine.sync_engine, name, queue.end)
        for name in ("checkin", "invalidate", "close"):
            event.listen(engine.sync_engine.pool, name, queue.returned)
    else:
        ping_idle_connections(engine)
    return engine


logger = logging.getLogger(__name__)
QUEUED = "citybot_write_turn"  # connection info key: the queue whose turn this connection holds


class WriterQueue:
    """SQLite has one writer at a time; this process's writers take turns first come, first served.

    SQLite's busy handler lets waiting connections poll with growing sleeps, so a newcomer
    often beats one that has waited long: under load a scheduler run could starve for many
    seconds behind chat turns. Here each transaction first waits in a FIFO asyncio queue (no
    thread, no busy polling), then takes SQLite's lock with BEGIN IMMEDIATE (other processes,
    like the CLI, still meet SQLite's own busy timeout).
    """

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def _lock(self) -> asyncio.Lock:
        """The queue of the running event loop (an engine may outlive a loop in tests)."""
        loop = asyncio.get_running_loop()
        if loop not in self._locks:
            self._locks[loop] = asyncio.Lock()
        return self._locks[loop]

    def begin(self, connection: Any) -> None:
        """Wait for this process's turn, then take SQLite's write lock up front.

        The sqlite3 driver's own transaction handling would break SAVEPOINTs and let a
        rolled-back turn leave rows behind; IMMEDIATE also serialises writers cleanly instead
        of failing when two deferred transactions both try to upgrade to a write lock. The
        BEGIN goes to the driver directly (storage/sqlite_connection.py), in the trip of the
        transaction's first statement, not through the engine's execution path (about 70 µs),
        as asyncpg sends PostgreSQL's BEGIN itself.
        """
        info = connection.info
        if QUEUED not in info:
            lock = self._lock
            try:
                await_only(_acquire(lock, self.timeout))
                info[QUEUED] = lock
            except TimeoutError:
                logger.warning("sqlite writer queue wait timed out; relying on busy_timeout")
        # every SQLite connection of create_engine is a OneTripConnection (one_trip_connector)
        connection.connection.driver_connection.begin_with_next("BEGIN IMMEDIATE")

    def end(self, connection: Any) -> None:
        """The transaction committed or rolled back: the next writer's turn."""
        self._release(connection.info)

    def returned(self, _dbapi_connection: Any, record: Any, *_args: Any) -> None:
        """A connection went back to the pool or away: never keep its turn."""
        if record is not None:
            self._release(record.info)

    @staticmethod
    def _release(info: dict[str, Any]) -> None:
        lock = info.pop(QUEUED, None)
        if lock is not None and lock.locked():
            lock.release()


async def _acquire(lock: asyncio.Lock, timeout: float) -> None:
    """Take the lock within timeout seconds; a free one at once (no task, unlike wait_for)."""
    async with asyncio.timeout(timeout):
        await lock.acquire()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # storage/wal_checkpoint
    cursor.close()


def wal_checkpointer(engine: AsyncEngine) -> WalCheckpointer | None:
    """The background WAL checkpointer of an SQLite file database (None for others)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return WalCheckpointer(url.database)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose objects stay usable after commit (storage/turn_session.py) and
    whose held writes go before anything else (storage/held_writes.py)."""
    return async_sessionmaker(engine, class_=TurnSession, sync_session_class=TurnSyncSession,
                              expire_on_commit=False)
