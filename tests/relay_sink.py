"""A small HTTP endpoint on 127.0.0.1 that receives relay-transport messages and records them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Delivery:
    """One message the sink accepted."""

    key: str
    recipient: str
    text: str
    at: float


@dataclass
class RelaySink:
    """Accepts POSTs like a push gateway; can rate-limit (429) and block recipients (403)."""

    rate_per_second: float | None = None
    blocked: set[str] = field(default_factory=set)
    deliveries: list[Delivery] = field(default_factory=list)
    rejected_429: int = 0
    early_retries: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _window: list[float] = field(default_factory=list)
    _retry_not_before: float = 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        if self.rate_per_second is not None:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.rate_per_second:
                if now < self._retry_not_before:
                    self.early_retries += 1
                self.rejected_429 += 1
                self._retry_not_before = now + 1.0
                return web.json_response({"ok": False}, status=429, headers={"Retry-After": "1"})
            self._window.append(now)
        if body["recipient"] in self.blocked:
            return web.json_response({"ok": False}, status=403)
        text = body["replies"][0]["text"] if body["replies"] else ""
        self.deliveries.append(Delivery(request.headers.get("Idempotency-Key", ""),
                                        body["recipient"], text, now))
        return web.json_response({"ok": True})

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns the URL to POST to."""
        app = web.Application()
        app.router.add_post("/deliver", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/deliver"
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def keys(self) -> Counter[str]:
        """How often each idempotency key arrived."""
        return Counter(d.key for d in self.deliveries)

    async def wait_for(self, predicate: Callable[[RelaySink], bool], timeout: float) -> bool:
        """Wait until predicate(self) holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            await asyncio.sleep(0.05)
        return predicate(self)
