"""The scheduler never dies: failed and hung runs are logged and retried; /healthz shows it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import aiohttp
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App
from bot.config import Config
from bot.health import Health
from bot.scheduler import RecurringJob, Scheduler
from bot.web import WebServer, set_health
from storage import scheduler_runs
from storage.base import utcnow
from tests.conftest import make_config

DAILY = "0 3 * * *"


def settings(app: App, **scheduler: object) -> Config:
    """The app's config with scheduler overrides (short retries and deadlines for tests)."""
    return make_config(app.config.base_dir, app.config.storage.url, scheduler=scheduler)


async def eventually(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    """Wait until predicate() holds; False on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def daily(_config: Config) -> CronTrigger:
    return CronTrigger.from_crontab(DAILY, timezone="Europe/Berlin")


def every(seconds: float) -> Callable[[Config], IntervalTrigger]:
    return lambda _config: IntervalTrigger(seconds=seconds)


@pytest.fixture
async def started() -> AsyncIterator[list[Scheduler]]:
    """Schedulers a test starts; stopped afterwards."""
    schedulers: list[Scheduler] = []
    yield schedulers
    for scheduler in schedulers:
        await scheduler.stop()


async def test_a_job_that_raises_is_logged_without_its_message_retried_and_the_rest_runs_on(
    app, started, caplog
):
    calls: list[int] = []
    ticks: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Anna Beispiel wrote: please call 0231 4711")

    async def steady() -> None:
        ticks.append(1)

    jobs = {
        "flaky": RecurringJob("flaky", flaky, daily),
        "steady": RecurringJob("steady", steady, every(0.1)),
    }
    scheduler = Scheduler(settings(app, retry_seconds=0.2), app.sessions, worker="w1", jobs=jobs)
    await scheduler.start()
    started.append(scheduler)
    caplog.set_level(logging.INFO)

    assert not await scheduler.run_now("flaky")
    state = scheduler.states["flaky"]
    assert state.failures == 1 and state.last_error.startswith("RuntimeError at test_scheduler.py:")
    assert await eventually(lambda: len(calls) == 2), "the daily job is retried, not tomorrow"
    assert await eventually(lambda: state.failures == 0 and state.last_success_at is not None)
    before = len(ticks)
    assert await eventually(lambda: len(ticks) >= before + 3), "the scheduler keeps running"
    assert scheduler.running

    assert "scheduler job failed job=flaky error=RuntimeError at test_scheduler.py" in caplog.text
    assert "scheduler job recovered job=flaky" in caplog.text
    assert "Anna" not in caplog.text and "4711" not in caplog.text, "no message texts logged"
    async with app.sessions() as db:
        run = (await scheduler_runs.all_runs(db))["flaky"]
    assert run.failures == 0 and run.last_success_at and run.last_failure_at
    assert run.last_error.startswith("RuntimeError") and run.worker == "w1"


async def test_a_hung_run_is_cancelled_after_the_timeout_and_retried(app, started, caplog):
    release = asyncio.Event()
    runs: list[int] = []
    cancelled: list[int] = []

    async def hangs_once() -> None:
        runs.append(1)
        if len(runs) == 1:
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancelled.append(1)
                raise

    jobs = {"hangs": RecurringJob("hangs", hangs_once, daily)}
    config = settings(app, job_timeout_seconds=0.3, retry_seconds=0.1)
    scheduler = Scheduler(config, app.sessions, jobs=jobs)
    await scheduler.start()
    started.append(scheduler)
    assert not await scheduler.run_now("hangs")
    assert cancelled == [1] and scheduler.states["hangs"].last_error == "Timeout"
    assert await eventually(lambda: scheduler.states["hangs"].last_success_at is not None)
    assert "scheduler job failed job=hangs error=Timeout" in caplog.text


async def test_a_run_missed_while_down_is_made_up_at_start(app, started):
    ran = asyncio.Event()

    async def digest() -> None:
        ran.set()

    async with app.sessions() as db, db.begin():
        two_days_ago = utcnow() - timedelta(days=2)
        await scheduler_runs.record(
            db, "digest", worker="old", started_at=two_days_ago, success_at=two_days_ago
        )
    scheduler = Scheduler(
        app.config, app.sessions, jobs={"digest": RecurringJob("digest", digest, daily)}
    )
    await scheduler.start()
    started.append(scheduler)
    await asyncio.wait_for(ran.wait(), 5)
    assert await eventually(lambda: scheduler.states["digest"].last_success_at > two_days_ago)


async def get_healthz(port: int) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return response.status, await response.json()


@pytest.fixture
async def web() -> AsyncIterator[WebServer]:
    server = WebServer("127.0.0.1", 0)
    await server.start()
    yield server
    await server.stop()
    set_health(None)


async def test_healthz_turns_503_when_a_job_is_overdue_and_ok_again_when_it_ran(
    app, started, web
):
    release = asyncio.Event()

    async def stuck() -> None:
        await release.wait()

    async def fine() -> None:
        pass

    jobs = {
        "stuck": RecurringJob("stuck", stuck, every(0.2)),
        "fine": RecurringJob("fine", fine, every(0.2)),
    }
    scheduler = Scheduler(settings(app, overdue_seconds=0.6), app.sessions, worker="w", jobs=jobs)
    await scheduler.start()
    started.append(scheduler)
    set_health(Health(scheduler, lambda: True, app.sessions, worker="w").check)

    status, body = await get_healthz(web.port)
    assert status == 200 and body["status"] == "ok"
    assert body["scheduler"]["role"] == "leader" and body["scheduler"]["running"] is True
    assert set(body["scheduler"]["jobs"]) == {"stuck", "fine"}

    assert await eventually(lambda: scheduler.states["stuck"].running_since is not None)
    assert await eventually(lambda: scheduler.is_overdue(scheduler.states["stuck"], utcnow()))
    status, body = await get_healthz(web.port)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["problems"] == ["job stuck overdue"]
    stuck_job = body["scheduler"]["jobs"]["stuck"]
    assert stuck_job["overdue"] and stuck_job["running"] and stuck_job["last_success"] is None
    assert body["scheduler"]["jobs"]["fine"]["last_success"] is not None
    assert not body["scheduler"]["jobs"]["fine"]["overdue"]

    release.set()
    assert await eventually(lambda: scheduler.states["stuck"].last_success_at is not None)
    status, body = await get_healthz(web.port)
    assert status == 200, body


async def test_healthz_is_503_when_the_leaders_scheduler_is_not_running(app, web):
    scheduler = Scheduler(app.config, app.sessions, jobs={})
    set_health(Health(scheduler, lambda: True, app.sessions, worker="w").check)
    status, body = await get_healthz(web.port)
    assert status == 503 and body["problems"] == ["scheduler not running"]


async def test_a_follower_reports_the_leaders_recorded_runs_and_stays_healthy(app, web):
    async with app.sessions() as db, db.begin():
        now = utcnow()
        await scheduler_runs.record(
            db, "release_reminders", worker="leader-1", started_at=now, success_at=now
        )
    follower = Scheduler(app.config, app.sessions)  # never started: followers run no jobs
    set_health(Health(follower, lambda: False, app.sessions, worker="w2").check)
    status, body = await get_healthz(web.port)
    assert status == 200 and body["scheduler"]["role"] == "follower"
    job = body["scheduler"]["jobs"]["release_reminders"]
    assert job["worker"] == "leader-1" and job["last_success"] is not None
