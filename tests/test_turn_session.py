"""A turn in one greenlet (storage/turn_session.py): same results, no greenlet per call."""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import session as asyncio_session

from storage import migrate
from storage.db import create_engine, session_factory
from storage.districts import District
from storage.turn_session import TurnSession, in_one_greenlet

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="")


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[TurnSession]]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield session_factory(engine)  # type: ignore[misc]
    await engine.dispose()


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the greenlets AsyncSession and its transaction start, by the function run."""
    counts: Counter[str] = Counter()
    original = asyncio_session.greenlet_spawn

    async def counting(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        counts[getattr(fn, "__name__", repr(fn))] += 1
        return await original(fn, *args, **kw)

    monkeypatch.setattr(asyncio_session, "greenlet_spawn", counting)
    return counts


async def _work(sessions: async_sessionmaker[TurnSession]) -> list[Any]:
    """Every kind of session call the services make, in one transaction."""
    async with sessions() as db, db.begin():
        district = District(name="Nordstadt", aliases=["Nord"])
        db.add(district)
        await db.flush()
        again = await db.get(District, district.id)
        await db.refresh(district)
        count = await db.scalar(select(func.count()).select_from(District))
        names = list(await db.scalars(select(District.name).order_by(District.name)))
        rows = (await db.execute(text("select 1 + :n"), {"n": 1})).all()
        await db.delete(district)
        await db.flush()
        left = await db.scalar(select(func.count()).select_from(District))
    return [again is district, district.aliases, count, names, [tuple(r) for r in rows], left]


async def test_inside_one_greenlet_the_calls_give_the_same_results_without_a_greenlet_each(
    sessions: async_sessionmaker[TurnSession], spawned: Counter[str]
) -> None:
    outside = await _work(sessions)
    spawned_outside = sum(spawned.values())
    spawned.clear()
    inside = await in_one_greenlet(_work(sessions))
    assert inside == outside == [True, ["Nord"], 1, ["Nordstadt"], [(2,)], 0]
    assert spawned_outside >= 10  # begin, flush, get, refresh, scalar, …, commit, close
    assert not spawned
    assert sessions.kw["bind"].pool.checkedout() == 0  # the close gave the connection back


async def test_an_error_inside_rolls_the_transaction_back_and_comes_out(
    sessions: async_sessionmaker[TurnSession],
) -> None:
    async def failing() -> None:
        async with sessions() as db, db.begin():
            db.add(District(name="Südstadt", aliases=[]))
            await db.flush()
            raise LookupError("handler failed")

    with pytest.raises(LookupError, match="handler failed"):
        await in_one_greenlet(failing())
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(District)) == 0


async def test_a_database_error_inside_reaches_the_coroutine_which_can_handle_it(
    sessions: async_sessionmaker[TurnSession],
) -> None:
    async def duplicate() -> str:
        async with sessions() as db, db.begin():
            db.add(District(name="Altstadt", aliases=[]))
        try:
            async with sessions() as db, db.begin():
                db.add(District(name="Altstadt", aliases=[]))
        except Exception as error:  # the unique name
            return type(error).__name__
        return "no error"

    assert await in_one_greenlet(duplicate()) == "IntegrityError"


async def test_what_the_coroutine_awaits_runs_on_the_loop_and_its_context_is_the_tasks() -> None:
    loop = asyncio.get_running_loop()

    async def turn() -> list[Any]:
        future: asyncio.Future[str] = loop.create_future()
        loop.call_later(0.01, future.set_result, "answered")
        await asyncio.sleep(0)
        MARK.set("set inside")
        got = await future
        thread_result = await asyncio.to_thread(lambda: 6 * 7)
        return [got, thread_result, asyncio.current_task() is outer]

    outer = asyncio.current_task()
    assert await in_one_greenlet(turn()) == ["answered", 42, True]
    assert MARK.get() == "set inside"  # as if the coroutine had been awaited directly


async def test_cancelling_the_task_cancels_what_the_coroutine_awaits_and_runs_its_cleanup() -> None:
    waiting = asyncio.Event()
    cleaned: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def turn() -> None:
        try:
            waiting.set()
            await never
        finally:
            cleaned.append("finally ran")

    task = asyncio.create_task(in_one_greenlet(turn()))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally ran"]
    assert never.cancelled()


async def test_a_timeout_inside_interrupts_the_await_and_the_coroutine_goes_on() -> None:
    async def turn() -> str:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(5)
        except TimeoutError:
            return "timed out, went on"
        return "not interrupted"

    assert await asyncio.wait_for(in_one_greenlet(turn()), 2) == "timed out, went on"


async def test_a_cancel_arriving_after_the_awaited_result_is_thrown_into_the_coroutine() -> None:
    """The task throws the cancellation in (the awaited future was already done): it must
    reach the coroutine, not be swallowed by the greenlet in between."""
    waiting = asyncio.Event()
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    cleaned: list[str] = []

    async def turn() -> str:
        try:
            waiting.set()
            return await answer
        finally:
            cleaned.append("finally ran")

    task = asyncio.create_task(in_one_greenlet(turn()))
    await waiting.wait()
    answer.set_result("answered")
    task.cancel()  # the future is done: the task throws CancelledError in at its next step
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally ran"]
