"""The outbox: every message not sent as a direct answer, one row per (message, recipient).

Rows are written in the transaction of the change that causes them; per-transport senders
claim due rows, send them and mark them sent, so nothing is lost across a crash and nothing
acknowledged by a platform is sent twice.

Privacy: a sent row keeps only what statistics need (platform, status, times, attempts); its
text and recipient are dropped when it is marked sent. Sent and failed rows are deleted after
`retention.outbox_days` (see purge). A held row is a personal answer asked for in a group,
waiting until the user opens the private chat (bot/privately.py); it expires after a day.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.messages import Attachment, Button, Invoice, Reply, Venue
from storage.base import Base, UTCDateTime, dialect_of, insert_new_into, utcnow
from storage.compiled_writes import execute_write
from storage.sqlite_connection import WITH_NEXT_TRIP
from storage.users import Identity

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
HOLD_FOR = timedelta(hours=24)
CHUNK = 2000
DIRECT, NOTIFICATION, BROADCAST = 0, 10, 20


class OutboxMessage(Base):
    """One outgoing message to one recipient on one platform."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "platform", "status", "priority", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=NOTIFICATION)
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(200))


def serialise(replies: list[Reply]) -> list[dict[str, Any]]:
    """Replies as JSON for the outbox."""
    rows = []
    for reply in replies:
        row: dict[str, Any] = {
            "text": reply.text,
            "buttons": [[b.label, b.payload] for b in reply.buttons],
        }
        for kind in ("image", "file"):
            attachment: Attachment | None = getattr(reply, kind)
            if attachment is not None:
                row[kind] = {
                    "filename": attachment.filename,
                    "mime_type": attachment.mime_type,
                    "content": base64.b64encode(attachment.content).decode(),
                }
        if reply.invoice is not None:
            row["invoice"] = asdict(reply.invoice)
        if reply.venue is not None:
            row["venue"] = asdict(reply.venue)
        rows.append(row)
    return rows


def deserialise(payload: list[dict[str, Any]]) -> list[Reply]:
    """The replies stored in an outbox row."""
    replies = []
    for row in payload:
        attachments = {
            kind: Attachment(
                row[kind]["filename"],
                base64.b64decode(row[kind]["content"]),
                row[kind]["mime_type"],
            )
            for kind in ("image", "file")
            if kind in row
        }
        replies.append(
            Reply(
                row.get("text", ""),
                [Button(label, data) for label, data in row["buttons"]],
                invoice=Invoice(**row["invoice"]) if "invoice" in row else None,
                venue=Venue(**row["venue"]) if "venue" in row else None,
                **attachments,
            )
        )
    return replies


async def preferred_identity(db: AsyncSession, user_id: int) -> Identity | None:
    """Where to reach a user: the reachable identity they used most recently."""
    return await db.scalar(
        select(Identity)
        .where(Identity.user_id == user_id, Identity.reachable.is_(True))
        .order_by(Identity.last_seen_at.desc(), Identity.id.desc())
        .limit(1)
    )


async def reachable_identities(db: AsyncSession, user_ids: list[int]) -> dict[int, Identity]:
    """For many users at once: the reachable identity each used most recently."""
    found: dict[int, Identity] = {}
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        rows = await db.scalars(
            select(Identity)
            .where(Identity.user_id.in_(chunk), Identity.reachable.is_(True))
            .order_by(Identity.last_seen_at, Identity.id)
        )
        found.update({identity.user_id: identity for identity in rows})
    return found


async def existing_keys(db: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these dedup keys the outbox already has."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            await db.scalars(
                select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(chunk))
            )
        )
    return found


