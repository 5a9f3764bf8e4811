"""`citybot run`: the long-running bot – transports, outbox senders, leader and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Awaitable

import bot.scheduled  # noqa: F401  (registers the platform's recurring jobs)
from bot import scheduler as scheduling
from bot.app import App, create_app
from bot.config import Config
from bot.health import Health
from bot.keys import load_secret
from bot.leader import Leadership
from bot.relay import RelayTransport
from bot.sender import OutboxSender
from bot.startup_objects import freeze_startup_objects, release_startup_objects
from bot.telegram import TelegramTransport
from bot.transport import Transport, TransportStartError
from bot.web import WebServer, set_health
from storage import outbox

logger = logging.getLogger(__name__)
FORCED_EXIT_CODE = 1
FINISH_SECONDS = 3.0  # at shutdown, senders get this long to finish their batch before cancelling


def force_exit(reason: str) -> None:
    """End the process now, without waiting for tasks or threads.

    Written straight to stderr: a logging handler's lock may be held by the stuck thread.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.suppress(OSError):
        os.write(2, f"{stamp} ERROR {__name__}: exiting now: {reason}\n".encode())
    os._exit(FORCED_EXIT_CODE)


class ShutdownWatchdog:
    """After the first SIGTERM/SIGINT the process ends within run.shutdown_seconds, always.

    A daemon timer thread, so neither a task stuck on "database is locked", a database
    driver's thread, nor a blocked event loop can keep the process alive past the deadline.
    A second signal ends it at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline: float | None = None
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        """Start the countdown (idempotent); called when the stop signal arrives."""
        if self._timer is None:
            self.deadline = time.monotonic() + self.seconds
            reason = f"shutdown took longer than shutdown_seconds={self.seconds:g}"
            self._timer = threading.Timer(self.seconds, force_exit, args=(reason,))
            self._timer.daemon = True
            self._timer.start()

    def remaining(self) -> float:
        """Seconds left until the forced exit (the whole budget while not armed)."""
        if self.deadline is None:
            return self.seconds
        return max(0.0, self.deadline - time.monotonic())


def build_transports(config: Config) -> list[Transport]:
    """Every transport the config enables."""
    transports: list[Transport] = []
    if config.relay is not None:
        transports.append(RelayTransport(config.relay))
    if config.telegram is not None:
        transports.append(
            TelegramTransport(
                config.telegram, config.city.default_language, secret=load_secret(config)
            )
        )
    if config.matrix is not None:
        from bot.matrix import MatrixTransport

        store = config.resolve_path(config.matrix.store_path)
        transports.append(MatrixTransport(config.matrix, store, config.city.default_language))
    return transports


class Runner:
    """Owns the running pieces of one citybot process."""

    def __init__(self, app: App, transports: list[Transport]) -> None:
        self.app = app
        self.transports = transports
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stop = asyncio.Event()
        self.scheduler = scheduling.Scheduler(app.config, app.sessions, worker=self.worker)
        self.leader = False
        self.tasks: list[asyncio.Task[None]] = []
        self.leader_tasks: list[asyncio.Task[None]] = []
        self.failure: TransportStartError | None = None
        self.watchdog = ShutdownWatchdog(app.config.run.shutdown_seconds)
        self.health = Health(
            self.scheduler, lambda: self.leader, app.sessions, worker=self.worker,
            enabled=app.config.scheduler.enabled,
        )
        self.web: WebServer | None = None

    async def _start_transport(self, transport: Transport) -> bool:
        """Start a transport; one that cannot start safely stops the whole process."""
        try:
            await transport.start(self.app.dispatcher.handle)
        except TransportStartError as error:
            logger.error("transport %s cannot start: %s", transport.name, error)
            self.failure = error
            self.stop.set()
            return False
        return True

    async def _recover_claims(self) -> None:
        """With SQLite there is one process: rows it claimed before a crash are free again."""
        if self.app.engine.dialect.name != "sqlite":
            return
        async with self.app.sessions() as db, db.begin():
            for transport in self.transports:
                released = await outbox.release_claims(db, transport.name)
                if released:
                    logger.info("released claims platform=%s rows=%d", transport.name, released)

    def _start_sender(self, transport: Transport) -> asyncio.Task[None]:
        sender = OutboxSender(self.app.sessions, transport, self.app.config.outbox, self.worker)
        return asyncio.create_task(sender.run(self.stop), name=f"sender-{transport.name}")

    async def _leadership_changed(self, leader: bool) -> None:
        if leader:
            if self.app.config.scheduler.enabled:
                await self.scheduler.start()
            self.leader = True
            for transport in self.transports:
                if transport.leader_only and await self._start_transport(transport):
                    self.leader_tasks.append(self._start_sender(transport))
            return
        self.leader = False
        await self.scheduler.stop(timeout=self.watchdog.remaining() / 2)
        for task in self.leader_tasks:
            task.cancel()
        self.leader_tasks.clear()
        for transport in self.transports:
            if transport.leader_only:
                await transport.stop()

    def _signalled(self) -> None:
        """SIGTERM/SIGINT: stop; the watchdog ends the process at the deadline regardless."""
        if self.stop.is_set():
            force_exit("second stop signal")
        logger.info("stopping within %ss", self.watchdog.seconds)
        self.watchdog.arm()
        self.stop.set()

    def _shares_webhook_server(self) -> bool:
        """Telegram's webhook server already listens on web.listen_host:listen_port."""
        hook = self.app.config.telegram.webhook if self.app.config.telegram else None
        web = self.app.config.web
        return hook is not None and (hook.listen_host, hook.listen_port) == (
            web.listen_host, web.listen_port
        )

    async def _start_web(self) -> None:
        """Serve /healthz and /metrics (unless Telegram's webhook server does on that port)."""
        set_health(self.health.check)
        settings = self.app.config.web
        if not settings.enabled or self._shares_webhook_server():
            return
        server = WebServer(settings.listen_host, settings.listen_port)
        try:
            await server.start()
        except OSError as error:
            raise TransportStartError(
                f"web.listen_port: cannot listen on {settings.listen_host}:{settings.listen_port}"
                f" ({error.strerror or type(error).__name__})"
            ) from None
        self.web = server

    async def _within_deadline(self, step: str, awaitable: Awaitable[object]) -> None:
        """Run one shutdown step with what is left of the budget; give up on it after that."""
        try:
            async with asyncio.timeout(max(0.1, self.watchdog.remaining() - 0.5)):
                await awaitable
        except TimeoutError:
            logger.warning("shutdown step did not finish in time step=%s", step)
        except Exception as error:
            logger.warning("shutdown step failed step=%s error=%s", step, type(error).__name__)

    async def _cancel_tasks(self) -> None:
        """Let senders finish the batch in hand (what is sent is marked sent), then cancel."""
        if self.tasks:
            grace = min(FINISH_SECONDS, self.watchdog.remaining() / 2)
            await asyncio.wait(self.tasks, timeout=grace)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _stop_transports(self) -> None:
        for transport in self.transports:
            await transport.stop()

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT; then stop within run.shutdown_seconds."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._signalled)
        try:
            await self._start_web()
            await self._recover_claims()
            # replies on platforms with an outbox sender are journaled (see Dispatcher.handle)
            self.app.dispatcher.durable = {t.name for t in self.transports}
            # platforms with start links (Telegram) deep-link personal answers asked in groups
            self.app.dispatcher.start_links = {
                t.name: t.start_link for t in self.transports if hasattr(t, "start_link")
            }
            for transport in self.transports:
                if not transport.leader_only and await self._start_transport(transport):
                    self.tasks.append(self._start_sender(transport))
            leadership = Leadership(
                self.app.engine, interval=self.app.config.scheduler.leader_check_seconds
            )
            self.tasks.append(
                asyncio.create_task(leadership.run(self.stop, self._leadership_changed))
            )
            frozen = freeze_startup_objects()  # full collections skip them from here on
            logger.info(
                "citybot running worker=%s transports=%s startup_objects_frozen=%d",
                self.worker,
                [t.name for t in self.transports],
                frozen,
            )
            await self.stop.wait()
        finally:
            await self._within_deadline("scheduler", self._leadership_changed(False))
            await self._within_deadline("tasks", self._cancel_tasks())
            await self._within_deadline("transports", self._stop_transports())
            if self.web is not None:
                await self._within_deadline("web", self.web.stop())
            set_health(None)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            release_startup_objects()
        if self.failure is not None:
            raise self.failure


async def run(config: Config) -> None:
    """Create the app and run it until stopped."""
    app = await create_app(config)
    scheduling.bind(app)
    runner = Runner(app, build_transports(config))
    try:
        await runner.run()
    finally:
        runner.watchdog.arm()  # from here on the process ends within shutdown_seconds
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.1, runner.watchdog.remaining() - 0.2)):
                await app.close()
