"""Which polled updates may be confirmed to Telegram, and which are new.

getUpdates confirms every update below its `offset`: an update confirmed before its turn is
committed is lost when the process dies. So the offset only moves past an update once it
and every earlier one is committed. Until then Telegram returns those updates again with
each getUpdates; the ones already in flight or committed are not handled a second time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, TypeVar

from bot.waiting import wait_event


class HasUpdateId(Protocol):
    """Anything with Telegram's update_id (telegram.Update)."""

    update_id: int


U = TypeVar("U", bound=HasUpdateId)


class UpdateWindow:
    """The fetched updates between the confirmed offset and the newest one fetched."""

    def __init__(self) -> None:
        self.offset: int | None = None  # the next getUpdates offset (None: from the oldest)
        self._in_flight: set[int] = set()  # fetched, turn not yet committed
        self._committed: set[int] = set()  # committed, not yet confirmable (an earlier one runs)
        self._moved = asyncio.Event()

    def fetched(self, updates: Sequence[U]) -> list[U]:
        """The updates of a getUpdates answer that are new (to be handled now)."""
        fresh = []
        for update in updates:
            number = update.update_id
            if number in self._in_flight or number in self._committed:
                continue
            if self.offset is not None and number < self.offset:
                continue
            self._in_flight.add(number)
            fresh.append(update)
        return fresh

    def committed(self, update_id: int) -> None:
        """The update's turn is committed (or it needs none); the offset moves if it can."""
        if update_id not in self._in_flight:
            return
        self._in_flight.discard(update_id)
        self._committed.add(update_id)
        offset = min(self._in_flight) if self._in_flight else max(self._committed) + 1
        self._committed = {n for n in self._committed if n >= offset}
        if self.offset is None or offset > self.offset:
            self.offset = offset
            self._moved.set()

    async def passed(self, update_id: int, timeout: float) -> None:
        """Return once the offset is past update_id, or after timeout seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.offset or 0) <= update_id and (left := deadline - loop.time()) > 0:
            self._moved.clear()
            await wait_event(self._moved, left)
