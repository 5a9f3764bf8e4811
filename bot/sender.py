"""Drains the outbox of one transport: claim due rows, send, mark each sent at once."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import OutboxConfig
from bot.messages import Reply
from bot.transport import SendResult, Transport
from storage import outbox

logger = logging.getLogger(__name__)


class OutboxSender:
    """One sender per transport and process; several processes share rows via SKIP LOCKED."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        settings: OutboxConfig,
        worker: str,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.settings = settings
        self.worker = worker
        self.wake = asyncio.Event()

    async def drain(self) -> int:
        """Claim one batch of due rows and send them; returns how many were handled."""
        async with self.sessions() as db, db.begin():
            claimed = await outbox.claim(
                db,
                self.transport.name,
                self.worker,
                limit=self.settings.batch,
                lease=timedelta(seconds=self.settings.lease_seconds),
                give_up=timedelta(hours=self.settings.give_up_hours),
            )
            batch = [
                (
                    m.id,
                    m.recipient,
                    outbox.deserialise(m.payload),
                    m.attempts,
                    m.dedup_key or f"outbox-{m.id}",
                )
                for m in claimed
            ]
        for index, (message_id, recipient, replies, attempts, key) in enumerate(batch):
            result = await self._send(recipient, replies, key)
            await self._record(message_id, recipient, attempts, result)
            if result.status == "retry" and result.retry_after:
                await self._release([m[0] for m in batch[index + 1 :]])
                await asyncio.sleep(result.retry_after)
                return index + 1
        return len(batch)

    async def _send(self, recipient: str, replies: list[Reply], key: str) -> SendResult:
        try:
            return await self.transport.send(recipient, replies, key)
        except Exception as error:  # a transport bug must not stop the queue
            logger.exception("send raised platform=%s", self.transport.name)
            return SendResult.retry(f"temporary: {type(error).__name__}")

    async def _record(
        self, message_id: int, recipient: str, attempts: int, result: SendResult
    ) -> None:
        async with self.sessions() as db, db.begin():
            if result.status == "sent":
                await outbox.mark_sent(db, message_id)
                return
            if result.status == "failed":
                logger.warning(
                    "outbox failed id=%s platform=%s reason=%s",
                    message_id,
                    self.transport.name,
                    result.error,
                )
                await outbox.mark_failed(db, message_id, result.error)
                if result.unreachable:
                    await outbox.mark_unreachable(db, self.transport.name, recipient)
                return
            delay = result.retry_after or self._backoff(attempts)
            message = await db.get(outbox.OutboxMessage, message_id)
            if message is not None and not await outbox.mark_retry(
                db, message, delay, result.error
            ):
                logger.warning("outbox gave up id=%s platform=%s", message_id, self.transport.name)

    def _backoff(self, attempts: int) -> float:
        base = self.settings.backoff_base_seconds * 2 ** max(attempts - 1, 0)
        return min(base, self.settings.backoff_max_seconds) * random.uniform(0.8, 1.2)

    async def _release(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        async with self.sessions() as db, db.begin():
            for message_id in message_ids:
                message = await db.get(outbox.OutboxMessage, message_id)
                if message is not None and message.status == outbox.SENDING:
                    message.status = outbox.PENDING
                    message.claimed_by = None
                    message.attempts -= 1

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until stop is set; idle polls every poll_seconds (or when woken)."""
        while not stop.is_set():
            try:
                handled = await self.drain()
            except Exception:
                logger.exception("outbox drain failed platform=%s", self.transport.name)
                handled = 0
            if handled:
                continue
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(
                waiters, timeout=self.settings.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()
