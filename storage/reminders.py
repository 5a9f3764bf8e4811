"""Reminders: rows with a due time (not scheduler jobs), turned into outbox rows when due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow
from storage.privacy import exporter

PENDING, QUEUED, DROPPED, CANCELLED = "pending", "queued", "dropped", "cancelled"


class Reminder(Base):
    """A message to send to a user at a time, unless it has become useless by then."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(100), index=True)
    message_key: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


async def add(
    db: AsyncSession,
    user_id: int,
    due_at: datetime,
    *,
    kind: str,
    message_key: str,
    params: dict[str, Any] | None = None,
    valid_until: datetime | None = None,
    ref: str | None = None,
) -> Reminder:
    """Store a reminder."""
    reminder = Reminder(
        user_id=user_id,
        due_at=due_at,
        valid_until=valid_until,
        kind=kind,
        ref=ref,
        message_key=message_key,
        params=params or {},
    )
    db.add(reminder)
    await db.flush()
    return reminder


async def cancel(db: AsyncSession, ref: str, user_id: int | None = None) -> int:
    """Cancel the pending reminders about something (for one user, or for everyone)."""
    stmt = update(Reminder).where(Reminder.ref == ref, Reminder.status == PENDING)
    if user_id is not None:
        stmt = stmt.where(Reminder.user_id == user_id)
    result = await db.execute(stmt.values(status=CANCELLED))
    return result.rowcount or 0


async def claim_due(db: AsyncSession, now: datetime, limit: int = 500) -> list[Reminder]:
    """Pending reminders that are due, locked so that no other process takes them too."""
    stmt = (
        select(Reminder)
        .where(Reminder.status == PENDING, Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await db.scalars(stmt))


async def pending_of(db: AsyncSession, user_id: int) -> list[Reminder]:
    """A user's pending reminders, soonest first."""
    stmt = (
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.status == PENDING)
        .order_by(Reminder.due_at)
    )
    return list(await db.scalars(stmt))


@exporter("reminders")
async def export_reminders(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The user's pending reminders."""
    return [
        {"due_at": r.due_at.isoformat(), "kind": r.kind, "ref": r.ref}
        for r in await pending_of(db, user_id)
    ]
