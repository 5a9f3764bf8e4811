"""Under load on SQLite: 8 chats write for 30 s while a reminder falls due – it is sent on time.

The whole `citybot run` Runner in-process (real scheduler, relay transport into an HTTP sink)
while eight console chats keep writing to the same SQLite file.
"""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import timedelta

from bot import scheduler as scheduling
from bot.app import create_app
from bot.messages import Incoming
from bot.notify import remind
from bot.relay import RelayTransport
from bot.runner import Runner
from storage.base import utcnow
from storage.users import get_or_create_user
from tests.conftest import make_config
from tests.relay_sink import RelaySink

CHATS = 8
WRITING_SECONDS = 30
DUE_AFTER_SECONDS = 15
ON_TIME_SECONDS = 5  # reminder_interval_seconds 0.5 + outbox poll 0.1, with room for a busy CI
LINES = ["/help", "hallo", "ich suche arbeit in der pflege", "/language de", "danke"]


async def chatter(app, n: int, until: float, answered: list[int]) -> None:
    """One person writing line after line (each turn is a write transaction) until `until`."""
    turn = 0
    while time.monotonic() < until:
        line = LINES[turn % len(LINES)]
        kind = "command" if line.startswith("/") else "text"
        incoming = Incoming(
            "console", f"load{n}", f"load{n}", f"load{n}-{turn}", kind, line, locale="de"
        )
        if await app.dispatcher.handle(incoming):
            answered[n] += 1
        turn += 1


async def test_a_reminder_is_sent_on_time_while_8_chats_write_for_30_s(tmp_path, nlu_model):
    sink = RelaySink()
    config = make_config(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}",
        relay={"platform": "relay", "url": await sink.start(), "rate_per_second": 200},
        outbox={"poll_seconds": 0.1},
        scheduler={"reminder_interval_seconds": 0.5},
        web={"enabled": False},
    )
    app = await create_app(config, nlu=nlu_model)
    scheduling.bind(app)
    runner = Runner(app, [RelayTransport(config.relay)])
    running = asyncio.create_task(runner.run())
    try:
        for _ in range(500):
            if runner.scheduler.scheduler is not None:
                break
            await asyncio.sleep(0.02)
        async with app.sessions() as db, db.begin():
            user, _ = await get_or_create_user(db, "relay", "reminded", language="de")
            due_at = utcnow() + timedelta(seconds=DUE_AFTER_SECONDS)
            await remind(db, user.id, due_at, "jobs.closed")
        due = time.monotonic() + DUE_AFTER_SECONDS
        answered = [0] * CHATS
        until = time.monotonic() + WRITING_SECONDS
        await asyncio.gather(*(chatter(app, n, until, answered) for n in range(CHATS)))
        assert all(count >= 5 for count in answered), answered
        await sink.wait_for(lambda s: any(d.recipient == "reminded" for d in s.deliveries), 5)
        reminded = [d for d in sink.deliveries if d.recipient == "reminded"]
        assert len(reminded) == 1, "the reminder was never sent (or sent twice)"
        late = reminded[0].at - due
        assert late < ON_TIME_SECONDS, f"the reminder came {late:.1f} s late"
        assert runner.scheduler.running, "the scheduler is still running"
        assert gc.get_freeze_count() > 50_000, "the running bot's objects are frozen"
        status, body = await runner.health.check()
        assert status == 200 and body["scheduler"]["jobs"]["release_reminders"]["failures"] == 0
    finally:
        runner.stop.set()
        await asyncio.wait_for(running, 15)
        scheduling.bind(None)
        await app.close()
        await sink.stop()
    assert gc.get_freeze_count() == 0, "a stopped runner gives its objects back to the collector"
