"""Bounded waits that never swallow a cancellation (Python 3.11's asyncio.wait_for can)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger(__name__)


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait at most seconds for event; return whether it is set.

    asyncio.wait_for on Python 3.11 returns normally when the event is set in the same loop
    iteration as a cancel() of the waiting task, and the task then runs on as if never
    cancelled; asyncio.wait propagates the cancellation.
    """
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()
    return event.is_set()


async def end_task(task: asyncio.Task, seconds: float, name: str) -> bool:
    """Cancel task and wait for it at most seconds; return whether it ended.

    A task that ignores its cancellation (or keeps running after one was swallowed) is
    logged and left behind instead of hanging whoever stops it.
    """
    task.cancel()
    done, _pending = await asyncio.wait({task}, timeout=seconds)
    if not done:
        logger.warning("task did not end after cancel task=%s seconds=%s", name, seconds)
        return False
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
    return True
