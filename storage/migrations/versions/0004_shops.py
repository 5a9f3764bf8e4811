"""Shops: the shop card behind shop updates and vouchers.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "shops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("delivers", sa.Boolean(), nullable=False),
        sa.Column("pickup", sa.Boolean(), nullable=False),
        sa.Column("notice", sa.String(length=300), nullable=True),
        sa.Column("sells_vouchers", sa.Boolean(), nullable=False),
        sa.Column("voucher_amounts", sa.JSON(), nullable=False),
        sa.Column("voucher_min_cents", sa.Integer(), nullable=False),
        sa.Column("voucher_max_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("key", name=op.f("uq_shops_key")),
        sa.UniqueConstraint("name", name=op.f("uq_shops_name")),
    )
    with op.batch_alter_table("shops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shops_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_shops_district"), ["district"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("shops")
