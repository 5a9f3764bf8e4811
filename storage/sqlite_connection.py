"""An aiosqlite connection whose statements take one trip each to the database thread.

aiosqlite runs sqlite3 in a thread of its own and every call is one trip there and back
(a queue, a wake-up of the event loop). SQLAlchemy's adapter makes three or four such calls
per statement: create a cursor, execute, fetch the rows, close the cursor. Here a cursor is
a plain object on the event loop's side, and one trip executes the statement, fetches all its
rows and closes the sqlite3 cursor; the rows, the description, rowcount and lastrowid come
back with it. Everything else – the thread, its queue, commit, rollback, close – is
aiosqlite's own.

A write whose outcome nobody reads (an UPDATE of sent rows, an INSERT without RETURNING)
can be marked with WITH_NEXT_TRIP in its SQL: it then waits and goes, in order, at the front
of the connection's next trip – the next statement or the commit. Its error, if any, comes
with that trip (a failing commit rolls the whole transaction back); a rollback drops it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite

Outcome = tuple[Any, int, int | None, list[Any]]  # description, rowcount, lastrowid, rows
Deferred = list[tuple[str, Any]]  # marked writes waiting for the next trip: (sql, parameters)
DEFERRED_STATEMENTS = frozenset({"BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN EXCLUSIVE"})
WITH_NEXT_TRIP = "/* with next trip */"  # in a statement's SQL: it rides along with the next trip


class PrefetchingCursor:
    """A cursor whose execute brings back the whole result in the same trip."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> PrefetchingCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> PrefetchingCursor:
        """Execute one statement and keep its rows (one trip to the database thread).

        A BEGIN is not sent alone: it goes with the transaction's first statement; a marked
        write (WITH_NEXT_TRIP) goes with the next trip.
        """
        parameters = () if parameters is None else parameters
        if sql in DEFERRED_STATEMENTS and not parameters:
            self._connection.begin_with_next(sql)
        elif WITH_NEXT_TRIP in sql:
            self._connection.with_next_trip(sql, parameters)
        else:
            self._take(await self._connection.run(_run, "execute", sql, parameters))
            return self
        self._take((None, -1, self.lastrowid, []))  # it waits: no outcome yet
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PrefetchingCursor:
        """Execute one statement for many parameter sets (one trip)."""
        self._take(await self._connection.run(_run, "executemany", sql, parameters))
        return self

    def _take(self, outcome: Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next rows (arraysize of them unless told)."""
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> list[Any]:
        """The remaining rows."""
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        """Forget the rows (the sqlite3 cursor closed in the thread already)."""
        self._rows = []


def _run(connection: sqlite3.Connection, begin: str | None, deferred: Deferred, method: str,
         sql: str, parameters: Any) -> Outcome:
    """In the database thread: the waiting BEGIN and writes, then execute, fetch all, close."""
    _catch_up(connection, begin, deferred)
    cursor = connection.cursor()
    try:
        getattr(cursor, method)(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _catch_up(connection: sqlite3.Connection, begin: str | None, deferred: Deferred) -> None:
    """In the database thread: what waited for this trip, in the order it was issued."""
    if begin is not None:
        connection.execute(begin)
    for sql, parameters in deferred:
        connection.execute(sql, parameters)


def _commit(connection: sqlite3.Connection, begin: str | None, deferred: Deferred) -> Outcome:
    """In the database thread: the waiting BEGIN and writes, then the commit."""
    _catch_up(connection, begin, deferred)
    connection.commit()
    return None, -1, None, []


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, its cursors made on the event loop's side.

    A BEGIN waits for the transaction's first statement and goes in its trip; commit and
    rollback make no trip when no transaction is open (a BEGIN that never went out, the pool's
    rollback when a connection comes back).
    """

    _begin: str | None = None
    _deferred: Deferred | None = None

    def cursor(self) -> PrefetchingCursor:  # type: ignore[override]
        """A new cursor (no trip: the sqlite3 cursor lives only within a statement's trip)."""
        return PrefetchingCursor(self)

    def begin_with_next(self, sql: str) -> None:
        """Send this BEGIN with the next statement (its error, if any, comes with that one)."""
        self._begin = sql

    def with_next_trip(self, sql: str, parameters: Any) -> None:
        """Send this write with the next trip (a statement or the commit), in order."""
        if self._deferred is None:
            self._deferred = []
        self._deferred.append((sql, parameters))

    async def run(self, function: Callable[..., Outcome], *args: Any) -> Outcome:
        """One trip: function(sqlite3 connection, waiting BEGIN or None, waiting writes, *args)."""
        begin, self._begin = self._begin, None
        deferred, self._deferred = self._deferred or [], None
        return await self._execute(function, self._conn, begin, deferred, *args)

    def _open(self) -> bool:
        """Whether a transaction is open. A BEGIN still waiting opened none and is dropped
        (the caller ends the transaction); the thread is idle whenever this is asked:
        SQLAlchemy awaits every call on a connection before the next."""
        self._begin = None
        connection = self._connection
        return connection is None or connection.in_transaction

    async def commit(self) -> None:
        """Commit, the waiting writes in the same trip; no trip when nothing is open."""
        if self._deferred:
            await self.run(_commit)
        elif self._open():
            await super().commit()

    async def rollback(self) -> None:
        """Roll back (waiting writes are dropped); no trip when nothing is open."""
        self._deferred = None
        if self._open():
            await super().rollback()


def one_trip_connector(args: Sequence[Any], kwargs: dict[str, Any]
                       ) -> Callable[[], Awaitable[OneTripConnection]]:
    """An async_creator for SQLAlchemy: sqlite3.connect(*args, **kwargs) behind one thread."""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(
            lambda: sqlite3.connect(*args, **{**kwargs, "check_same_thread": False}), 64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own
        return await connection

    return connect
