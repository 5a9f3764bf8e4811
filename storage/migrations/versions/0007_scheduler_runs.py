"""Scheduler: drop APScheduler's unused SQL job store table, record each job's runs instead.

The scheduler now keeps its jobs in memory (they are registered again at every start) and
writes each job's last runs to scheduler_runs through the async sessions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    op.create_table(
        "scheduler_runs",
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("last_started_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_scheduler_runs")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("scheduler_runs")
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False
        )
