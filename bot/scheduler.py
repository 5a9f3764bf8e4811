"""Recurring work with APScheduler (AsyncIOScheduler, jobs in memory, runs recorded in our DB).

Services register recurring jobs with ``@recurring(job_id, trigger_factory)`` at import time;
the leader process runs them. Job functions are module-level coroutines that reach the
running app through ``runtime()``. Reminders are rows (storage/reminders.py), not jobs.

Nothing here touches the database synchronously: APScheduler keeps the jobs in a
MemoryJobStore (they are registered again at every start), and each run's outcome is
written to ``scheduler_runs`` through the async sessions. A run that raises or exceeds
``scheduler.job_timeout_seconds`` is logged (error class and place, never its message) and
retried with backoff; it never stops the scheduler. A run missed while no process was
leader is made up at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Config
from bot.web import METRICS
from storage import scheduler_runs
from storage.base import utcnow

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger(__name__)
# every run is logged here when it fails; APScheduler's line per successful run is noise
logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
TriggerFactory = Callable[[Config], BaseTrigger]
JobFunction = Callable[[], Awaitable[Any]]
RECORD_TIMEOUT = 5.0  # seconds a run's record may take before it is skipped
PERSIST_SUCCESS_EVERY = timedelta(seconds=60)  # frequent jobs: at most one success row a minute


@dataclass(frozen=True)
class RecurringJob:
    """A registered recurring job: its id, coroutine function and trigger."""

    job_id: str
    func: JobFunction
    trigger: TriggerFactory


RECURRING: dict[str, RecurringJob] = {}
_app: App | None = None


def recurring(job_id: str, trigger: TriggerFactory) -> Callable[[JobFunction], JobFunction]:
    """Register a module-level coroutine function as a recurring job."""

    def register(func: JobFunction) -> JobFunction:
        RECURRING[job_id] = RecurringJob(job_id, func, trigger)
        return func

    return register


def bind(app: App | None) -> None:
    """Make the running app available to job functions."""
    global _app
    _app = app


def runtime() -> App:
    """The running app (job functions call this)."""
    if _app is None:
        raise RuntimeError("scheduler jobs run only inside `citybot run` (bot.scheduler.bind)")
    return _app


@dataclass
class JobState:
    """What this process knows about one job's runs."""

    job: RecurringJob
    trigger: BaseTrigger
    last_started_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    running_since: datetime | None = None
    persisted_success_at: datetime | None = None


def describe(error: BaseException) -> str:
    """An error for the log: its class and where it was raised – never its message (data)."""
    frames = traceback.extract_tb(error.__traceback__)
    frames = [f for f in frames if "site-packages" not in f.filename] or frames  # our code
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{where}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


