"""Benchmark: where a known user's update spends its time, next to python-telegram-bot's echo.

Runs the pipeline of bench/pipeline_bench.py (known users, sequential, the Bot API faked at
PTB's request layer) with timers around its phases and prints each phase's mean per update:
the NLU (`Dispatcher._preparse`), the turn's transaction (the dispatcher's `in_one_greenlet`)
and inside it `open_turn` and – on SQLite – the trips to aiosqlite's thread, and sending
the answer (`TelegramTransport._deliver`). PTB's echo runs before each round.

It also measures the floor of the turn's database work: the same storage calls on a
synchronous Session on the calling thread (bench/turn_db_bench.py's "sync, no hop"). NLU +
sending + that floor, over the echo, is the lowest ratio to the echo this stack can reach on
this machine: a turn with no dispatcher, no acknowledgement and no thread hop at all.

Means (not medians) so that the phases add up to the update. Timers cost a little
themselves; the shares matter, not the last digit. It asserts nothing.

Run: python bench/turn_budget_bench.py [--updates 400] [--rounds 3] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_databases import bench_databases
from pipeline_bench import bench_nlu, citybot_run, echo_run, nlu_cache
from sqlalchemy.orm import sessionmaker
from turn_db_bench import USERS, measure, sync_engine, sync_turn

import bot.dispatcher
from bot.app import prepare_database
from bot.config import config_from_mapping
from bot.telegram.transport import TelegramTransport
from nlu import EmbeddedNLU
from storage.held_writes import TurnSyncSession
from storage.sqlite_connection import OneTripConnection

# (label, owner, attribute): the phases timed, in the order printed; indented ones are
# inside the one before
PHASES: list[tuple[str, Any, str]] = [
    ("NLU (Dispatcher._preparse)", bot.dispatcher.Dispatcher, "_preparse"),
    ("turn's transaction (in_one_greenlet)", bot.dispatcher, "in_one_greenlet"),
    ("  open_turn: dedup, user, state", bot.dispatcher, "open_turn"),
    ("  trips to aiosqlite's thread (waiting)", OneTripConnection, "run"),
    ("sending (TelegramTransport._deliver)", TelegramTransport, "_deliver"),
]


class PhaseTimer:
    """Total seconds spent in each timed coroutine function while switched on."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {label: 0.0 for label, _, _ in PHASES}
        self.on = False

    async def switch_on(self) -> None:
        """Time from now on."""
        self.on = True

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """The coroutine function, timed under label."""

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                if self.on:
                    self.seconds[label] += time.perf_counter() - started

        return timed

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Every phase's function replaced by its timed version, restored afterwards."""
        originals = [(owner, name, getattr(owner, name)) for _, owner, name in PHASES]
        for (label, owner, name), (_, _, function) in zip(PHASES, originals, strict=True):
            setattr(owner, name, self.wrap(label, function))
        try:
            yield
        finally:
            for owner, name, function in originals:
                setattr(owner, name, function)


async def database_floor(url: str, folder: Path, turns: int) -> float:
    """Mean seconds of an ordinary turn's database work on a synchronous Session, no hop."""
    config = config_from_mapping({"storage": {"url": url}, "nlu": {"cache_dir": None}}, folder)
    engine = await prepare_database(config)
    blocking = sessionmaker(sync_engine(url), class_=TurnSyncSession, expire_on_commit=False)
    turn = sync_turn(blocking)

    async def no_hop(number: int, acks: list[str]) -> str:
        return turn(number, acks)

    try:
        await measure(no_hop, USERS + 50, 1, 0)  # the users exist, statement caches warm
        result = await measure(no_hop, turns, 1, USERS + 50)
        return 1 / result["per_second"]
    finally:
        blocking.kw["bind"].dispose()
        await engine.dispose()


async def budget(name: str, url: str, floor_url: str, nlu: EmbeddedNLU, folder: Path,
                 updates: int, rounds: int) -> None:
    """One database: the phases of known users' updates, the echo, the floors; printed."""
    await citybot_run(url, nlu, folder, updates, 1, first_id=1)  # the users exist
    timer = PhaseTimer()
    echo_seconds = citybot_seconds = 0.0
    with timer.installed():
        for round_number in range(rounds):
            echo = await echo_run(updates, 1)
            known = await citybot_run(url, nlu, folder, updates, 1,
                                      first_id=100_000 * (round_number + 1),
                                      ready=timer.switch_on)  # after the warm-up
            timer.on = False
            echo_seconds += 1 / echo["per_second"]
            citybot_seconds += 1 / known["per_second"]
    counted = rounds * updates
    echo_mean, update_mean = echo_seconds / rounds, citybot_seconds / rounds
    floor = await database_floor(floor_url, folder, updates)
    phase = {label: seconds / counted for label, seconds in timer.seconds.items()}
    print(f"{name}, known users, {rounds} rounds of {updates} updates, mean per update")
    print(f"  {'PTB echo, the whole update':<44} {echo_mean * 1000:6.2f} ms")
    print(f"  {'citybot, the whole update':<44} {update_mean * 1000:6.2f} ms  "
          f"{update_mean / echo_mean:5.1f}x the echo")
    top_level = 0.0
    for label, seconds in phase.items():
        if label.startswith("  ") and seconds == 0.0:
            continue  # no trips on PostgreSQL: asyncpg's protocol runs on the event loop
        if not label.startswith("  "):
            top_level += seconds
        print(f"    {label:<42} {seconds * 1000:6.2f} ms  {seconds / update_mean * 100:3.0f} %")
    print(f"    {'the rest (transport, dispatcher, acks)':<42} "
          f"{(update_mean - top_level) * 1000:6.2f} ms")
    print(f"  {'floor of the database work (sync, no hop)':<44} {floor * 1000:6.2f} ms")
    stack = phase[PHASES[0][0]] + phase[PHASES[-1][0]] + floor
    print(f"  {'floor of this stack: NLU + sending + that':<44} {stack * 1000:6.2f} ms  "
          f"{stack / echo_mean:5.1f}x the echo")


async def main() -> None:
    """Run every measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citybot-budget-") as temporary:
        folder = Path(temporary)
        nlu = bench_nlu(nlu_cache(folder))
        with bench_databases(folder, postgres=not args.no_postgres) as databases:
            for name, database in databases:
                await budget(name, database("budget"), database("floor"), nlu, folder,
                             args.updates, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