async def enqueue_many(db: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Insert many prepared rows (platform, recipient, user_id, payload, priority, dedup_key)."""
    now = utcnow()
    values = [
        {
            "status": PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
            "give_up_at": now + timedelta(hours=24),
            **row,
        }
        for row in rows
    ]
    for start in range(0, len(values), CHUNK):
        await db.execute(insert(OutboxMessage), values[start : start + CHUNK])
    return len(values)


async def enqueue(
    db: AsyncSession,
    *,
    platform: str,
    recipient: str,
    replies: list[Reply],
    user_id: int | None = None,
    priority: int = NOTIFICATION,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
    give_up_after: timedelta = timedelta(hours=24),
) -> OutboxMessage | None:
    """Add one message for one recipient; None if a row with this dedup key exists already."""
    if dedup_key is not None:
        exists = await db.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if exists is not None:
            return None
    now = utcnow()
    message = OutboxMessage(
        platform=platform,
        recipient=recipient,
        user_id=user_id,
        payload=serialise(replies),
        priority=priority,
        dedup_key=dedup_key,
        not_before=not_before or now,
        give_up_at=(not_before or now) + give_up_after,
    )
    try:
        async with db.begin_nested():
            db.add(message)
            await db.flush()
    except IntegrityError:
        return None
    return message


async def journal_direct(
    db: AsyncSession,
    *,
    platform: str,
    recipient: str,
    replies: list[Reply],
    user_id: int | None,
    dedup_key: str,
    claimed_until: datetime,
) -> None:
    """Journal a direct answer as claimed by the direct path (nothing if the key exists).

    One INSERT … ON CONFLICT DO NOTHING: the row is born 'sending', claimed by "direct" until
    claimed_until (then, unacknowledged, the outbox sender takes it over). Nothing reads its
    outcome – the answer is acknowledged by its dedup_key (mark_sent_many) – so on SQLite it
    rides along with the transaction's next trip, usually the commit.
    """
    now = utcnow()
    values = {
        "platform": platform,
        "recipient": recipient,
        "user_id": user_id,
        "payload": serialise(replies),
        "priority": DIRECT,
        "dedup_key": dedup_key,
        "status": SENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
        "claimed_by": "direct",
        "claimed_at": claimed_until,
        "give_up_at": now + timedelta(hours=24),
    }
    await execute_write(db, _journal_statement(dialect_of(db)), values)


@cache
def _journal_statement(dialect: str) -> Any:
    """journal_direct's INSERT, built once per dialect; its values bound when it runs."""
    return insert_new_into(dialect, OutboxMessage.__table__).prefix_with(WITH_NEXT_TRIP)


async def claim(
    db: AsyncSession,
    platform: str,
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    give_up: timedelta | None = None,
    recipient: str | None = None,
) -> list[OutboxMessage]:
    """Take up to limit due rows for this worker (skipping rows other workers hold); only
    those of one recipient when given (the terminal chat's user).

    Due are pending rows whose time has come, and rows another worker claimed longer ago
    than the lease (it died between claiming and sending). On a row's first attempt its
    give-up time is capped at now + give_up (the sender's configured limit; an earlier one
    set by whoever queued the row stays). The caller commits.
    """
    now = utcnow()
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            or_(
                and_(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now),
                and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - lease),
            ),
        )
        .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if recipient is not None:
        stmt = stmt.where(OutboxMessage.recipient == recipient)
    rows = in_chat_order(list(await db.scalars(stmt)))
    for row in rows:
        if give_up is not None and row.attempts == 0:
            row.give_up_at = min(row.give_up_at, now + give_up)
        row.status = SENDING
        row.claimed_by = worker
        row.claimed_at = now
        row.attempts += 1
    await db.flush()
    return rows


def in_chat_order(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """The rows with each recipient's own in the order they were queued: across chats the
    priority order stays (a reminder before a running broadcast), but within one chat a
    staff message queued before a cancellation notice is not overtaken by it."""
    queued: dict[str, list[OutboxMessage]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        queued.setdefault(row.recipient, []).append(row)
    taken = {name: iter(chat) for name, chat in queued.items()}
    return [next(taken[row.recipient]) for row in rows]


async def release_claims(db: AsyncSession, platform: str, worker: str | None = None) -> int:
    """Put rows in 'sending' back to pending (all of the platform's, or one worker's)."""
    stmt = update(OutboxMessage).where(
        OutboxMessage.platform == platform, OutboxMessage.status == SENDING
    )
    if worker is not None:
        stmt = stmt.where(OutboxMessage.claimed_by == worker)
    result = await db.execute(stmt.values(status=PENDING, claimed_by=None, claimed_at=None))
    return result.rowcount or 0


async def mark_sent(db: AsyncSession, message_id: int) -> None:
    """The platform acknowledged the message: its text and recipient are dropped."""
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=SENT, sent_at=utcnow(), error=None, payload=[], recipient="")
    )


async def mark_sent_many(db: AsyncSession, dedup_keys: list[str]) -> None:
    """The platform acknowledged the messages of these dedup keys: one Core UPDATE per CHUNK.

    As mark_sent, their text and recipient are dropped. One key (the usual ack of a turn
    answered alone) takes `dedup_key = :key`, which skips expanding the IN list per run.
    """
    now = utcnow()
    if len(dedup_keys) == 1:
        await execute_write(db, _sent_statement(expanding=False),
                            {"key": dedup_keys[0], "now": now})
        return
    for start in range(0, len(dedup_keys), CHUNK):
        await db.execute(_sent_statement(expanding=True),
                         {"keys": dedup_keys[start : start + CHUNK], "now": now})


