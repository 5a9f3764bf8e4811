"""Garbage collector pauses of a running citybot, with and without its start-up objects frozen.

`citybot run` freezes the objects alive once it has started (bot/startup_objects.py). This
runs citybot's Telegram pipeline as bench/pipeline_bench.py does (real NLU, SQLite with demo
data, the Bot API faked at python-telegram-bot's request layer), once as it runs now and once
with nothing frozen, and prints: the objects a full collection walks after the start and how
long one takes then; and, for runs of new chats (each one's first message), every collection
the cyclic collector made during the updates (count, total and longest pause per generation)
with updates/s and p50 / p99 / max per update.

Run: python bench/gc_pause_bench.py [--updates 6000] [--rounds 2]
It asserts nothing: speed is measured, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pipeline_bench as pipeline


class Pauses:
    """Every collection's start (wall clock) and pause, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.collections: list[tuple[int, float, float]] = []  # generation, at, seconds
        self._started = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = (time.time(), time.perf_counter())
        else:
            at, started = self._started
            self.collections.append((info["generation"], at, time.perf_counter() - started))

    def summary(self, start: float, end: float) -> str:
        """Per generation, of the collections that began between start and end: how many,
        their total and their longest pause."""
        by_generation: dict[int, list[float]] = defaultdict(list)
        for generation, at, seconds in self.collections:
            if start <= at <= end:
                by_generation[generation].append(seconds)
        return "  ".join(
            f"gen{generation} {len(pauses)}× total {sum(pauses) * 1e3:.0f} ms "
            f"max {max(pauses) * 1e3:.1f} ms"
            for generation, pauses in sorted(by_generation.items()))


def full_collection_ms() -> float:
    """How long one full collection takes right now."""
    started = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - started) * 1e3


async def after_start(url: str, nlu: Any, folder: Path, first_id: int, *, frozen: bool
                      ) -> tuple[int, float]:
    """A started pipeline (after its warm-up): the objects a full collection walks and how
    long one takes."""
    seen: list[tuple[int, float]] = []

    async def started() -> None:
        if not frozen:
            gc.unfreeze()  # the pipeline froze them as `citybot run` does: not this time
        seen.append((len(gc.get_objects()), full_collection_ms()))

    await pipeline.citybot_run(url, nlu, folder, 20, 1, first_id=first_id,
                               first_chat=1_000_000 + first_id, ready=started)
    return seen[0]


async def measured(url: str, nlu: Any, folder: Path, updates: int, first_id: int,
                   *, frozen: bool) -> tuple[dict[str, float], Pauses]:
    """One pipeline run of new chats: its figures and the collections made meanwhile."""

    async def started() -> None:
        if not frozen:
            gc.unfreeze()

    pauses = Pauses()
    gc.callbacks.append(pauses)
    try:
        result = await pipeline.citybot_run(url, nlu, folder, updates, 1, first_id=first_id,
                                            first_chat=1_000_000 + first_id, ready=started)
    finally:
        gc.callbacks.remove(pauses)
    return result, pauses


async def main() -> None:
    """Run both ways, alternating, and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citybot-gc-"))
    nlu = pipeline.bench_nlu(pipeline.nlu_cache(folder))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    print(f"python {sys.version.split()[0]}, thresholds {gc.get_threshold()}, "
          f"{args.updates} updates per run (first contacts), SQLite")
    first_id = 1
    for frozen in (False, True):
        walked, took = await after_start(url, nlu, folder, first_id, frozen=frozen)
        first_id += 100
        print(f"{'frozen at start' if frozen else 'nothing frozen':16}: after the start a full "
              f"collection walks {walked:,} objects and takes {took:.1f} ms")
    for round_ in range(args.rounds):
        for frozen in (False, True):
            result, pauses = await measured(url, nlu, folder, args.updates, first_id,
                                            frozen=frozen)
            first_id += args.updates
            name = "frozen at start" if frozen else "nothing frozen"
            print(f"round {round_ + 1}, {name:16} {result['per_second']:4.0f} upd/s  "
                  f"p50 {result['p50_ms']:5.2f}  p99 {result['p99_ms']:6.2f}  "
                  f"max {result['max_ms']:7.2f} ms | "
                  f"{pauses.summary(result['wall_started'], result['wall_ended'])}")


if __name__ == "__main__":
    asyncio.run(main())
