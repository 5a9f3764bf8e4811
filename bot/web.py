"""citybot's own HTTP server (aiohttp): `/healthz`, `/metrics`, and transports' webhooks."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HealthCheck = Callable[[], Awaitable[tuple[int, dict[str, Any]]]]
HEALTH_TIMEOUT = 5.0  # seconds; a check that takes longer is itself a sign of trouble


class Metrics:
    """Counters in the Prometheus text format (names and label values, never personal data)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._help: dict[str, str] = {}
        self._lock = threading.Lock()

    def inc(self, name: str, help_text: str, amount: float = 1, **labels: str) -> None:
        """Add to the counter name{labels}."""
        with self._lock:
            self._help.setdefault(name, help_text)
            self._counts[(name, tuple(sorted(labels.items())))] += amount

    def value(self, name: str, **labels: str) -> float:
        """The current value of a counter."""
        return self._counts[(name, tuple(sorted(labels.items())))]

    def render(self) -> str:
        """All counters as Prometheus exposition text."""
        lines = []
        with self._lock:
            for name in sorted(self._help):
                lines += [f"# HELP {name} {self._help[name]}", f"# TYPE {name} counter"]
                for (metric, labels), count in sorted(self._counts.items()):
                    if metric == name:
                        shown = ",".join(f'{k}="{v}"' for k, v in labels)
                        lines.append(
                            f"{name}{{{shown}}} {count:g}" if shown else f"{name} {count:g}"
                        )
        return "\n".join(lines) + "\n"


METRICS = Metrics()


async def metrics(_request: web.Request) -> web.Response:
    """Prometheus scrape endpoint."""
    return web.Response(text=METRICS.render(), content_type="text/plain", charset="utf-8")


_health: HealthCheck | None = None


def set_health(check: HealthCheck | None) -> None:
    """The check every server's /healthz answers with (`citybot run` sets bot/health.py's)."""
    global _health
    _health = check


async def healthz(_request: web.Request) -> web.Response:
    """Health: 200 with the scheduler's state, 503 when something is wrong (see bot/health.py)."""
    if _health is None:
        return web.json_response({"status": "ok"})
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            status, body = await _health()
    except Exception as error:
        logger.warning("health check failed: %s", type(error).__name__)
        status, body = 503, {"status": "unhealthy", "problems": ["health check failed"]}
    return web.json_response(body, status=status)


class WebServer:
    """One aiohttp server; add routes before start()."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application()
        self.app.router.add_get("/healthz", healthz)
        self.app.router.add_get("/metrics", metrics)
        self._runner: web.AppRunner | None = None

    def add_post(self, path: str, handler: Handler) -> None:
        """Serve POST requests on path."""
        self.app.router.add_post(path, handler)

    async def start(self) -> None:
        """Listen on host:port (port 0: a free one, then self.port holds it)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        logger.info("web server listening host=%s port=%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
