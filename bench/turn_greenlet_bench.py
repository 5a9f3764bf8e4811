"""Turn in one greenlet against a greenlet per session call, alternating in one process.

A known user's turns go through the pipeline of bench/pipeline_bench.py (Telegram updates,
real NLU, the Bot API faked at PTB's request layer, no flood limits) in rounds of --turns
updates, each round in one of two modes, alternating so that the machine's drift hits both:
as citybot runs a turn (its transaction in one greenlet, storage/turn_session.py) and with
every session call in a greenlet of its own (AsyncSession's way, the code before). Printed
per mode: the median over rounds of the p50 of the turn's transaction (`Dispatcher._turn`)
and of the whole update, and updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline_bench as pipeline
from bench_databases import bench_databases

import bot.dispatcher as dispatcher_module
from bot.app import create_app
from nlu import EmbeddedNLU

ONE_GREENLET = dispatcher_module.in_one_greenlet


async def greenlet_per_call(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The turn awaited directly: every TurnSession call falls back to AsyncSession's greenlet."""
    return await coroutine


MODES = {"one greenlet per turn": ONE_GREENLET, "a greenlet per session call": greenlet_per_call}


async def compare(url: str, nlu: EmbeddedNLU, folder: Path, rounds: int, turns: int) -> None:
    """Alternate the modes over rounds of known users' turns and print their medians."""
    config = pipeline.bench_config(url, folder, flood=False)
    app = await create_app(config, nlu=nlu)
    transactions: list[float] = []
    handle_turn = app.dispatcher._turn

    async def timed_turn(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await handle_turn(*args)
        finally:
            transactions.append(time.perf_counter() - started)

    app.dispatcher._turn = timed_turn  # type: ignore[method-assign]
    try:
        transport, request = await pipeline.citybot_transport(app, config)
        await pipeline.drive(transport.bot, transport.process, turns, 1, request, chats=turns)
        figures: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in MODES}
        first_id = 10_000
        for number in range(rounds):
            order = list(MODES) if number % 2 == 0 else list(reversed(MODES))
            for mode in order:
                dispatcher_module.in_one_greenlet = MODES[mode]  # type: ignore[assignment]
                transactions.clear()
                run = await pipeline.drive(transport.bot, transport.process, turns, 1, request,
                                           chats=turns, first_id=first_id)
                first_id += turns
                figures[mode].append((statistics.median(transactions) * 1000, run["p50_ms"],
                                      run["per_second"]))
        await transport.stop()
    finally:
        dispatcher_module.in_one_greenlet = ONE_GREENLET
        await app.close()
    for mode, rows in figures.items():
        columns = zip(*rows, strict=True)
        transaction, update, per_second = (statistics.median(column) for column in columns)
        print(f"  {mode:<28} transaction p50 {transaction:5.2f} ms  update p50 {update:5.2f} ms"
              f"  {per_second:5.0f} updates/s")


async def main() -> None:
    """Compare on SQLite and, when its binaries are here, on a throwaway PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citybot-greenlet-"))
    nlu = pipeline.bench_nlu(pipeline.nlu_cache(folder))
    print(f"known users' turns, {args.rounds} rounds of {args.turns} per mode, medians")
    with bench_databases(folder, postgres=not args.no_postgres) as databases:
        for name, database in databases:
            print(name)
            await compare(database("greenlet"), nlu, folder, args.rounds, args.turns)


if __name__ == "__main__":
    asyncio.run(main())
