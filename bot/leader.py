"""Leader election: on PostgreSQL one process holds an advisory lock and runs the scheduler.

The lock lives on a dedicated connection; when the leader dies, PostgreSQL drops its
connection and the lock, and another process takes it over within `leader_check_seconds`.
With SQLite there is one process, which is always the leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.waiting import wait_event

logger = logging.getLogger(__name__)
LOCK_KEY = 0x63697479626F74  # "citybot"
OnChange = Callable[[bool], Awaitable[None]]


class Leadership:
    """Tracks whether this process is the leader and reports changes."""

    def __init__(self, engine: AsyncEngine, *, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self.is_leader = False

    async def run(self, stop: asyncio.Event, on_change: OnChange) -> None:
        """Try to become (and stay) leader until stop is set."""
        if self.engine.dialect.name != "postgresql":
            self.is_leader = True
            await on_change(True)
            await stop.wait()
            return
        while not stop.is_set():
            try:
                async with self.engine.connect() as connection:
                    autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await self._hold(autocommit, stop, on_change)
            except Exception as error:  # connection lost: give up leadership, try again
                logger.warning("leader connection lost: %s", type(error).__name__)
            if self.is_leader:
                self.is_leader = False
                await on_change(False)
            await _sleep_or_stop(stop, self.interval)

    async def _hold(
        self, connection: AsyncConnection, stop: asyncio.Event, on_change: OnChange
    ) -> None:
        while not stop.is_set():
            if not self.is_leader:
                acquired = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
                )
                if acquired:
                    self.is_leader = True
                    logger.info("became leader")
                    await on_change(True)
            else:
                await connection.scalar(text("SELECT 1"))
            await _sleep_or_stop(stop, self.interval)
        if self.is_leader:
            await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    await wait_event(stop, seconds)
