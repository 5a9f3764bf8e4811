"""Parent evenings: schools, sessions, registrations and waiting lists.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("key", name=op.f("uq_schools_key")),
    )
    op.create_table(
        "evening_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("starts_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("room_url", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "capacity > 0", name=op.f("ck_evening_sessions_capacity_positive")
        ),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= capacity",
            name=op.f("ck_evening_sessions_taken_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_evening_sessions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_evening_sessions_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evening_sessions")),
    )
    with op.batch_alter_table("evening_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evening_sessions_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evening_sessions_starts_at"), ["starts_at"], unique=False
        )
    op.create_table(
        "evening_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["evening_sessions.id"],
            name=op.f("fk_evening_registrations_session_id_evening_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_evening_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evening_registrations")),
        sa.UniqueConstraint(
            "session_id", "user_id", name=op.f("uq_evening_registrations_session_id")
        ),
    )
    with op.batch_alter_table("evening_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evening_registrations_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evening_registrations_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("evening_registrations")
    op.drop_table("evening_sessions")
    op.drop_table("schools")
