"""Wiring: config -> database (migrated, demo data) -> NLU with catalogue -> dispatcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import handlers
from bot.config import Config
from bot.dispatcher import Dispatcher
from nlu import EmbeddedNLU, default_data_dir
from storage import migrate
from storage.db import create_engine, session_factory, wal_checkpointer
from storage.demo import CATALOGUES, is_empty, load_demo
from storage.wal_checkpoint import WalCheckpointer

logger = logging.getLogger(__name__)


@dataclass
class App:
    """A running citybot: engine, sessions, NLU and dispatcher."""

    config: Config
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nlu: EmbeddedNLU
    dispatcher: Dispatcher
    checkpointer: WalCheckpointer | None = None  # SQLite: WAL checkpoints off the turns

    async def refresh_catalogue(self) -> None:
        """Reload the database-backed NLU catalogue (districts; later shops and schools)."""
        await load_catalogue(self.nlu, self.sessions)

    async def close(self) -> None:
        """Stop the WAL checkpoints and release the database connections."""
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.engine.dispose()


async def prepare_database(config: Config, *, seed: bool | None = None) -> AsyncEngine:
    """Create the engine, apply migrations, load demo data into an empty database if enabled."""
    engine = create_engine(config.database_url, echo=config.storage.echo_sql)
    await migrate.upgrade(engine)
    if seed if seed is not None else config.storage.demo_data:
        async with session_factory(engine)() as db, db.begin():
            if await is_empty(db):
                counts = await load_demo(db)
                logger.info("demo data loaded %s", counts)
    return engine


async def load_catalogue(nlu: EmbeddedNLU, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Fill the NLU catalogue (location, shop, school entities) from the database."""
    import storage.models  # noqa: F401  (every storage module registers its catalogue)

    async with sessions() as db:
        for entity, source in CATALOGUES.items():
            nlu.catalogue.replace(entity, await source(db))


async def catalogue_from_database(config: Config, nlu: EmbeddedNLU) -> None:
    """Load the catalogue of the configured database (migrated and seeded like `chat`)."""
    engine = await prepare_database(config)
    try:
        await load_catalogue(nlu, session_factory(engine))
    finally:
        await engine.dispose()


def build_nlu(config: Config) -> EmbeddedNLU:
    """Train (or load from cache) the embedded NLU; with `nlu.backend: rasa` wrap it.

    The Rasa backend (nlu.rasa_backend.RasaNLU) has the same parse, parse_sync and
    catalogue; the embedded model answers whenever the server does not.
    """
    cache = config.resolve_path(config.nlu.cache_dir) if config.nlu.cache_dir else None
    embedded = EmbeddedNLU.from_data(
        default_data_dir(), threshold=config.nlu.threshold, cache_dir=cache,
        sentence_vectors=config.nlu.sentence_vectors,
    )
    embedded.extractor.timezone = config.city.timezone  # dates resolved in the city's zone
    if config.nlu.backend == "rasa":
        from nlu.rasa_backend import RasaNLU

        rasa = config.nlu.rasa
        return RasaNLU(rasa.url, embedded, timeout=rasa.timeout)  # type: ignore[return-value]
    return embedded


async def create_app(
    config: Config, *, seed: bool | None = None, nlu: EmbeddedNLU | None = None
) -> App:
    """Everything citybot needs to answer messages."""
    handlers.load_all()
    engine = await prepare_database(config, seed=seed)
    sessions = session_factory(engine)
    nlu = nlu or build_nlu(config)
    app = App(config, engine, sessions, nlu, Dispatcher(sessions, config, nlu),
              wal_checkpointer(engine))
    await app.refresh_catalogue()
    if app.checkpointer is not None:
        app.checkpointer.start()
    return app
