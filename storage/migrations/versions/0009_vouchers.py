"""Vouchers: vouchers and donations, their value ledger, wrong-code attempts.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=True),
        sa.Column("face_cents", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("payment", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reserved_until", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_vouchers_buyer_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_vouchers_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code", name=op.f("uq_vouchers_code")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vouchers_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_state"), ["state"], unique=False)
    op.create_table(
        "voucher_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_voucher_ledger_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_voucher_ledger_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_ledger_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_ledger")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_voucher_ledger_charge_id")),
    )
    with op.batch_alter_table("voucher_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_ledger_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_voucher_ledger_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_voucher_ledger_voucher_id"), ["voucher_id"], unique=False
        )
    op.create_table(
        "voucher_wrong_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_voucher_wrong_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_wrong_codes")),
    )
    with op.batch_alter_table("voucher_wrong_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voucher_wrong_codes_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("voucher_wrong_codes")
    op.drop_table("voucher_ledger")
    op.drop_table("vouchers")
