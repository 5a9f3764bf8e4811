"""The last runs of each recurring job, written by the leader, read by /healthz and on start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime


class SchedulerRun(Base):
    """One recurring job's latest run, success and failure (error class name only, no data)."""

    __tablename__ = "scheduler_runs"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64))


async def all_runs(db: AsyncSession) -> dict[str, SchedulerRun]:
    """Every recorded job by id."""
    return {run.job_id: run for run in await db.scalars(select(SchedulerRun))}


async def record(
    db: AsyncSession,
    job_id: str,
    *,
    worker: str,
    started_at: datetime,
    success_at: datetime | None = None,
    failure_at: datetime | None = None,
    error: str | None = None,
    failures: int = 0,
) -> None:
    """Store the outcome of a run (success_at or failure_at set) of job_id."""
    run = await db.get(SchedulerRun, job_id)
    if run is None:
        run = SchedulerRun(job_id=job_id)
        db.add(run)
    run.worker = worker
    run.last_started_at = started_at
    run.failures = failures
    if success_at is not None:
        run.last_success_at = success_at
    if failure_at is not None:
        run.last_failure_at = failure_at
        run.last_error = (error or "")[:200]
