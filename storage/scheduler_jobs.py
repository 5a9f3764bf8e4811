"""The table of APScheduler's SQLAlchemy job store, created by our migrations like every other."""

from __future__ import annotations

from sqlalchemy import Float, LargeBinary, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

TABLE = "apscheduler_jobs"


class SchedulerJob(Base):
    """A persisted recurring job (schema as APScheduler 3's SQLAlchemyJobStore defines it)."""

    __tablename__ = TABLE

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
