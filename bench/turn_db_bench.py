"""Benchmark: an ordinary turn's database work as citybot runs it, and in one thread hop.

The database work of a known user's ordinary turn (issue 15) with the storage functions the
dispatcher calls, on the demo database: the dedup INSERT and the turn's SELECT
(`open_turn`), the state's UPDATE (`save_state`), the journal INSERT (`journal_direct`), a
batched acknowledgement (`mark_sent_many`) and the commit. The ways to run it:

1. **async** – as citybot does: the turn in one greenlet with a TurnSession
   (storage/turn_session.py), each statement a trip to the driver (aiosqlite's thread,
   asyncpg's protocol); and as before that, each session call in a greenlet of its own
   (AsyncSession's way);
2. **one hop per turn** – the same functions on a synchronous Session (sqlite3, psycopg),
   the whole turn in one `asyncio.to_thread`; the event loop waits once per turn;
3. **sync, no hop** – the same on the calling thread: the floor (SQLAlchemy and the
   database without any hop; in the bot nothing synchronous may touch the database on the
   event loop, so this is a reference, not an option).

The storage functions are coroutines; for 2 and 3 they run on a synchronous Session through
`SyncSession`, whose awaits finish at once, so one turn's coroutine completes in a single
step (`finish`). Prints p50/p99 per turn and turns/s, sequentially and with turns in flight,
on SQLite and (when the binaries are installed) PostgreSQL. It asserts nothing.

Run: python bench/turn_db_bench.py [--turns 1000] [--in-flight 8] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_databases import bench_databases
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.app import prepare_database
from bot.config import config_from_mapping
from bot.messages import Reply
from storage import outbox
from storage.base import utcnow
from storage.conversations import open_turn, save_state
from storage.db import _sqlite_pragmas, session_factory
from storage.held_writes import TurnSyncSession, hold_writes
from storage.turn_session import in_one_greenlet

PLATFORM = "telegram"
USERS = 50  # known users, round-robin


class SyncSession:
    """A synchronous Session behind the awaitable methods the storage functions use."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_bind(self) -> Any:
        """The engine (the dialect decides the INSERT … ON CONFLICT form)."""
        return self.session.get_bind()

    @property
    def sync_session(self) -> Session:
        """The session itself (compiled writes ask it whether it holds writes)."""
        return self.session

    def add(self, instance: Any) -> None:
        """Add an object to the session."""
        self.session.add(instance)

    def __contains__(self, instance: object) -> bool:
        """Whether the object is in the session."""
        return instance in self.session

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Execute at once."""
        return self.session.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        """The first column of the first row, at once."""
        return self.session.scalar(statement, parameters)

    async def flush(self) -> None:
        """Flush at once."""
        self.session.flush()

    async def connection(self) -> SyncConnection:
        """The session's connection (storage/compiled_writes.py runs its writes there)."""
        return SyncConnection(self.session.connection())


class SyncConnection:
    """A synchronous Connection behind the awaitable method compiled writes use."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def exec_driver_sql(self, statement: str, parameters: Any) -> Any:
        """Execute the driver's SQL at once."""
        return self.connection.exec_driver_sql(statement, parameters)


