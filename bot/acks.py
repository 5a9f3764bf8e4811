"""Marking delivered direct answers sent: many acknowledgements, one commit.

Whoever acknowledges waits until its row is committed as sent, so a transport that sends
a chat's next answer only after the previous acknowledgement returned has at most one
answer per chat sent but not yet marked – the one answer a `kill -9` can repeat.

The marks ride along in the next turn's write transaction (the dispatcher calls
`piggyback` just before its commit), so under load they cost no transaction of their own
and never queue behind other turns for SQLite's write lock. A mark waits up to
LINGER_SECONDS for such a turn; when none comes, a writer task commits the waiting marks
itself: it takes the write lock first and only then the marks. Only the chat's next answer
waits for this (the transport sends it after the acknowledgement returned), not the turns.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox

logger = logging.getLogger(__name__)
Batch = list[tuple[str, asyncio.Future[bool]]]  # (journal row's dedup key, its waiter)
LINGER_SECONDS = 0.02  # how long a mark waits for a turn's transaction to ride along in


class SentMarks:
    """Acknowledged journal rows (by dedup key) waiting to be committed as sent."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], linger: float = LINGER_SECONDS
    ) -> None:
        self.sessions = sessions
        self.linger = linger
        self._waiting: Batch = []
        self._since = 0.0  # loop time when the oldest waiting mark came
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0  # transactions that marked rows (for tests and measurements)

    async def mark(self, dedup_key: str) -> bool:
        """Mark one row sent; returns once that is committed (True) or failed (False)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if not self._waiting:
            self._since = loop.time()
        self._waiting.append((dedup_key, future))
        self._wake_writer()
        return await future

    async def piggyback(self, db: AsyncSession) -> Batch:
        """In a write transaction about to commit: mark the waiting rows sent too.

        Call `settle(batch, committed)` with the returned batch after the commit (or its
        failure).
        """
        batch, self._waiting = self._waiting, []
        if batch:
            await outbox.mark_sent_many(db, [key for key, _ in batch])
        return batch

    def settle(self, batch: Batch, committed: bool) -> None:
        """After a piggyback: wake the waiters, or queue the marks again if it failed."""
        if not batch:
            return
        if not committed:
            if not self._waiting:
                self._since = asyncio.get_running_loop().time()
            self._waiting[:0] = batch
            self._wake_writer()
            return
        self.commits += 1
        for _key, future in batch:
            if not future.done():
                future.set_result(True)

    def _wake_writer(self) -> None:
        loop = asyncio.get_running_loop()
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write(), name="sent-marks")

    async def _write(self) -> None:
        """Commit the waiting marks (those no turn took along) until none wait."""
        loop = asyncio.get_running_loop()
        while self._waiting:
            wait = self._since + self.linger - loop.time()
            if wait > 0:  # the oldest mark may still ride along with a turn's commit
                await asyncio.sleep(wait)
                continue
            batch: Batch = []
            try:
                async with self.sessions() as db, db.begin():
                    await db.connection()  # the transaction (on SQLite the write lock) first
                    batch = await self.piggyback(db)
            except Exception:
                if not batch:  # the transaction did not even start: give up on these marks
                    batch, self._waiting = self._waiting, []
                logger.exception(
                    "marking direct answers sent failed rows=%d (the outbox sends them again)",
                    len(batch),
                )
                for _key, future in batch:
                    if not future.done():
                        future.set_result(False)
                continue
            self.settle(batch, committed=True)
