"""Bounded waits: a cancellation is never swallowed, and stopping never hangs on a task."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.config import config_from_mapping
from bot.telegram import TelegramTransport
from bot.waiting import end_task, wait_event


async def test_wait_event_reports_the_event_or_the_timeout():
    event = asyncio.Event()
    assert await wait_event(event, 0.05) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def test_a_cancel_in_the_same_step_as_the_event_is_not_swallowed():
    """Python 3.11's asyncio.wait_for returns normally here and the task runs on."""
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_event(event, 5))
    await asyncio.sleep(0)
    event.set()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


class Stubborn:
    """A task body that swallows its first cancellation and then runs until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancels = 0

    async def run(self) -> None:
        while not self.release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                self.cancels += 1


async def test_end_task_gives_up_on_a_task_that_ignores_its_cancel():
    stubborn = Stubborn()
    task = asyncio.create_task(stubborn.run())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    assert await end_task(task, 0.2, "stubborn") is False
    assert time.monotonic() - started < 2 and stubborn.cancels == 1 and not task.done()
    stubborn.release.set()
    await task
    assert await end_task(asyncio.create_task(asyncio.sleep(10)), 1, "sleeper") is True


async def test_telegram_stop_returns_even_when_its_runner_swallows_the_cancel(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    monkeypatch.setattr("bot.telegram.transport.STOP_GRACE_SECONDS", 0.2)
    config = config_from_mapping({"telegram": {"token": "123456:TEST"}}, tmp_path)
    assert config.telegram is not None
    transport = TelegramTransport(config.telegram, secret=b"k" * 32)
    stubborn = Stubborn()
    transport._runner = asyncio.create_task(stubborn.run())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await asyncio.wait_for(transport.stop(), 5)
    assert time.monotonic() - started < 2 and transport._stopping and stubborn.cancels == 1
    stubborn.release.set()
