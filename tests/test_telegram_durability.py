"""Telegram updates are confirmed only after their turns commit; replies go out afterwards.

Polling: the getUpdates offset never passes an update whose turn is not committed, and an
update fetched again while in flight is not handled twice. Webhook: Telegram gets its 200
as soon as the turn is committed; the replies follow in the background, each once. Acks
of sent answers are committed in batches.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, create_app
from bot.messages import Incoming, Reply
from bot.telegram.window import UpdateWindow
from nlu import EmbeddedNLU
from storage import outbox
from tests.conftest import make_config
from tests.fake_bot_api import FakeBotAPI, User
from tests.test_telegram_e2e import Telegram, new_user

# concurrent webhook updates and the send limit; set the variables to measure more
FLOOD = int(os.environ.get("CITYBOT_TEST_WEBHOOK_FLOOD", "100"))
SEND_RATE = int(os.environ.get("CITYBOT_TEST_WEBHOOK_SEND_RATE", "10"))


class _Update:
    def __init__(self, update_id: int) -> None:
        self.update_id = update_id


def test_the_offset_passes_an_update_only_when_it_and_all_before_are_committed() -> None:
    window = UpdateWindow()
    first = window.fetched([_Update(n) for n in (10, 11, 12)])
    assert [u.update_id for u in first] == [10, 11, 12] and window.offset is None
    window.committed(11)
    window.committed(12)
    assert window.offset == 10, "10 still runs: it (and so 11, 12) is not confirmed"
    again = window.fetched([_Update(n) for n in (10, 11, 12, 13)])
    assert [u.update_id for u in again] == [13], "in flight or committed: not handled twice"
    window.committed(10)
    assert window.offset == 13
    window.committed(13)
    assert window.offset == 14
    assert window.fetched([_Update(12)]) == [], "below the offset: long confirmed"


async def test_the_poller_waits_for_commits_before_fetching_the_same_updates_again() -> None:
    window = UpdateWindow()
    window.fetched([_Update(n) for n in range(1, 5)])
    waiting = asyncio.create_task(window.passed(2, timeout=5))
    window.committed(1)
    await asyncio.sleep(0)
    assert not waiting.done(), "the offset is not yet past update 2"
    window.committed(3)
    window.committed(2)
    await asyncio.wait_for(waiting, 1)
    assert window.offset == 4


async def _statuses(app: App) -> Counter[str]:
    async with app.sessions() as db:
        return Counter(await db.scalars(select(outbox.OutboxMessage.status)))


async def test_polling_confirms_an_update_only_after_its_turn_is_committed(
    app: App, fake: FakeBotAPI
) -> None:
    app.dispatcher.durable = {"telegram"}
    gate = asyncio.Event()
    handle = app.dispatcher.handle
    turns: Counter[str] = Counter()

    async def slow_for_ada(incoming: Incoming) -> list[Reply]:
        turns[incoming.event_id] += 1
        if incoming.user_id == str(ada.id):
            await gate.wait()  # the turn is still running (e.g. waiting for the write lock)
        return await handle(incoming)

    app.dispatcher.handle = slow_for_ada  # type: ignore[method-assign]
    ada, ben = User(8_100_001, "Ada"), User(8_100_002, "Ben")
    harness = Telegram(app, fake, "polling")
    await harness.start(poll_timeout_seconds=1)
    try:
        held = await fake.say(ada, "/help")
        for n in range(3):
            await fake.say(ben, f"/b{n}")
        assert await fake.wait_for(lambda: len(fake.sent_to(ben.id)) == 3)
        polls = len(fake.methods("getUpdates"))
        assert await fake.wait_for(lambda: len(fake.methods("getUpdates")) > polls + 1, 5)
        offsets = [p.get("offset") or 0 for p in fake.methods("getUpdates")]
        assert max(offsets) <= held["update_id"], "no offset confirmed Ada's running turn"
        assert not fake.sent_to(ada.id)

        gate.set()
        assert await fake.wait_for(lambda: len(fake.sent_to(ada.id)) == 1)
        last = held["update_id"] + 3
        assert await fake.wait_for(
            lambda: max(p.get("offset") or 0 for p in fake.methods("getUpdates")) == last + 1
        ), "once committed, the offset passes all four"
    finally:
        await harness.stop()
    assert max(turns.values()) == 1, "updates fetched again while in flight ran once"
    assert await _statuses(app) == {"sent": 4}


async def test_a_chats_answers_arrive_in_order_while_later_turns_commit(
    app: App, fake: FakeBotAPI
) -> None:
    app.dispatcher.durable = {"telegram"}
    harness = Telegram(app, fake, "polling")
    await harness.start(rate_limits={"per_chat_burst": 1, "per_chat_per_second": 5})
    anna = new_user("de")
    try:
        for n in range(6):
            await fake.say(anna, f"/n{n}")
        assert await fake.wait_for(lambda: len(fake.sent_to(anna.id)) == 6, 10)
    finally:
        await harness.stop()
    assert [s.text.split()[2] for s in fake.sent_to(anna.id)] == [f"/n{n}" for n in range(6)]
    assert await _statuses(app) == {"sent": 6}


async def test_acks_of_many_answers_are_committed_together(app: App) -> None:
    app.dispatcher.durable = {"fake"}
    turns = [
        await app.dispatcher.handle(
            Incoming(platform="fake", chat_id=f"c{n}", user_id=f"u{n}", event_id=f"e{n}", text="/x")
        )
        for n in range(40)
    ]
    before = app.dispatcher.sent_marks.commits
    await asyncio.gather(*(replies.ack() for replies in turns))  # type: ignore[attr-defined]
    commits = app.dispatcher.sent_marks.commits - before
    assert commits <= 2, f"40 acks in {commits} write transactions"
    assert await _statuses(app) == {"sent": 40}


async def test_a_waiting_ack_is_committed_with_the_next_turn(
    database_url: str, tmp_path: Path, nlu_model: EmbeddedNLU, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = await create_app(make_config(tmp_path, database_url), nlu=nlu_model)
    try:
        dispatcher = application.dispatcher
        dispatcher.durable = {"fake"}
        first = await dispatcher.handle(_incoming("a1"))
        monkeypatch.setattr(dispatcher.sent_marks, "_wake_writer", lambda: None)
        ack = asyncio.create_task(first.ack())  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        assert not ack.done(), "no writer: the ack waits for a transaction to ride along"
        second = await dispatcher.handle(_incoming("a2"))
        await asyncio.wait_for(ack, 5)
        assert await _statuses(application) == {"sent": 1, "sending": 1}
        monkeypatch.undo()
        await second.ack()  # type: ignore[attr-defined]
        assert await _statuses(application) == {"sent": 2}
    finally:
        await application.close()


def _incoming(event: str) -> Incoming:
    return Incoming(platform="fake", chat_id="c", user_id="u", event_id=event, text="/x")


async def test_the_webhook_answers_once_the_turn_is_committed_and_sends_afterwards(
    app: App, fake: FakeBotAPI
) -> None:
    app.dispatcher.durable = {"telegram"}
    harness = Telegram(app, fake, "webhook")
    await harness.start(rate_limits={"overall_per_second": SEND_RATE})
    users = [new_user("de") for _ in range(FLOOD)]
    answered_at: list[float] = []

    async def post(user: User, n: int) -> None:
        await fake.push(fake.message_update(user, f"/w{n}"))
        answered_at.append(time.monotonic())

    try:
        started = time.monotonic()
        await asyncio.gather(*(post(user, n) for n, user in enumerate(users)))
        sent_when_answered = len(fake.sent)
        assert await fake.wait_for(lambda: len(fake.sent) >= FLOOD, 30 + 2 * FLOOD / SEND_RATE)
        delivered = time.monotonic() - started
        await fake.quiet(0.3)
    finally:
        await harness.stop()
    latencies = sorted(t - started for t in answered_at)
    print(
        f"\n{FLOOD} concurrent webhook updates: all answered after {latencies[-1]:.2f} s "
        f"(median {latencies[len(latencies) // 2]:.2f} s), {sent_when_answered} replies sent "
        f"by then, all {FLOOD} delivered after {delivered:.2f} s"
    )
    assert fake.webhook_statuses == [200] * FLOOD
    assert sent_when_answered < FLOOD, "Telegram got its answers before the replies were out"
    assert sorted(s.chat_id for s in fake.sent) == sorted(u.id for u in users), "each once"
    assert await _statuses(app) == {"sent": FLOOD}
