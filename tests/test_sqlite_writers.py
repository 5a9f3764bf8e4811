"""SQLite writers of one process take turns first come, first served (storage/db.py)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import WriterQueue, create_engine, session_factory


async def test_writers_are_served_in_the_order_they_came_and_cancelled_ones_free_their_turn(
    tmp_path,
):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        await db.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[int] = []
    release = asyncio.Event()

    async def writer(n: int) -> None:
        async with sessions() as db, db.begin():
            await db.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})  # waits for the turn
            order.append(n)
            if n == 0:
                await release.wait()

    first = asyncio.create_task(writer(0))
    while not order:
        await asyncio.sleep(0.01)
    later = []
    for n in range(1, 6):
        later.append(asyncio.create_task(writer(n)))
        await asyncio.sleep(0.02)  # they arrive one after the other
    cancelled = later.pop(1)  # writer 2 gives up while waiting: its turn is not kept
    cancelled.cancel()
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *later), 10)
    assert order == [0, 1, 3, 4, 5]
    async with sessions() as db:
        assert (await db.scalar(text("SELECT count(*) FROM t"))) == 5
    await engine.dispose()


async def test_a_writer_waiting_past_the_queue_timeout_goes_on_behind_sqlites_busy_timeout(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(WriterQueue.__init__, "__defaults__", (0.2,))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        await db.execute(text("CREATE TABLE t (n INTEGER)"))
    holding = asyncio.Event()
    release = asyncio.Event()

    async def writer(n: int) -> None:
        async with sessions() as db, db.begin():
            await db.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            if n == 0:
                holding.set()
                await release.wait()

    first = asyncio.create_task(writer(0))
    await holding.wait()
    second = asyncio.create_task(writer(1))

    async def queue_gave_up() -> None:
        while "writer queue wait timed out" not in caplog.text:  # after 0.2 s
            await asyncio.sleep(0.05)

    await asyncio.wait_for(queue_gave_up(), 10)
    assert not second.done()  # now SQLite's own lock holds it back
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    async with sessions() as db:
        assert sorted(await db.scalars(text("SELECT n FROM t"))) == [0, 1]
    await engine.dispose()