def finish(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never really waits (its awaits finish at once) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the turn waited for something other than the database")


async def ordinary_turn(db: Any, number: int, acks: list[str]) -> str:
    """A known user's ordinary turn; returns its journal row's key (a later turn acks it)."""
    user = number % USERS
    turn = await open_turn(db, PLATFORM, f"bench-{number}", f"u{user}", f"c{user}",
                           language="de", display_name=f"Nutzer {user}")
    assert turn is not None, "every turn's event is new"
    hold_writes(db)  # as the dispatcher: on PostgreSQL the writes below go as one statement
    await save_state(db, turn.state, {"buttons": [["Hilfe", f"help:{number}"]]})
    await db.flush()
    await outbox.journal_direct(
        db, platform=PLATFORM, recipient=f"c{user}", replies=[Reply(f"Antwort {number}")],
        user_id=turn.user.id, dedup_key=f"bench:{number}",
        claimed_until=utcnow() + timedelta(seconds=30))
    if acks:
        await outbox.mark_sent_many(db, acks)
    return f"bench:{number}"


def sync_turn(blocking: sessionmaker[Session]) -> Callable[[int, list[str]], str]:
    """An ordinary turn on a synchronous Session of the factory, on the calling thread."""

    def turn(number: int, acks: list[str]) -> str:
        with blocking() as db, db.begin():
            return finish(ordinary_turn(SyncSession(db), number, acks))

    return turn


def sync_engine(url: str) -> Engine:
    """A synchronous engine on the same database, set up as citybot's (WAL, BEGIN IMMEDIATE)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_size=10)
    engine = create_engine(parsed.set(drivername="sqlite+pysqlite"),
                           connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


async def measure(turn: Callable[[int, list[str]], Awaitable[str]], turns: int,
                  in_flight: int, first: int) -> dict[str, float]:
    """Run turns (numbered from first), each acknowledging the rows of the turns before."""
    waiting: list[str] = []
    times: list[float] = []
    gate = asyncio.Semaphore(in_flight)

    async def one(number: int) -> None:
        async with gate:
            acks = waiting[:]
            waiting.clear()
            started = time.perf_counter()
            row = await turn(number, acks)
            times.append(time.perf_counter() - started)
            waiting.append(row)

    started = time.perf_counter()
    if in_flight <= 1:
        for number in range(first, first + turns):
            await one(number)
    else:
        await asyncio.gather(*(one(n) for n in range(first, first + turns)))
    elapsed = time.perf_counter() - started
    ordered = sorted(times)
    return {"per_second": turns / elapsed, "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


async def bench_database(name: str, url: str, folder: Path, turns: int, in_flight: int) -> None:
    """Each way on one database, sequentially and in flight."""
    config = config_from_mapping({"storage": {"url": url}, "nlu": {"cache_dir": None}}, folder)
    engine = await prepare_database(config)
    sessions = session_factory(engine)
    blocking = sessionmaker(sync_engine(url), class_=TurnSyncSession, expire_on_commit=False)

    async def greenlet_per_call(number: int, acks: list[str]) -> str:
        async with sessions() as db, db.begin():
            return await ordinary_turn(db, number, acks)

    async def as_citybot(number: int, acks: list[str]) -> str:
        return await in_one_greenlet(greenlet_per_call(number, acks))

    on_sync_session = sync_turn(blocking)

    async def one_hop(number: int, acks: list[str]) -> str:
        return await asyncio.to_thread(on_sync_session, number, acks)

    async def no_hop(number: int, acks: list[str]) -> str:
        return on_sync_session(number, acks)

    ways = [("async (as citybot)", as_citybot), ("async, greenlet per call", greenlet_per_call),
            ("one hop per turn", one_hop), ("sync, no hop (floor)", no_hop)]
    first = 0
    try:
        await measure(as_citybot, USERS, 1, first)  # users and states exist
        first += USERS
        for way, turn in ways:
            for flight in (1, in_flight):
                if flight > 1 and turn is no_hop:
                    continue  # a blocking call cannot have turns in flight
                await measure(turn, 50, flight, first)  # warm: statement caches, pools
                first += 50
                result = await measure(turn, turns, flight, first)
                first += turns
                label = "sequential" if flight == 1 else f"{flight} in flight"
                print(f"{name:<11} {way:<24} {label:<12} {result['per_second']:7.0f} turns/s  "
                      f"p50 {result['p50_ms']:5.2f} ms  p99 {result['p99_ms']:6.2f} ms")
    finally:
        blocking.kw["bind"].dispose()
        await engine.dispose()


async def main() -> None:
    """Run every measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citybot-turn-db-") as temporary:
        folder = Path(temporary)
        with bench_databases(folder, postgres=not args.no_postgres) as databases:
            for name, database in databases:
                await bench_database(name, database("turn_db"), folder, args.turns,
                                     args.in_flight)


if __name__ == "__main__":
    asyncio.run(main())
