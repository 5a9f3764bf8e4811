"""What `/healthz` answers: this process's role and the scheduler's jobs; 503 when one is late."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.scheduler import Scheduler, describe
from storage import scheduler_runs

logger = logging.getLogger(__name__)
FOLLOWER_READ_TIMEOUT = 2.0  # seconds a follower waits for the leader's recorded runs


class Health:
    """The health of one `citybot run` process."""

    def __init__(
        self,
        scheduler: Scheduler,
        is_leader: Callable[[], bool],
        sessions: async_sessionmaker[AsyncSession],
        *,
        worker: str,
        enabled: bool = True,
    ) -> None:
        self.scheduler = scheduler
        self.is_leader = is_leader
        self.sessions = sessions
        self.worker = worker
        self.enabled = enabled

    async def check(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and body: 200 ok, 503 unhealthy (with the reasons)."""
        problems: list[str] = []
        report: dict[str, Any] = {"enabled": self.enabled}
        if self.is_leader():
            report["role"] = "leader"
            if self.enabled:
                report["running"] = self.scheduler.running
                report["jobs"] = jobs = self.scheduler.status()
                if not self.scheduler.running:
                    problems.append("scheduler not running")
                problems += [f"job {job_id} overdue" for job_id, job in jobs.items()
                             if job["overdue"]]
        else:
            report["role"] = "follower"
            report["jobs"] = await self._recorded()
        body = {
            "status": "unhealthy" if problems else "ok",
            "worker": self.worker,
            "scheduler": report,
        }
        if problems:
            body["problems"] = problems
        return (503 if problems else 200), body

    async def _recorded(self) -> dict[str, Any] | None:
        """The leader's recorded runs (a follower runs no jobs itself)."""
        try:
            async with asyncio.timeout(FOLLOWER_READ_TIMEOUT), self.sessions() as db:
                runs = await scheduler_runs.all_runs(db)
        except Exception as error:
            logger.warning("scheduler runs not read: %s", describe(error))
            return None
        return {
            job_id: {
                "last_success": run.last_success_at.isoformat(timespec="seconds")
                if run.last_success_at else None,
                "last_failure": run.last_failure_at.isoformat(timespec="seconds")
                if run.last_failure_at else None,
                "failures": run.failures,
                "worker": run.worker,
            }
            for job_id, run in sorted(runs.items())
        }
