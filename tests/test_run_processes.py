"""`citybot run` as real processes: kill -9 mid-broadcast, and two processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from bot.messages import Reply
from bot.notify import broadcast, remind
from storage import migrate, outbox
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.users import get_or_create_user
from tests.relay_sink import RelaySink

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, url: str, relay_url: str, nlu_cache: Path, **outbox_cfg) -> Path:
    config = {
        "storage": {"url": url, "demo_data": False},
        "nlu": {"cache_dir": str(nlu_cache)},
        "relay": {"platform": "relay", "url": relay_url, "rate_per_second": 200},
        "outbox": {"poll_seconds": 0.1, "lease_seconds": 5, **outbox_cfg},
        "scheduler": {"reminder_interval_seconds": 0.5, "leader_check_seconds": 0.5},
        "web": {"listen_port": 0},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def start_citybot(config: Path, log: Path, **env_vars: str) -> asyncio.subprocess.Process:
    """Start `citybot run` with this config; stderr (the log) appended to log."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **env_vars}
    env.pop("CITYBOT_DATABASE_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        str(config),
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def wait_for_log(log: Path, needle: str, timeout: float) -> None:
    for _ in range(int(timeout * 10)):
        if log.exists() and needle in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} not logged in {timeout} s:\n{log.read_text()[-2000:]}")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def prepared(url: str, users: int) -> tuple[object, object, list[int]]:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        ids = []
        for n in range(users):
            user, _ = await get_or_create_user(db, "relay", f"r{n}", language="de")
            ids.append(user.id)
    return engine, sessions, ids


async def test_kill_9_mid_broadcast_loses_nothing_and_repeats_at_most_one(tmp_path, nlu_cache_dir):
    url = f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}"
    engine, sessions, ids = await prepared(url, 1000)
    async with sessions() as db, db.begin():
        await broadcast(db, ids, lambda t: [Reply("Neue Öffnungszeiten")], dedup_prefix="news")
    sink = RelaySink()
    config = write_config(tmp_path, url, await sink.start(), nlu_cache_dir)
    log = tmp_path / "citybot.log"
    first = await start_citybot(config, log)
    try:
        assert await sink.wait_for(lambda s: len(s.deliveries) >= 300, 90), log.read_text()[-2000:]
        first.kill()
        await first.wait()
        before = len(sink.deliveries)
        assert before < 1000, "the broadcast was still running when the process was killed"
        second = await start_citybot(config, log)
        try:
            done = await sink.wait_for(lambda s: len(s.keys()) >= 1000, 90)
            assert done, log.read_text()[-2000:]
        finally:
            await stop(second)
    finally:
        await stop(first)
        await sink.stop()
    keys = sink.keys()
    assert len(keys) == 1000
    assert sum(keys.values()) - len(keys) <= 1, "at most the in-flight message twice"
    async with sessions() as db:
        sent = await db.scalar(
            select(func.count())
            .select_from(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.status == outbox.SENT)
        )
    assert sent == 1000
    await engine.dispose()


async def _lock_holder(sessions) -> str | None:
    async with sessions() as db:
        return await db.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted"
            )
        )


@pytest.mark.postgres
async def test_two_processes_deliver_each_reminder_once_and_hand_over(
    pg_cluster, tmp_path, nlu_cache_dir
):
    url = pg_cluster.create_database("two_processes").url()
    engine, sessions, ids = await prepared(url, 200)
    sink = RelaySink()
    config = write_config(tmp_path, url, await sink.start(), nlu_cache_dir, batch=5)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [await start_citybot(config, logs[0])]
    try:
        await wait_for_log(logs[0], "citybot running", 90)
        processes.append(await start_citybot(config, logs[1]))
        await wait_for_log(logs[1], "citybot running", 90)
        async with sessions() as db, db.begin():
            for n, user in enumerate(ids):
                await remind(db, user, utcnow() + timedelta(seconds=1 + n % 3), "jobs.closed")
        assert await sink.wait_for(lambda s: len(s.keys()) >= 200, 60)
        await asyncio.sleep(1)
        keys = sink.keys()
        assert len(keys) == 200 and max(keys.values()) == 1, "every reminder exactly once"

        holder = await _lock_holder(sessions)
        leader = next(p for p in processes if holder == f"citybot-{p.pid}")
        leader.kill()
        await leader.wait()
        async with sessions() as db, db.begin():
            for user in ids[:20]:
                await remind(db, user, utcnow() + timedelta(seconds=1), "jobs.not_found")
        assert await sink.wait_for(lambda s: len(s.keys()) >= 220, 30), "survivor took over"
        survivor = next(p for p in processes if p is not leader)
        assert await _lock_holder(sessions) == f"citybot-{survivor.pid}"
        assert max(sink.keys().values()) == 1
    finally:
        for process in processes:
            await stop(process)
        await sink.stop()
        await engine.dispose()
