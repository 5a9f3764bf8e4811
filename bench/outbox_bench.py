"""Outbox benchmark: messages/s to a no-op transport (SQLite, PostgreSQL) and reminder cost.

Run: python bench/outbox_bench.py [--messages 5000] [--reminders 100000]
Prints its figures; it asserts nothing (speed is measured, not asserted).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot import scheduled
from bot import scheduler as scheduling
from bot.config import OutboxConfig, config_from_mapping
from bot.messages import Reply
from bot.notify import broadcast
from bot.sender import OutboxSender
from bot.transport import SendResult
from storage import migrate
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.reminders import Reminder
from storage.users import Identity, User
from tests.pgcluster import binaries_present, throwaway_postgres


class NoOpTransport:
    """Acknowledges everything at once, remembering when."""

    name = "noop"
    leader_only = False

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}

    async def start(self, dispatch: object) -> None:
        """Nothing to start."""

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        """Accept the message."""
        self.sent_at[key] = time.monotonic()
        return SendResult.sent()

    async def stop(self) -> None:
        """Nothing to stop."""


def rss_mb() -> float:
    """Current resident memory of this process in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


async def make_users(sessions, count: int) -> list[int]:
    """Bulk-create users with a no-op identity."""
    now = utcnow()
    async with sessions() as db, db.begin():
        result = await db.execute(
            insert(User).returning(User.id),
            [{"language": "de", "created_at": now, "last_seen_at": now} for _ in range(count)],
        )
        ids = [row[0] for row in result]
        await db.execute(
            insert(Identity),
            [
                {
                    "user_id": uid,
                    "platform": "noop",
                    "external_id": f"u{uid}",
                    "reachable": True,
                    "last_seen_at": now,
                }
                for uid in ids
            ],
        )
    return ids


async def throughput(label: str, url: str, messages: int) -> None:
    """Enqueue a broadcast, then drain it through one sender; print both rates."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    ids = await make_users(sessions, messages)
    started = time.perf_counter()
    async with sessions() as db, db.begin():
        await broadcast(db, ids, lambda t: [Reply("Hallo")], dedup_prefix="bench")
    enqueue_s = time.perf_counter() - started
    transport = NoOpTransport()
    sender = OutboxSender(sessions, transport, OutboxConfig(batch=100), "bench")
    started = time.perf_counter()
    while await sender.drain():
        pass
    drain_s = time.perf_counter() - started
    print(
        f"{label:<11} enqueue {messages / enqueue_s:8.0f} msg/s   "
        f"send+mark {messages / drain_s:8.0f} msg/s   ({messages} messages)"
    )
    await engine.dispose()


async def reminders_cost(url: str, pending: int) -> None:
    """Start-up, memory and lateness with many pending reminders."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    ids = await make_users(sessions, 1000)
    now = utcnow()
    rows = [
        {
            "user_id": ids[n % len(ids)],
            "due_at": now + timedelta(days=1, seconds=n),
            "kind": "bench",
            "message_key": "jobs.closed",
            "params": {},
            "status": "pending",
            "created_at": now,
        }
        for n in range(pending)
    ]
    async with sessions() as db, db.begin():
        for chunk in range(0, len(rows), 10000):
            await db.execute(insert(Reminder), rows[chunk : chunk + 10000])
    await engine.dispose()

    memory_before = rss_mb()
    started = time.perf_counter()
    config = config_from_mapping(
        {"storage": {"url": url, "demo_data": False}, "nlu": {"cache_dir": None}}
    )
    engine = create_engine(url)
    sessions = session_factory(engine)
    runtime = SimpleNamespace(sessions=sessions, config=config)
    scheduling.bind(runtime)  # type: ignore[arg-type]
    jobs = scheduling.Scheduler(config)
    await jobs.start()
    scheduler_start = time.perf_counter() - started
    await scheduled.release_reminders()
    first_pass = time.perf_counter() - started - scheduler_start
    print(
        f"reminders   {pending} pending: scheduler start {scheduler_start * 1000:.0f} ms, "
        f"first release pass {first_pass * 1000:.1f} ms, "
        f"RSS growth {rss_mb() - memory_before:.1f} MB"
    )

    due_in = 2.0
    due = utcnow() + timedelta(seconds=due_in)
    due_mono = time.monotonic() + due_in
    async with sessions() as db, db.begin():
        await db.execute(
            insert(Reminder),
            [
                {
                    "user_id": uid,
                    "due_at": due,
                    "kind": "bench",
                    "message_key": "jobs.closed",
                    "params": {},
                    "status": "pending",
                    "created_at": utcnow(),
                }
                for uid in ids[:200]
            ],
        )
    transport = NoOpTransport()
    sender = OutboxSender(sessions, transport, OutboxConfig(batch=100), "bench")
    deadline = time.monotonic() + 30
    while len(transport.sent_at) < 200 and time.monotonic() < deadline:
        await scheduled.release_reminders()
        while await sender.drain():
            pass
        await asyncio.sleep(0.5)  # the scheduler's default interval is 2 s; this loop polls 0.5 s
    await jobs.stop()
    lateness = sorted(t - due_mono for t in transport.sent_at.values())
    print(
        f"reminders   200 due together, polled every 0.5 s: lateness p50 "
        f"{statistics.median(lateness) * 1000:.0f} ms, max {lateness[-1] * 1000:.0f} ms"
    )
    await engine.dispose()


async def main() -> None:
    """Run every measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--reminders", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await throughput("SQLite", f"sqlite+aiosqlite:///{folder}/a.db", args.messages)
        await reminders_cost(f"sqlite+aiosqlite:///{folder}/b.db", args.reminders)
    if binaries_present():
        with throwaway_postgres() as pg:
            await throughput("PostgreSQL", pg.url(), args.messages)
    else:
        print("PostgreSQL   skipped: initdb/pg_ctl not installed")


if __name__ == "__main__":
    asyncio.run(main())
