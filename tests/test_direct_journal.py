"""Direct answers on durable platforms are journaled: a crash after commit loses no answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.config import OutboxConfig
from bot.dispatcher import Replies
from bot.messages import Incoming
from bot.sender import OutboxSender
from storage import outbox
from tests.test_outbox import FakeTransport


def _hello(event: str) -> Incoming:
    return Incoming(
        platform="fake", chat_id="chat-1", user_id="u1", event_id=event, text="hallo", locale="de"
    )


async def _rows(app) -> list[outbox.OutboxMessage]:
    async with app.sessions() as db:
        return list(await db.scalars(select(outbox.OutboxMessage)))


async def test_acknowledged_answer_is_marked_sent(app):
    app.dispatcher.durable = {"fake"}
    replies = await app.dispatcher.handle(_hello("e1"))
    assert isinstance(replies, Replies) and "citybot" in replies[0].text
    [row] = await _rows(app)
    assert (row.status, row.claimed_by, row.priority) == ("sending", "direct", outbox.DIRECT)
    await replies.ack()
    [row] = await _rows(app)
    assert row.status == "sent"
    sender = OutboxSender(app.sessions, FakeTransport(), OutboxConfig(lease_seconds=0.001), "w")
    assert await sender.drain() == 0, "an acknowledged answer is never sent again"


async def test_answer_of_a_crashed_turn_is_sent_by_the_outbox(app):
    app.dispatcher.durable = {"fake"}
    app.dispatcher.direct_grace = timedelta(0)
    await app.dispatcher.handle(_hello("e2"))  # the process "dies" before sending
    transport = FakeTransport()
    sender = OutboxSender(app.sessions, transport, OutboxConfig(lease_seconds=0.001), "w")
    assert await sender.drain() == 1
    assert transport.sent[0][0] == "chat-1" and "citybot" in transport.sent[0][1]
    [row] = await _rows(app)
    assert row.status == "sent"


async def test_within_the_grace_the_outbox_leaves_the_answer_alone(app):
    app.dispatcher.durable = {"fake"}
    await app.dispatcher.handle(_hello("e3"))
    sender = OutboxSender(app.sessions, FakeTransport(), OutboxConfig(lease_seconds=0.001), "w")
    assert await sender.drain() == 0


async def test_console_and_duplicates_are_not_journaled(app):
    app.dispatcher.durable = {"fake"}
    console = Incoming(platform="console", chat_id="c", user_id="c", event_id="c1", text="hi")
    assert await app.dispatcher.handle(console)
    await app.dispatcher.handle(_hello("e4"))
    assert await app.dispatcher.handle(_hello("e4")) == []
    assert [r.platform for r in await _rows(app)] == ["fake"]
