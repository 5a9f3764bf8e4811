"""`citybot run`: the long-running bot – transports, outbox senders, leader and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid

import bot.scheduled  # noqa: F401  (registers the platform's recurring jobs)
from bot import scheduler as scheduling
from bot.app import App, create_app
from bot.config import Config
from bot.keys import load_secret
from bot.leader import Leadership
from bot.relay import RelayTransport
from bot.sender import OutboxSender
from bot.telegram import TelegramTransport
from bot.transport import Transport, TransportStartError
from storage import outbox

logger = logging.getLogger(__name__)


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
        self.scheduler = scheduling.Scheduler(app.config)
        self.tasks: list[asyncio.Task[None]] = []
        self.leader_tasks: list[asyncio.Task[None]] = []
        self.failure: TransportStartError | None = None

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
                self.scheduler.start()
            for transport in self.transports:
                if transport.leader_only and await self._start_transport(transport):
                    self.leader_tasks.append(self._start_sender(transport))
            return
        self.scheduler.stop()
        for task in self.leader_tasks:
            task.cancel()
        self.leader_tasks.clear()
        for transport in self.transports:
            if transport.leader_only:
                await transport.stop()

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        await self._recover_claims()
        # replies on platforms with an outbox sender are journaled (see Dispatcher.handle)
        self.app.dispatcher.durable = {t.name for t in self.transports}
        # platforms with start links (Telegram) deep-link personal answers asked for in groups
        self.app.dispatcher.start_links = {
            t.name: t.start_link for t in self.transports if hasattr(t, "start_link")
        }
        for transport in self.transports:
            if not transport.leader_only and await self._start_transport(transport):
                self.tasks.append(self._start_sender(transport))
        leadership = Leadership(
            self.app.engine, interval=self.app.config.scheduler.leader_check_seconds
        )
        self.tasks.append(asyncio.create_task(leadership.run(self.stop, self._leadership_changed)))
        logger.info(
            "citybot running worker=%s transports=%s",
            self.worker,
            [t.name for t in self.transports],
        )
        await self.stop.wait()
        await self._leadership_changed(False)
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for transport in self.transports:
            await transport.stop()
        if self.failure is not None:
            raise self.failure


async def run(config: Config) -> None:
    """Create the app and run it until stopped."""
    app = await create_app(config)
    scheduling.bind(app)
    try:
        await Runner(app, build_transports(config)).run()
    finally:
        await app.close()
