"""SQLite's WAL checkpoints in the background, not in the commit of a chat's turn.

In WAL mode SQLite copies the log into the database file (a checkpoint, with an fsync) in the
commit that makes the log longer than `wal_autocheckpoint` pages – by default every 1,000
pages, i.e. every few hundred turns, and that turn's commit then takes 10–20 ms instead of
0.1 ms. Here a task checkpoints every CHECKPOINT_EVERY seconds on a connection (and thread) of
its own, PASSIVE: it waits for no reader or writer and blocks none, so turns keep committing
while the log is copied. The pooled connections checkpoint themselves only past
AUTOCHECKPOINT_PAGES (storage/db.py), a safety net for processes without this task (the CLI)
or a task that falls behind.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from storage.sqlite_connection import one_trip_connector

logger = logging.getLogger(__name__)
CHECKPOINT_EVERY = 0.5  # seconds between background checkpoints
AUTOCHECKPOINT_PAGES = 10_000  # a commit checkpoints itself only past this (about 40 MB)


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL every few moments until stopped."""

    def __init__(self, path: str, every: float = CHECKPOINT_EVERY) -> None:
        self.path = path
        self.every = every
        self.checkpoints = 0  # completed checkpoint calls (for tests and measurements)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start checkpointing in a task of the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="wal-checkpoint")

    async def stop(self) -> None:
        """Stop the task and close its connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        connect = one_trip_connector((self.path,), {"isolation_level": None})  # as the pool's
        try:
            connection = await connect()
        except sqlite3.Error as error:  # the pool's own checkpoints (past the limit) remain
            logger.warning("wal checkpointer cannot open the database error=%s",
                           type(error).__name__)
            return
        failing = False  # a failure is logged once, not every interval
        try:
            while True:
                await asyncio.sleep(self.every)
                try:
                    async with connection.execute("PRAGMA wal_checkpoint(PASSIVE)") as cursor:
                        await cursor.fetchall()
                    self.checkpoints += 1
                    failing = False
                except sqlite3.Error as error:
                    if not failing:
                        logger.warning("wal checkpoint failed error=%s", type(error).__name__)
                    failing = True
        finally:
            await asyncio.shield(connection.close())
