"""The outbox and its sender: exactly once, rate limits, retries, failures, priorities."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiolimiter import AsyncLimiter
from sqlalchemy import func, select

from bot.config import OutboxConfig
from bot.messages import Attachment, Button, Invoice, Reply
from bot.notify import broadcast, notify
from bot.sender import OutboxSender
from bot.transport import SendResult
from storage import migrate, outbox
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.users import Identity, get_or_create_user

FAST = OutboxConfig(
    batch=50,
    lease_seconds=30,
    poll_seconds=0.05,
    backoff_base_seconds=0.05,
    backoff_max_seconds=0.2,
    give_up_hours=1,
)


class FakeTransport:
    """Records what it sends; a rate limit, temporary failures and blocked users on demand."""

    leader_only = False

    def __init__(self, name: str = "fake", rate: float | None = None) -> None:
        self.name = name
        self.sent: list[tuple[str, str, float]] = []
        self.limiter = AsyncLimiter(rate, 1) if rate else None
        self.fail_times: Counter[str] = Counter()
        self.blocked: set[str] = set()
        self.flood_once: set[str] = set()

    async def start(self, dispatch) -> None:
        return None

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        if self.limiter is not None:
            await self.limiter.acquire()
        if recipient in self.blocked:
            return SendResult.failed("blocked", unreachable=True)
        if recipient in self.flood_once:
            self.flood_once.discard(recipient)
            return SendResult.retry("temporary: 429", 0.2)
        if self.fail_times[recipient] > 0:
            self.fail_times[recipient] -= 1
            return SendResult.retry("temporary: 502")
        self.sent.append((recipient, replies[0].text, time.monotonic()))
        return SendResult.sent()

    async def stop(self) -> None:
        return None


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def _users(sessions, count: int, platform: str = "fake") -> list[int]:
    async with sessions() as db, db.begin():
        ids = []
        for n in range(count):
            user, _ = await get_or_create_user(db, platform, f"r{n}", language="de")
            ids.append(user.id)
        return ids


def _hello(t) -> list[Reply]:
    return [Reply("Hallo zusammen")]


async def _drain_all(sender: OutboxSender, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        handled = await sender.drain()
        async with sender.sessions() as db:
            left = await db.scalar(
                select(func.count())
                .select_from(outbox.OutboxMessage)
                .where(outbox.OutboxMessage.status.in_([outbox.PENDING, outbox.SENDING]))
            )
        if not left:
            return
        if not handled:
            await asyncio.sleep(0.05)
    raise AssertionError("outbox not drained in time")


async def test_replies_survive_the_round_trip_through_json():
    replies = [
        Reply("Gutschein", invoice=Invoice("Gutschein", "Café Rosa, 25 €", 2500, "voucher:1")),
        Reply(
            "Text",
            [Button("Details", "job.details:7")],
            image=Attachment("qr.png", b"\x89PNG", "image/png"),
        ),
    ]
    assert outbox.deserialise(outbox.serialise(replies)) == replies


async def test_acknowledging_one_key_or_many_marks_exactly_those_rows_sent(sessions):
    async with sessions() as db, db.begin():
        for key in ("a", "b", "c", "d"):
            await outbox.journal_direct(
                db, platform="fake", recipient=f"chat-{key}", replies=[Reply(f"answer {key}")],
                user_id=None, dedup_key=key, claimed_until=utcnow())
    async with sessions() as db, db.begin():
        await outbox.mark_sent_many(db, ["b"])  # one key: its own statement
        await outbox.mark_sent_many(db, ["c", "d"])  # many: one IN list
    async with sessions() as db:
        rows = {row.dedup_key: row for row in await db.scalars(select(outbox.OutboxMessage))}
    assert {key: row.status for key, row in rows.items()} == {
        "a": outbox.SENDING, "b": outbox.SENT, "c": outbox.SENT, "d": outbox.SENT}
    assert [(rows[k].recipient, rows[k].payload) for k in "bcd"] == [("", [])] * 3
    assert rows["a"].recipient == "chat-a" and rows["a"].payload  # not acknowledged: kept


async def test_dedup_key_makes_a_second_notify_a_no_op(sessions):
    [user] = await _users(sessions, 1)
    async with sessions() as db, db.begin():
        assert await notify(db, user, _hello, dedup_key="x:1")
        assert not await notify(db, user, _hello, dedup_key="x:1")
        assert await db.scalar(select(func.count()).select_from(outbox.OutboxMessage)) == 1


async def test_broadcast_to_1000_recipients_is_delivered_once_within_the_rate(sessions):
    users = await _users(sessions, 1000)
    async with sessions() as db, db.begin():
        assert await broadcast(db, users, _hello, dedup_prefix="b1") == 1000
    transport = FakeTransport(rate=400)
    sender = OutboxSender(sessions, transport, FAST, "w1")
    started = time.monotonic()
    await _drain_all(sender, timeout=60)
    took = time.monotonic() - started
    recipients = Counter(r for r, _, _ in transport.sent)
    assert len(recipients) == 1000 and max(recipients.values()) == 1
    # a leaky bucket of 400/s lets a first burst of 400 through, the other 600 at 400/s
    assert took >= 600 / 400 * 0.9, "the sender went faster than the transport's limit"
    assert took < 30
    print(f"1000 messages at 400/s took {took:.2f} s")


async def test_notifications_go_before_a_running_broadcast(sessions):
    users = await _users(sessions, 101)
    async with sessions() as db, db.begin():
        await broadcast(db, users[:100], _hello, dedup_prefix="b2")
        await notify(db, users[100], lambda t: [Reply("Ihre Erinnerung")])
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, OutboxConfig(batch=10), "w1")
    await sender.drain()
    assert transport.sent[0][1] == "Ihre Erinnerung"


async def test_one_chats_messages_keep_the_order_they_were_queued_in(sessions):
    users = await _users(sessions, 2)
    async with sessions() as db, db.begin():
        await broadcast(db, users[:1], lambda t: [Reply("Bitte Formular mitbringen")],
                        dedup_prefix="staff")
        await notify(db, users[0], lambda t: [Reply("Der Elternabend wurde abgesagt")])
        await notify(db, users[1], lambda t: [Reply("Ihre Erinnerung")])
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, OutboxConfig(batch=10), "w1")
    await sender.drain()
    # the first chat's turn (it has a notification) brings its older message first
    assert [text for _, text, _ in transport.sent] == [
        "Bitte Formular mitbringen",
        "Ihre Erinnerung",
        "Der Elternabend wurde abgesagt",
    ]


async def test_temporary_failures_are_retried_with_backoff(sessions):
    [user] = await _users(sessions, 1)
    async with sessions() as db, db.begin():
        await notify(db, user, _hello)
    transport = FakeTransport()
    transport.fail_times["r0"] = 3
    sender = OutboxSender(sessions, transport, FAST, "w1")
    await _drain_all(sender)
    assert [r for r, _, _ in transport.sent] == ["r0"]
    async with sessions() as db:
        row = await db.scalar(select(outbox.OutboxMessage))
    assert row.status == outbox.SENT and row.attempts == 4


async def test_flood_control_pauses_and_keeps_order_of_the_rest(sessions):
    users = await _users(sessions, 5)
    async with sessions() as db, db.begin():
        await broadcast(db, users, _hello, dedup_prefix="b3")
    transport = FakeTransport()
    transport.flood_once.add("r1")
    sender = OutboxSender(sessions, transport, FAST, "w1")
    await _drain_all(sender)
    assert sorted(r for r, _, _ in transport.sent) == [f"r{n}" for n in range(5)]


async def test_blocked_user_fails_at_once_and_becomes_unreachable(sessions):
    users = await _users(sessions, 2)
    async with sessions() as db, db.begin():
        await broadcast(db, users, _hello, dedup_prefix="b4")
    transport = FakeTransport()
    transport.blocked.add("r0")
    sender = OutboxSender(sessions, transport, FAST, "w1")
    await _drain_all(sender)
    async with sessions() as db:
        # a sent row keeps no recipient (privacy): rows by user
        by_user = {m.user_id: m for m in await db.scalars(select(outbox.OutboxMessage))}
        rows = {"r0": by_user[users[0]], "r1": by_user[users[1]]}
        identity = await db.scalar(select(Identity).where(Identity.external_id == "r0"))
    assert rows["r0"].status == outbox.FAILED and rows["r0"].attempts == 1
    assert rows["r1"].status == outbox.SENT
    assert identity.reachable is False
    async with sessions() as db, db.begin():
        assert not await notify(db, users[0], _hello), "no new messages to a blocked user"
        await get_or_create_user(db, "fake", "r0", language="de")
    async with sessions() as db, db.begin():
        assert await notify(db, users[0], _hello), "writing again makes them reachable"


async def test_gives_up_after_the_configured_time(sessions):
    [user] = await _users(sessions, 1)
    async with sessions() as db, db.begin():
        message = await outbox.enqueue(
            db,
            platform="fake",
            recipient="r0",
            replies=[Reply("x")],
            user_id=user,
            give_up_after=timedelta(seconds=0.3),
        )
        assert message is not None
    transport = FakeTransport()
    transport.fail_times["r0"] = 1000
    sender = OutboxSender(sessions, transport, FAST, "w1")
    await _drain_all(sender)
    async with sessions() as db:
        row = await db.scalar(select(outbox.OutboxMessage))
    assert row.status == outbox.FAILED and row.error.startswith("gave up")
    async with sessions() as db, db.begin():
        assert await outbox.retry_failed(db) == 1
    transport.fail_times.clear()
    await _drain_all(sender)
    assert transport.sent


async def test_the_configured_give_up_time_caps_the_queued_one(sessions):
    [user] = await _users(sessions, 1)
    async with sessions() as db, db.begin():
        await notify(db, user, _hello)  # queued with the default of 24 hours
    transport = FakeTransport()
    transport.fail_times["r0"] = 1000
    sender = OutboxSender(
        sessions, transport, FAST.model_copy(update={"give_up_hours": 0.0001}), "w1"
    )
    await _drain_all(sender)
    async with sessions() as db:
        row = await db.scalar(select(outbox.OutboxMessage))
    assert row.status == outbox.FAILED and row.error.startswith("gave up")
    assert transport.sent == []


async def test_rows_of_a_dead_worker_are_taken_over_after_the_lease(sessions):
    users = await _users(sessions, 3)
    async with sessions() as db, db.begin():
        await broadcast(db, users, _hello, dedup_prefix="b5")
        claimed = await outbox.claim(
            db, "fake", "dead-worker", limit=10, lease=timedelta(seconds=30)
        )
        assert len(claimed) == 3
    async with sessions() as db, db.begin():
        assert await outbox.claim(db, "fake", "w2", limit=10, lease=timedelta(seconds=30)) == []
        taken = await outbox.claim(db, "fake", "w2", limit=10, lease=timedelta(seconds=0))
        assert len(taken) == 3 and {m.claimed_by for m in taken} == {"w2"}


async def test_status_counts_per_platform(sessions):
    users = await _users(sessions, 3)
    async with sessions() as db, db.begin():
        await broadcast(db, users, _hello, dedup_prefix="b6")
    async with sessions() as db:
        [row] = await outbox.status(db)
    assert (row.platform, row.pending, row.sent) == ("fake", 3, 0)
    assert row.oldest_pending is not None and row.oldest_pending <= utcnow()


@pytest.mark.postgres
async def test_two_senders_on_postgresql_share_rows_without_doubles(pg_cluster):
    url = pg_cluster.create_database("two_senders").url()
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    try:
        users = await _users(sessions, 400)
        async with sessions() as db, db.begin():
            await broadcast(db, users, _hello, dedup_prefix="b7")
        transport = FakeTransport()
        senders = [
            OutboxSender(sessions, transport, OutboxConfig(batch=7, poll_seconds=0.01), f"w{n}")
            for n in range(2)
        ]
        await asyncio.gather(*(_drain_all(s) for s in senders))
        counts = Counter(r for r, _, _ in transport.sent)
        assert len(counts) == 400 and max(counts.values()) == 1
    finally:
        await engine.dispose()
