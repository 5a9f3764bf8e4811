"""Relay transport: POSTs each outgoing message of one platform as JSON to an HTTP endpoint.

For integrations (a city's own push or SMS gateway) and for testing the outbox end to end.
The request carries `Idempotency-Key: <outbox dedup key or id>`; 2xx is an acknowledgement,
429 (with Retry-After) and 5xx are temporary, 403/404/410 mean the recipient is unreachable.
"""

from __future__ import annotations

import logging

import aiohttp
from aiolimiter import AsyncLimiter

from bot.config import RelayConfig
from bot.messages import Reply
from bot.transport import Dispatch, SendResult
from storage.outbox import serialise

logger = logging.getLogger(__name__)
UNREACHABLE = {403, 404, 410}


class RelayTransport:
    """Sends only; it receives nothing."""

    leader_only = False

    def __init__(self, settings: RelayConfig) -> None:
        self.name = settings.platform
        self.settings = settings
        self.limiter = AsyncLimiter(settings.rate_per_second, 1)
        self.session: aiohttp.ClientSession | None = None

    async def start(self, dispatch: Dispatch) -> None:
        """Open the HTTP client."""
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        self.session = aiohttp.ClientSession(timeout=timeout)

    async def send(self, recipient: str, replies: list[Reply], key: str = "") -> SendResult:
        """POST {recipient, replies} and map the HTTP status to a SendResult."""
        if self.session is None:
            return SendResult.retry("temporary: transport not started", 1)
        await self.limiter.acquire()
        body = {"recipient": recipient, "replies": serialise(replies)}
        try:
            headers = {"Idempotency-Key": key}
            async with self.session.post(self.settings.url, json=body, headers=headers) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as error:
            return SendResult.retry(f"temporary: {type(error).__name__}")
        if 200 <= status < 300:
            return SendResult.sent()
        if status == 429:
            return SendResult.retry("temporary: 429", float(retry_after or 1))
        if status in UNREACHABLE:
            return SendResult.failed(f"http {status}", unreachable=True)
        if status >= 500:
            return SendResult.retry(f"temporary: http {status}")
        logger.warning("relay rejected message status=%s", status)
        return SendResult.failed(f"http {status}")

    async def stop(self) -> None:
        """Close the HTTP client."""
        if self.session is not None:
            await self.session.close()
            self.session = None
