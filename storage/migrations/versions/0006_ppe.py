"""PPE: departments, items (ledger anchors, one row per catalogue item), requests, lines,
stock movements.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ITEM_KEYS = (
    "ffp2_mask",
    "surgical_mask",
    "gloves",
    "gown",
    "face_shield",
    "goggles",
    "disinfectant",
)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "ppe_departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("delivery_address", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ppe_departments")),
        sa.UniqueConstraint("key", name=op.f("uq_ppe_departments_key")),
    )
    items = op.create_table(
        "ppe_items",
        sa.Column("key", sa.String(length=30), nullable=False),
        sa.Column("low_notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ppe_items")),
    )
    op.bulk_insert(items, [{"key": key, "low_notified": False} for key in ITEM_KEYS])
    op.create_table(
        "ppe_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("delivery_address", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["ppe_departments.id"],
            name=op.f("fk_ppe_requests_department_id_ppe_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_ppe_requests_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ppe_requests")),
        sa.UniqueConstraint("number", name=op.f("uq_ppe_requests_number")),
    )
    with op.batch_alter_table("ppe_requests", schema=None) as batch_op:
        for column in ("department_id", "requested_by", "status", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_ppe_requests_{column}"), [column], unique=False)
    op.create_table(
        "ppe_request_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=30), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item"], ["ppe_items.key"], name=op.f("fk_ppe_request_lines_item_ppe_items")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["ppe_requests.id"],
            name=op.f("fk_ppe_request_lines_request_id_ppe_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ppe_request_lines")),
    )
    with op.batch_alter_table("ppe_request_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ppe_request_lines_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "ppe_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=30), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ppe_movements_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item"], ["ppe_items.key"], name=op.f("fk_ppe_movements_item_ppe_items")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["ppe_requests.id"],
            name=op.f("fk_ppe_movements_request_id_ppe_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ppe_movements")),
    )
    with op.batch_alter_table("ppe_movements", schema=None) as batch_op:
        for column in ("item", "request_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_ppe_movements_{column}"), [column], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("ppe_movements")
    op.drop_table("ppe_request_lines")
    op.drop_table("ppe_requests")
    op.drop_table("ppe_items")
    op.drop_table("ppe_departments")
