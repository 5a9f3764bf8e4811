"""Flood control for Telegram: overall, per chat and per group limits; direct answers first.

Telegram allows about 30 messages per second overall, one per second in a chat (short
bursts tolerated) and 20 per minute in a group. A 429 answer pauses every send for its
retry_after. Direct answers to people chatting now go before outbox traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from aiolimiter import AsyncLimiter

from bot.config import TelegramRateLimits

MAX_TRACKED_CHATS = 10_000


class FloodControl:
    """Wait here before every message-sending Bot API call."""

    def __init__(self, limits: TelegramRateLimits) -> None:
        self.limits = limits
        self.overall = AsyncLimiter(limits.overall_per_second, 1)
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._groups: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._paused_until = 0.0
        self._direct_waiting = 0
        self._no_direct = asyncio.Event()
        self._no_direct.set()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing goes out for the next seconds."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        """Seconds left of a 429 pause (0 when not paused)."""
        return max(0.0, self._paused_until - time.monotonic())

    def _limiter(
        self, table: OrderedDict[str, AsyncLimiter], chat: str, group: bool
    ) -> AsyncLimiter:
        limiter = table.get(chat)
        if limiter is None:
            if group:
                limiter = AsyncLimiter(self.limits.per_group_per_minute, 60)
            else:
                burst = self.limits.per_chat_burst
                limiter = AsyncLimiter(burst, burst / self.limits.per_chat_per_second)
            table[chat] = limiter
            while len(table) > MAX_TRACKED_CHATS:
                table.popitem(last=False)
        table.move_to_end(chat)
        return limiter

    async def _wait_pause(self) -> None:
        while (left := self.paused_for) > 0:
            await asyncio.sleep(left)

    async def acquire(self, chat: str, *, group: bool = False, direct: bool = True) -> None:
        """Return when a message to chat may go out now.

        The chat's (and group's) own limit comes first. At the overall limit direct answers
        queue in order; outbox traffic (direct=False) only takes capacity no direct answer
        is waiting for.
        """
        await self._limiter(self._chats, chat, False).acquire()
        if group:
            await self._limiter(self._groups, chat, True).acquire()
        if not direct:
            await self._acquire_spare()
            return
        self._direct_waiting += 1
        self._no_direct.clear()
        try:
            await self._wait_pause()
            await self.overall.acquire()
            await self._wait_pause()
        finally:
            self._direct_waiting -= 1
            if not self._direct_waiting:
                self._no_direct.set()

    async def _acquire_spare(self) -> None:
        step = 1 / self.limits.overall_per_second
        while True:
            await self._no_direct.wait()
            await self._wait_pause()
            if self._no_direct.is_set() and self.overall.has_capacity():
                await self.overall.acquire()  # has capacity: returns without waiting
                return
            await asyncio.sleep(step)
