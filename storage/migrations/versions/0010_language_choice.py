"""Language choice: where a user's language came from, the other-language streak, the offer.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# users from before: Telegram ones got their language from the platform's locale; the
# others (Matrix, console) had the default, now settled ("detected": an offer may come)
_EXISTING = """
UPDATE users SET language_source = CASE
    WHEN EXISTS (SELECT 1 FROM identities
                 WHERE identities.user_id = users.id AND identities.platform = 'telegram')
    THEN 'platform' ELSE 'detected' END
"""


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_source", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("language_streak", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("language_offer", sa.String(length=2), nullable=True))
    op.execute(_EXISTING)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language_offer")
        batch_op.drop_column("language_streak")
        batch_op.drop_column("language_source")
