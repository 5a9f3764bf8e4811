"""`citybot run` as a real process: /healthz answers, and SIGTERM ends it within shutdown_seconds.

Even when its tasks hang on "database is locked" (another connection holds SQLite's write
lock), the process is gone by the deadline.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sqlite3
import time
from pathlib import Path

import aiohttp
import yaml

from tests.relay_sink import RelaySink
from tests.test_run_processes import prepared, start_citybot, stop, wait_for_log

SHUTDOWN_SECONDS = 3
CLEAN_SECONDS = 8  # a clean stop needs far less; room for a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(
    folder: Path, url: str, relay_url: str, nlu_cache: Path, port: int, shutdown: float
) -> Path:
    config = {
        "storage": {"url": url, "demo_data": False},
        "nlu": {"cache_dir": str(nlu_cache)},
        "relay": {"platform": "relay", "url": relay_url},
        "outbox": {"poll_seconds": 0.1},
        "scheduler": {"reminder_interval_seconds": 0.3},
        "web": {"listen_port": port},
        "run": {"shutdown_seconds": shutdown},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def healthz(port: int) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return response.status, await response.json()


async def wait_for_health(port: int, predicate, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            status, body = await healthz(port)
            if predicate(status, body):
                return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never matched: {body}")


def reminders_job(body: dict) -> dict:
    return body.get("scheduler", {}).get("jobs", {}).get("release_reminders", {})


async def test_sigterm_ends_the_process_within_shutdown_seconds_with_tasks_stuck_on_a_lock(
    tmp_path, nlu_cache_dir
):
    database = tmp_path / "citybot.db"
    engine, _, _ = await prepared(f"sqlite+aiosqlite:///{database}", 1)
    await engine.dispose()
    sink = RelaySink()
    port = free_port()
    url = f"sqlite+aiosqlite:///{database}"
    config = write_config(tmp_path, url, await sink.start(), nlu_cache_dir, port, SHUTDOWN_SECONDS)
    log = tmp_path / "citybot.log"
    process = await start_citybot(config, log)
    blocker = sqlite3.connect(database, timeout=20, isolation_level=None, check_same_thread=False)
    try:
        await wait_for_log(log, "citybot running", 90)
        body = await wait_for_health(
            port, lambda s, b: s == 200 and reminders_job(b).get("last_success"), 30
        )
        assert body["scheduler"]["role"] == "leader"

        await asyncio.to_thread(blocker.execute, "BEGIN IMMEDIATE")  # the write lock, held
        await wait_for_health(port, lambda s, b: reminders_job(b).get("running"), 10)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), SHUTDOWN_SECONDS + 5)
        took = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
        await stop(process)
        await sink.stop()
    assert took < SHUTDOWN_SECONDS + 1, f"took {took:.1f} s"
    text = log.read_text()
    assert f"shutdown took longer than shutdown_seconds={SHUTDOWN_SECONDS}" in text
    assert process.returncode == 1, "a forced exit is not reported as a clean one"


async def test_sigterm_without_trouble_ends_cleanly_and_quickly(tmp_path, nlu_cache_dir):
    database = tmp_path / "citybot.db"
    engine, _, _ = await prepared(f"sqlite+aiosqlite:///{database}", 1)
    await engine.dispose()
    sink = RelaySink()
    port = free_port()
    url = f"sqlite+aiosqlite:///{database}"
    log = tmp_path / "citybot.log"
    process = await start_citybot(
        write_config(tmp_path, url, await sink.start(), nlu_cache_dir, port, CLEAN_SECONDS), log
    )
    try:
        await wait_for_log(log, "citybot running", 90)
        await wait_for_health(port, lambda s, b: reminders_job(b).get("last_success"), 30)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), CLEAN_SECONDS + 5)
        took = time.monotonic() - started
    finally:
        await stop(process)
        await sink.stop()
    text = log.read_text()
    assert process.returncode == 0 and took < CLEAN_SECONDS, (took, text[-1500:])
    assert "shutdown took longer" not in text and "Traceback" not in text
    # started: its long-lived objects (NLU, app, libraries) are out of the collector's way
    frozen = re.search(r"startup_objects_frozen=(\d+)", text)
    assert frozen is not None and int(frozen.group(1)) > 50_000, text[-1500:]
