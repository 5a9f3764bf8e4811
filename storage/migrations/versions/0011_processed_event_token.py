"""Processed events: the token of the transaction that recorded the event.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_column("token")