class Scheduler:
    """Runs every registered recurring job on this process's event loop (leader only)."""

    def __init__(
        self,
        config: Config,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        *,
        worker: str = "",
        jobs: dict[str, RecurringJob] | None = None,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.worker = worker
        self.jobs = RECURRING if jobs is None else jobs
        self.scheduler: AsyncIOScheduler | None = None
        self.states: dict[str, JobState] = {}
        self.started_at: datetime | None = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._live: set[asyncio.Task[Any]] = set()  # runs and timed-out jobs, cancelled on stop

    @property
    def running(self) -> bool:
        """Whether the scheduler is started and its timer alive."""
        return self.scheduler is not None and self.scheduler.running

    async def start(self) -> None:
        """Start running the recurring jobs (leader only); make up runs missed while down."""
        if self.scheduler is not None:
            return
        now = utcnow()
        recorded = await self._recorded_runs()
        settings = self.config.scheduler
        scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            timezone=self.config.city.tz,
            # a late run still runs (once); overlapping runs are refused in _run
            job_defaults={"coalesce": True, "max_instances": 3, "misfire_grace_time": None},
        )
        self.states = {}
        for job in self.jobs.values():
            trigger = job.trigger(self.config)
            state = JobState(job, trigger)
            run = recorded.get(job.job_id)
            if run is not None:
                state.last_success_at = state.persisted_success_at = run.last_success_at
                state.last_failure_at, state.last_error = run.last_failure_at, run.last_error
            self.states[job.job_id] = state
            first = None
            if state.last_success_at is not None:
                missed = trigger.get_next_fire_time(None, state.last_success_at)
                if missed is not None and missed <= now:
                    first = now  # a run fell due while no process was leader
                    logger.info("scheduler job missed job=%s running it now", job.job_id)
            scheduler.add_job(
                self._run, trigger=trigger, args=[job.job_id], id=job.job_id,
                **({"next_run_time": first} if first else {}),
            )
        scheduler.start()
        self.scheduler = scheduler
        self.started_at = now
        logger.info(
            "scheduler started jobs=%s timeout=%ss overdue_after=%ss",
            sorted(self.jobs), settings.job_timeout_seconds, settings.overdue_seconds,
        )

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop running recurring jobs (lost leadership or shutting down); cancels running ones.

        Waits at most timeout seconds for cancelled runs to end (one stuck on a database
        lock may not): the process's shutdown deadline is kept either way.
        """
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            logger.info("scheduler stopped")
        tasks = [task for task in (*self._tasks.values(), *self._live) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            if pending:
                logger.warning("scheduler jobs still ending after stop count=%d", len(pending))

    async def run_now(self, job_id: str) -> bool:
        """Run one job at once as the scheduler would (tests, CLI); True when it succeeded."""
        await self._run_once(job_id)
        state = self.states[job_id]
        return state.failures == 0 and state.last_success_at is not None

    async def _recorded_runs(self) -> dict[str, scheduler_runs.SchedulerRun]:
        if self.sessions is None:
            return {}
        try:
            async with asyncio.timeout(RECORD_TIMEOUT), self.sessions() as db:
                return await scheduler_runs.all_runs(db)
        except Exception as error:
            logger.warning("scheduler runs not read: %s", describe(error))
            return {}

    async def _run(self, job_id: str) -> None:
        """What APScheduler calls: one run, ended quietly when the scheduler stops.

        APScheduler would log a traceback (which may carry data) for anything raised here.
        """
        wrapper = asyncio.current_task()
        if wrapper is not None:
            self._live.add(wrapper)
        try:
            await self._run_once(job_id)
        except asyncio.CancelledError:
            logger.info("scheduler job cancelled job=%s (scheduler stopped)", job_id)
        finally:
            if wrapper is not None:
                self._live.discard(wrapper)

    async def _run_once(self, job_id: str) -> None:
        """One run of a job: time-limited, recorded; a failure is logged and retried."""
        state = self.states[job_id]
        if state.running_since is not None:
            logger.debug("scheduler job still running job=%s skipping this run", job_id)
            return
        started = state.running_since = state.last_started_at = utcnow()
        task = asyncio.create_task(state.job.func(), name=f"job-{job_id}")
        self._tasks[job_id] = task
        error: str | None = None
        try:
            done, _ = await asyncio.wait({task}, timeout=self.config.scheduler.job_timeout_seconds)
            if not done:
                task.cancel()  # it may take a while to end (a database lock): kept referenced
                self._live.add(task)
                task.add_done_callback(self._live.discard)
                error = "Timeout"
            elif task.cancelled():
                error = "Cancelled"
            elif task.exception() is not None:
                error = describe(task.exception())  # type: ignore[arg-type]
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            state.running_since = None
        if error == "Cancelled" and self.scheduler is None:
            logger.info("scheduler job cancelled job=%s (scheduler stopped)", job_id)
        elif error is None:
            await self._succeeded(state, started)
        else:
            await self._failed(state, started, error)

    async def _succeeded(self, state: JobState, started: datetime) -> None:
        now = utcnow()
        had_failed = state.failures > 0
        state.last_success_at, state.failures = now, 0
        METRICS.inc("citybot_scheduler_runs_total", "Recurring job runs", job=state.job.job_id,
                    result="ok")
        if had_failed:
            logger.info("scheduler job recovered job=%s", state.job.job_id)
            self._remove(f"{state.job.job_id}.retry")
        last = state.persisted_success_at
        due = had_failed or last is None or now - last >= PERSIST_SUCCESS_EVERY
        if due and await self._record(state, started, success_at=now):
            state.persisted_success_at = now

    async def _failed(self, state: JobState, started: datetime, error: str) -> None:
        now = utcnow()
        state.failures += 1
        state.last_failure_at, state.last_error = now, error
        settings = self.config.scheduler
        delay = min(settings.retry_seconds * 2 ** (state.failures - 1), settings.retry_max_seconds)
        METRICS.inc("citybot_scheduler_runs_total", "Recurring job runs", job=state.job.job_id,
                    result="error")
        logger.warning(
            "scheduler job failed job=%s error=%s failures=%d retry_in=%.0fs",
            state.job.job_id, error, state.failures, delay,
        )
        if self.scheduler is not None:
            self.scheduler.add_job(
                self._run, trigger="date", run_date=now + timedelta(seconds=delay),
                args=[state.job.job_id], id=f"{state.job.job_id}.retry", replace_existing=True,
            )
        await self._record(state, started, failure_at=now, error=error)

    def _remove(self, apscheduler_id: str) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(apscheduler_id)

    async def _record(self, state: JobState, started: datetime, **outcome: Any) -> bool:
        """Write the run's outcome; a database that does not answer in time only costs the row."""
        if self.sessions is None:
            return False
        try:
            async with asyncio.timeout(RECORD_TIMEOUT), self.sessions() as db, db.begin():
                await scheduler_runs.record(
                    db, state.job.job_id, worker=self.worker, started_at=started,
                    failures=state.failures, **outcome,
                )
        except Exception as error:
            logger.warning(
                "scheduler run not recorded job=%s error=%s", state.job.job_id, describe(error)
            )
            return False
        return True

    def next_due(self, state: JobState) -> datetime | None:
        """When the job should next have succeeded: the first fire time after its last success."""
        since = state.last_success_at or self.started_at
        if since is None or self.started_at is None:
            return None
        due = state.trigger.get_next_fire_time(None, since)
        return max(due, self.started_at) if due is not None else None

    def is_overdue(self, state: JobState, now: datetime) -> bool:
        """Due longer than scheduler.overdue_seconds ago and not done (or running that long)."""
        due = self.next_due(state)
        if due is None:
            return False
        since = max(due, state.running_since) if state.running_since else due
        return (now - since).total_seconds() > self.config.scheduler.overdue_seconds

    def status(self, now: datetime | None = None) -> dict[str, dict[str, Any]]:
        """Each job's runs as /healthz shows them."""
        now = now or utcnow()
        return {
            job_id: {
                "last_success": _iso(state.last_success_at),
                "last_failure": _iso(state.last_failure_at),
                "last_error": state.last_error,
                "failures": state.failures,
                "running": state.running_since is not None,
                "next_due": _iso(self.next_due(state)),
                "overdue": self.is_overdue(state, now),
            }
            for job_id, state in sorted(self.states.items())
        }
