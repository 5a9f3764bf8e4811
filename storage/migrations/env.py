"""Alembic environment: runs migrations on the connection citybot hands over."""

from __future__ import annotations

from alembic import context

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: object) -> None:
    """Run the migrations on a synchronous connection (batch mode for SQLite)."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `citybot db upgrade` (storage.migrate)")
run_migrations(connection)
