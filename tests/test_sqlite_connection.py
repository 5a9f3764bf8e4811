"""The SQLite driver connection: each statement is one trip to the database thread, a
BEGIN rides along with the first statement, an idle commit or rollback makes no trip, and a
marked write waits for the next trip."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import create_engine
from storage.sqlite_connection import WITH_NEXT_TRIP, OneTripConnection

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True, nullable=False),
)


class CountingQueue:
    """Stands in for aiosqlite's queue to the database thread and counts what is put on it."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.trips = 0

    def put_nowait(self, item: Any) -> None:
        self.trips += 1
        self.queue.put_nowait(item)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def counted(connection: AsyncConnection) -> CountingQueue:
    """Count the trips of this connection's driver from now on."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, OneTripConnection)
    counter = CountingQueue(driver._tx)
    driver._tx = counter  # type: ignore[assignment]  # the thread keeps the real queue
    return counter


async def test_each_statement_is_one_trip_with_its_rows(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        trips = await counted(connection)
        inserted = await connection.execute(
            insert(items).returning(items.c.id), [{"name": "a"}]
        )
        assert inserted.scalar_one() == 1
        assert trips.trips == 1, "BEGIN IMMEDIATE rides along with the INSERT … RETURNING"
        await connection.execute(insert(items), [{"name": "b"}, {"name": "c"}])  # executemany
        assert trips.trips == 2
        names = (await connection.execute(select(items.c.name).order_by(items.c.id))).all()
        assert [n for (n,) in names] == ["a", "b", "c"]
        assert trips.trips == 3, "execute, fetch and close of the SELECT in one trip"
        changed = await connection.execute(
            update(items).where(items.c.name != "a").values(name=items.c.name + "!")
        )
        assert changed.rowcount == 2
        await connection.rollback()
        assert trips.trips == 5, "the UPDATE and the rollback"
        async with connection.begin():
            pass  # a transaction that did nothing: no BEGIN sent, nothing to commit
        assert trips.trips == 5
    async with engine.connect() as connection:
        assert (await connection.execute(select(items.c.name))).all() == [], "rolled back"


async def test_a_failing_begin_surfaces_with_the_first_statement(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "trips.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            await driver._execute(driver._conn.execute, "PRAGMA busy_timeout=50")
            with pytest.raises(OperationalError, match="locked"):
                await connection.execute(insert(items), {"name": "a"})
            await connection.rollback()
    finally:
        holder.rollback()
        holder.close()
    async with engine.begin() as connection:  # this process's writer queue was released
        await asyncio.wait_for(connection.execute(insert(items), {"name": "a"}), 5)
    async with engine.connect() as connection:
        assert (await connection.execute(select(items.c.name))).scalars().all() == ["a"]


async def test_rowcount_lastrowid_and_errors_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        result = await connection.exec_driver_sql("INSERT INTO items (name) VALUES ('x')")
        assert result.lastrowid == 1
        result = await connection.exec_driver_sql("UPDATE items SET name = 'y' WHERE id = 1")
        assert result.rowcount == 1
        missing = await connection.exec_driver_sql("UPDATE items SET name='n' WHERE id=9")
        assert missing.rowcount == 0
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(insert(items), {"name": "y"})
        await connection.rollback()
        rows = (await connection.execute(select(items.c.name))).scalars().all()
        assert rows == ["y"], "the failed INSERT left nothing; the connection still works"


async def test_a_streamed_result_pages_through_the_prefetched_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(items), [{"name": f"n{i}"} for i in range(25)])
    async with engine.connect() as connection:
        result = await connection.stream(select(items.c.name).order_by(items.c.id))
        pages = [page async for page in result.partitions(10)]
        assert [len(page) for page in pages] == [10, 10, 5]
        assert pages[2][-1][0] == "n24"


async def test_a_marked_write_rides_along_with_the_next_trip_in_order(engine: AsyncEngine) -> None:
    marked_insert = insert(items).prefix_with(WITH_NEXT_TRIP)
    marked_update = update(items).prefix_with(WITH_NEXT_TRIP)
    async with engine.connect() as connection:
        trips = await counted(connection)
        await connection.execute(marked_insert, {"name": "a"})
        await connection.execute(marked_update.values(name="b"))
        assert trips.trips == 0, "BEGIN, the INSERT and the UPDATE wait for the next trip"
        names = (await connection.execute(select(items.c.name))).scalars().all()
        assert names == ["b"], "they ran first, in the order issued, in the transaction"
        assert trips.trips == 1
        await connection.execute(marked_insert, {"name": "c"})
        await connection.commit()
        assert trips.trips == 2, "the last marked write went with the commit"
    async with engine.connect() as connection:
        names = (await connection.execute(select(items.c.name).order_by(items.c.id)))
        assert names.scalars().all() == ["b", "c"], "committed"


async def test_a_rollback_drops_the_waiting_writes(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        trips = await counted(connection)
        await connection.execute(insert(items).prefix_with(WITH_NEXT_TRIP), {"name": "a"})
        await connection.rollback()
        assert trips.trips == 0, "nothing had gone out, so nothing to roll back"
        assert (await connection.execute(select(items.c.name))).all() == []


async def test_a_failing_marked_write_fails_the_commit_and_nothing_stays(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(items), {"name": "taken"})
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(items), {"name": "new"})
            await connection.execute(insert(items).prefix_with(WITH_NEXT_TRIP), {"name": "taken"})
    async with engine.connect() as connection:
        names = (await connection.execute(select(items.c.name))).scalars().all()
        assert names == ["taken"], "the failed commit rolled the whole transaction back"
    async with engine.begin() as connection:  # the writer queue and the connection work on
        await asyncio.wait_for(connection.execute(insert(items), {"name": "later"}), 5)
