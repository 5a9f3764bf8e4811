"""Recurring work with APScheduler (AsyncIOScheduler, SQLAlchemy job store in our database).

Services register recurring jobs with ``@recurring(job_id, trigger_factory)`` at import time;
the leader process runs them. Job functions are module-level coroutines that reach the
running app through ``runtime()``. Reminders are rows (storage/reminders.py), not jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.engine import make_url

from bot.config import Config
from storage.scheduler_jobs import TABLE

if TYPE_CHECKING:
    from bot.app import App

logger = logging.getLogger(__name__)
TriggerFactory = Callable[[Config], BaseTrigger]
JobFunction = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class RecurringJob:
    """A registered recurring job: its id, function reference and trigger."""

    job_id: str
    func_ref: str
    trigger: TriggerFactory


RECURRING: dict[str, RecurringJob] = {}
_app: App | None = None


def recurring(job_id: str, trigger: TriggerFactory) -> Callable[[JobFunction], JobFunction]:
    """Register a module-level coroutine function as a recurring job."""

    def register(func: JobFunction) -> JobFunction:
        RECURRING[job_id] = RecurringJob(job_id, f"{func.__module__}:{func.__qualname__}", trigger)
        return func

    return register


def bind(app: App) -> None:
    """Make the running app available to job functions."""
    global _app
    _app = app


def runtime() -> App:
    """The running app (job functions call this)."""
    if _app is None:
        raise RuntimeError("scheduler jobs run only inside `citybot run` (bot.scheduler.bind)")
    return _app


def sync_url(async_url: str) -> str:
    """The job store's (synchronous) URL for citybot's async database URL."""
    url = make_url(async_url)
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}[url.get_backend_name()]
    return url.set(drivername=driver).render_as_string(hide_password=False)


class Scheduler:
    """Starts and stops APScheduler with every registered recurring job."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start running the recurring jobs (leader only)."""
        if self.scheduler is not None:
            return
        store = SQLAlchemyJobStore(url=sync_url(self.config.database_url), tablename=TABLE)
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            timezone=self.config.city.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        for job in RECURRING.values():
            scheduler.add_job(
                job.func_ref, trigger=job.trigger(self.config), id=job.job_id, replace_existing=True
            )
        scheduler.start()
        self.scheduler = scheduler
        logger.info("scheduler started jobs=%s", sorted(RECURRING))

    def stop(self) -> None:
        """Stop running recurring jobs (lost leadership or shutting down)."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            logger.info("scheduler stopped")
