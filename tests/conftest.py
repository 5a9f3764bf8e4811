"""Shared fixtures: the trained NLU, a throwaway PostgreSQL, apps on SQLite/PostgreSQL, a chat."""

from __future__ import annotations

import fcntl
import itertools
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import App, create_app, prepare_database
from bot.config import Config, config_from_mapping
from bot.console import ConsoleTransport, render
from bot.listing import INDENT, list_turn
from bot.messages import Reply, takes_a_number
from bot.registry import registry, split_payload
from nlu import EmbeddedNLU, default_data_dir
from storage.db import session_factory
from tests.fake_bot_api import FakeBotAPI
from tests.personas import role_chat
from tests.pgcluster import PgInfo, PostgresUnavailable, binaries_present, throwaway_postgres

IN_CI = os.environ.get("CI", "").lower() == "true"
_database_numbers = itertools.count(1)


def shared_nlu_cache(factory: pytest.TempPathFactory) -> Path:
    """The NLU cache every test and every citybot process of the session uses (trained once,
    by one of the session's xdist workers: the folder above a worker's own temporary folder
    is the session's).

    $CITYBOT_TEST_NLU_CACHE keeps it across runs (the cache is keyed by a hash of the data).
    """
    kept = os.environ.get("CITYBOT_TEST_NLU_CACHE")
    if kept:
        return Path(kept)
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "nlu-test-cache"


def trained_nlu(cache: Path, **options: Any) -> EmbeddedNLU:
    """The embedded NLU from the demo data in the shared cache; one worker at a time trains,
    the others wait and load what it cached (instead of all training at once)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "training.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return EmbeddedNLU.from_data(default_data_dir(), cache_dir=cache, **options)


@pytest.fixture(scope="session")
def nlu_model(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    """The embedded NLU trained once for the whole test session."""
    return trained_nlu(shared_nlu_cache(tmp_path_factory), threshold=0.45)


@pytest.fixture(scope="session")
def nlu_cache_dir(tmp_path_factory: pytest.TempPathFactory, nlu_model: EmbeddedNLU) -> Path:
    """shared_nlu_cache with the NLU trained in it: a citybot process a test starts loads it
    instead of training it itself (beside a worker training it, past the test's wait)."""
    return shared_nlu_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgInfo]:
    """A real PostgreSQL for the session; skipped outside CI when the binaries are missing."""
    if not binaries_present():
        if IN_CI:
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl, postgres) missing in CI")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl, postgres) not installed")
    try:
        with throwaway_postgres() as info:
            yield info
    except PostgresUnavailable as error:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL could not start: {error}")


def make_config(base_dir: Path, url: str, **overrides: object) -> Config:
    """A test config: the given database, no NLU cache on disk."""
    raw: dict[str, object] = {"storage": {"url": url}, "nlu": {"cache_dir": None}}
    raw.update(overrides)
    return config_from_mapping(raw, base_dir)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: an SQLite file, or a new database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}"
    cluster: PgInfo = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{next(_database_numbers)}").url()


@pytest.fixture
async def bare_sessions(database_url: str, tmp_path: Path
                        ) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database without demo data (database_url's), and its session factory."""
    engine = await prepare_database(make_config(tmp_path, database_url), seed=False)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram Bot API on 127.0.0.1 (tests/fake_bot_api.py), stopped afterwards."""
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head with the demo data, built once per session."""
    folder = tmp_path_factory.mktemp("seeded")
    path = folder / "citybot.db"
    engine = await prepare_database(make_config(folder, f"sqlite+aiosqlite:///{path}"))
    await engine.dispose()
    return path


@pytest.fixture
async def app(tmp_path: Path, nlu_model: EmbeddedNLU, seeded_sqlite: Path) -> AsyncIterator[App]:
    """citybot on a fresh SQLite file with the demo data (a copy of the session's seeded file:
    25 ms instead of 1.5 s of migrations and demo data per test)."""
    shutil.copyfile(seeded_sqlite, tmp_path / "citybot.db")
    config = make_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'citybot.db'}")
    application = await create_app(config, nlu=nlu_model)
    yield application
    await application.close()