@cache
def _sent_statement(*, expanding: bool) -> Any:
    """mark_sent_many's UPDATE, built once: for a list of keys (expanding) or one key; the
    keys and time bound when it runs.

    Nothing reads its outcome: on SQLite it rides along with the transaction's next trip
    (usually the commit, storage/sqlite_connection.py)."""
    table = OutboxMessage.__table__
    key = table.c.dedup_key
    which = key.in_(bindparam("keys", expanding=True)) if expanding else key == bindparam("key")
    return (
        update(table)
        .prefix_with(WITH_NEXT_TRIP)
        .where(which)
        .values(status=SENT, sent_at=bindparam("now"), error=None, payload=[], recipient="")
    )


async def mark_retry(db: AsyncSession, message: OutboxMessage, delay: float, error: str) -> bool:
    """A temporary failure: try again after delay, or fail if past give-up; True if retried."""
    when = utcnow() + timedelta(seconds=delay)
    if when > message.give_up_at:
        await mark_failed(db, message.id, f"gave up: {error}"[:200])
        return False
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(status=PENDING, not_before=when, error=error[:200], claimed_by=None)
    )
    return True


async def mark_failed(db: AsyncSession, message_id: int, reason: str) -> None:
    """A permanent failure."""
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=FAILED, error=reason[:200], claimed_by=None)
    )


async def mark_unreachable(db: AsyncSession, platform: str, recipient: str) -> None:
    """The recipient blocked the bot or is gone: stop sending there until they write again."""
    await db.execute(
        update(Identity)
        .where(
            Identity.platform == platform,
            or_(Identity.external_id == recipient, Identity.private_chat_id == recipient),
        )
        .values(reachable=False)
    )
    await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.recipient == recipient,
            OutboxMessage.status == PENDING,
        )
        .values(status=FAILED, error="recipient unreachable")
    )


@dataclass
class PlatformStatus:
    """Outbox counts of one platform."""

    platform: str
    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    held: int = 0
    oldest_pending: datetime | None = None


async def status(db: AsyncSession) -> list[PlatformStatus]:
    """Pending, sending, sent and failed counts per platform, and the oldest pending row."""
    rows = await db.execute(
        select(OutboxMessage.platform, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.platform, OutboxMessage.status
        )
    )
    result: dict[str, PlatformStatus] = {}
    for platform, state, count in rows:
        setattr(result.setdefault(platform, PlatformStatus(platform)), state, count)
    for entry in result.values():
        if entry.pending:
            entry.oldest_pending = await db.scalar(
                select(OutboxMessage.created_at)
                .where(OutboxMessage.platform == entry.platform, OutboxMessage.status == PENDING)
                .order_by(OutboxMessage.created_at)
                .limit(1)
            )
    return sorted(result.values(), key=lambda s: s.platform)


async def retry_failed(db: AsyncSession, give_up_after: timedelta = timedelta(hours=24)) -> int:
    """Put every failed row back in the queue."""
    now = utcnow()
    result = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == FAILED)
        .values(status=PENDING, not_before=now, give_up_at=now + give_up_after, attempts=0)
    )
    return result.rowcount or 0


async def hold(
    db: AsyncSession, *, platform: str, user_id: int, replies: list[Reply], dedup_key: str
) -> OutboxMessage:
    """Keep a user's personal answer until they open the private chat (take_held), a day."""
    now = utcnow()
    message = OutboxMessage(
        platform=platform,
        recipient="",
        user_id=user_id,
        payload=serialise(replies),
        priority=DIRECT,
        dedup_key=dedup_key,
        status=HELD,
        not_before=now,
        give_up_at=now + HOLD_FOR,
    )
    db.add(message)
    await db.flush()
    return message


async def take_held(
    db: AsyncSession, message_id: int, user_id: int, platform: str
) -> list[Reply] | None:
    """The replies of a held answer of this user on this platform, removed; None if gone."""
    message = await db.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.user_id == user_id,
            OutboxMessage.platform == platform,
            OutboxMessage.status == HELD,
            OutboxMessage.give_up_at > utcnow(),
        )
        .with_for_update()
    )
    if message is None:
        return None
    replies = deserialise(message.payload)
    await db.delete(message)
    await db.flush()
    return replies


async def purge(db: AsyncSession, *, keep: timedelta, now: datetime | None = None) -> int:
    """Delete sent and failed rows older than keep, and held answers past their day."""
    now = now or utcnow()
    finished = await db.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_([SENT, FAILED]),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < now - keep,
        )
    )
    expired = await db.execute(
        delete(OutboxMessage).where(OutboxMessage.status == HELD, OutboxMessage.give_up_at <= now)
    )
    return (finished.rowcount or 0) + (expired.rowcount or 0)
