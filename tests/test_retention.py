"""Nothing is kept forever: sent texts are dropped, old rows and states purged, ids hashed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot import scheduler as scheduling
from bot.config import RetentionConfig
from bot.messages import Incoming, Reply
from bot.scheduled import purge_expired, retention_purge
from bot.scheduler import RECURRING
from storage import outbox
from storage.conversations import ConversationState, ProcessedEvent
from storage.users import get_or_create_user

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # the controlled clock's "now" when rows are made
RETENTION = RetentionConfig(outbox_days=30, state_days=90)


async def _user(app, name: str = "rita") -> int:
    async with app.sessions() as db, db.begin():
        user, _ = await get_or_create_user(db, "console", name, language="de")
        return user.id


async def _rows(app) -> dict[str, outbox.OutboxMessage]:
    async with app.sessions() as db:
        found = await db.scalars(select(outbox.OutboxMessage))
        return {row.dedup_key or "": row for row in found}


async def _states(app) -> set[str]:
    async with app.sessions() as db:
        return {s.chat_id for s in await db.scalars(select(ConversationState))}


async def test_a_sent_row_keeps_no_text_and_no_recipient(app):
    user_id = await _user(app)
    async with app.sessions() as db, db.begin():
        row = await outbox.enqueue(
            db, platform="console", recipient="rita", replies=[Reply("Geheim")], user_id=user_id
        )
        row_id = row.id
    async with app.sessions() as db, db.begin():
        await outbox.mark_sent(db, row_id)
    async with app.sessions() as db:
        sent = await db.get(outbox.OutboxMessage, row_id)
    assert (sent.status, sent.payload, sent.recipient) == (outbox.SENT, [], "")
    assert sent.sent_at is not None and sent.attempts == 0 and sent.platform == "console"


async def test_outbox_rows_and_states_are_purged_after_their_retention(app):
    user_id = await _user(app)
    async with app.sessions() as db, db.begin():
        for key, status in [
            ("sent", outbox.SENT),
            ("failed", outbox.FAILED),
            ("pending", outbox.PENDING),
            ("held", outbox.HELD),
        ]:
            row = await outbox.enqueue(
                db,
                platform="console",
                recipient="rita",
                replies=[Reply(key)],
                user_id=user_id,
                dedup_key=key,
            )
            row.status, row.created_at = status, T0
            row.sent_at = T0 if status == outbox.SENT else None
            row.give_up_at = T0 + outbox.HOLD_FOR
        for chat, age in [("fresh", 89), ("stale", 91)]:
            db.add(
                ConversationState(
                    platform="console",
                    chat_id=chat,
                    user_id=user_id,
                    data={},
                    updated_at=T0 - timedelta(days=age),
                )
            )

    purged = await purge_expired(app.sessions, RETENTION, T0 + timedelta(hours=23))
    assert (purged.outbox_rows, purged.states) == (0, 1)
    assert set(await _rows(app)) == {"sent", "failed", "pending", "held"}
    assert await _states(app) == {"fresh"}

    purged = await purge_expired(app.sessions, RETENTION, T0 + timedelta(days=29, hours=23))
    assert set(await _rows(app)) == {"sent", "failed", "pending"}, "a held answer lives a day"

    await purge_expired(app.sessions, RETENTION, T0 + timedelta(days=30, minutes=1))
    assert set(await _rows(app)) == {"pending"}, "sent and failed rows go after outbox_days"
    assert await _states(app) == set(), "the state untouched for 90 days is gone too"


async def test_the_purge_is_a_daily_recurring_job(app):
    assert "retention_purge" in RECURRING
    scheduling.bind(app)
    try:
        purged = await retention_purge()
    finally:
        scheduling.bind(None)  # type: ignore[arg-type]
    assert purged.outbox_rows == 0


async def test_event_ids_are_stored_and_logged_only_as_keyed_hashes(app, caplog):
    caplog.set_level(logging.INFO)
    message = Incoming(
        platform="telegram",
        chat_id="5550123",
        user_id="5550123",
        event_id="m:5550123:77",
        kind="command",
        text="/help",
    )
    assert await app.dispatcher.handle(message)
    assert await app.dispatcher.handle(message) == [], "a redelivery still has no effect"
    async with app.sessions() as db:
        [stored] = list(await db.scalars(select(ProcessedEvent.event_id)))
    assert "5550123" not in stored and len(stored) == 32
    assert stored == app.dispatcher.event_key(message)
    assert "duplicate event" in caplog.text and "5550123" not in caplog.text