class Chat:
    """Drives the console transport like a person: say a line, press a button, read replies."""

    def __init__(self, app: App, user: str, files_dir: Path, language: str | None = None) -> None:
        self.app = app
        self.transport = ConsoleTransport(user, files_dir, language=language)
        self.turns: list[list[Reply]] = []

    async def say(self, line: str) -> list[Reply]:
        """Send one input line (text, /command or a button number) and keep the replies."""
        replies = await self.app.dispatcher.handle(self.transport.incoming(line))
        self.turns.append(replies)
        return replies

    async def press(self, label: str) -> list[Reply]:
        """Press the first offered button of the last turn whose label contains label: by its
        number, or on a list page (where numbers name items) or for an action a bare number
        only asks to confirm (by_number=False) by typing its label."""
        buttons = [b for r in self.turns[-1] for b in r.buttons]
        listing = list_turn(buttons)
        numbers = {id(b): n for n, b in enumerate(filter(takes_a_number, buttons), 1)}
        for exact in (True, False):
            for button in buttons:
                found = button.label.lower()
                if label.lower() == found or (not exact and label.lower() in found):
                    number = numbers.get(id(button))  # a form's Cancel: by its label
                    route = registry.buttons.get(split_payload(button.payload)[0])
                    by_number = number and not listing and (route is None or route.by_number)
                    return await self.say(str(number) if by_number else button.label)
        raise AssertionError(f"no button {label!r} in {[b.label for b in buttons]}")

    def last(self) -> Reply:
        """The last reply of the last turn."""
        return self.turns[-1][-1]

    def text(self) -> str:
        """The last turn as the terminal shows it."""
        return render(self.turns[-1], self.transport.files_dir)

    def labels(self) -> list[str]:
        """The button labels of the last turn."""
        return [b.label for r in self.turns[-1] for b in r.buttons]


def page_items(reply: Reply) -> dict[int, str]:
    """The numbered items of a list page (bot/listing.py): number -> text, continuation lines
    unindented."""
    items: dict[int, str] = {}
    for block in reply.text.split("\n\n"):
        for line in block.split("\n"):
            match = re.match(r"(\d+)\. (.*)", line)
            if match:
                number = int(match.group(1))
                items[number] = match.group(2)
            elif items and line.startswith(INDENT):
                items[number] += "\n" + line[len(INDENT) :]
    return items


@pytest.fixture
def chat_factory(app: App, tmp_path: Path) -> Callable[..., Chat]:
    """Make chats for several users on the same app."""

    def make(user: str = "anna", language: str | None = "de") -> Chat:
        chat = Chat(app, user, tmp_path / "files", language)
        return chat

    return make


@pytest.fixture
async def chat(chat_factory: Callable[..., Chat]) -> Chat:
    """A German-speaking citizen in the console."""
    c = chat_factory("anna", "de")
    await c.say("/language de")
    return c


@pytest.fixture
async def chat_en(chat_factory: Callable[..., Chat]) -> Chat:
    """An English-speaking citizen in the console."""
    c = chat_factory("ben", "en")
    await c.say("/language en")
    return c


# --- PPE roles (tests/test_chat_ppe.py, tests/test_ppe_round4.py) ---------------------------


@pytest.fixture
async def staff(app: App, chat_factory: Callable[..., Chat]) -> Chat:
    """A teacher of the Grundschule am Park (school staff), German."""
    return await role_chat(app, chat_factory, "lehrerin", "de", "school_staff",
                           "grundschule-am-park")


@pytest.fixture
async def feuerwehr(app: App, chat_factory: Callable[..., Chat]) -> Chat:
    """A PPE requester of the fire brigade, German."""
    return await role_chat(app, chat_factory, "fw", "de", "ppe_requester", "feuerwehr")


@pytest.fixture
async def health_en(app: App, chat_factory: Callable[..., Chat]) -> Chat:
    """A PPE requester of the health office, English."""
    return await role_chat(app, chat_factory, "ga", "en", "ppe_requester", "gesundheitsamt")


@pytest.fixture
async def coordinator(app: App, chat_factory: Callable[..., Chat]) -> Chat:
    """A PPE coordinator, German."""
    return await role_chat(app, chat_factory, "koord", "de", "ppe_coordinator")
