"""Private answers and retention: identities.private_chat_id; no ids or sent texts kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:50:00.000000

Existing identities whose private chat is known (a conversation state in the chat named
like the user, as on Telegram and the console) get it recorded; the others record it when
the user next writes privately. Processed-event ids are stored as keyed hashes from now on,
so the raw ids of before are deleted; sent outbox rows lose their text and recipient.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_chat_id", sa.String(length=255), nullable=True))
    op.execute(
        "UPDATE identities SET private_chat_id = external_id WHERE EXISTS ("
        " SELECT 1 FROM conversation_states s WHERE s.platform = identities.platform"
        " AND s.chat_id = identities.external_id AND s.user_id = identities.user_id)"
    )
    op.execute("DELETE FROM processed_events")
    op.execute("UPDATE outbox SET payload = '[]', recipient = '' WHERE status = 'sent'")


def downgrade() -> None:
    """Revert this migration (hashed event ids and dropped texts stay as they are)."""
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_column("private_chat_id")
