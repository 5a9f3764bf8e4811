"""Lost database connections: idle PostgreSQL connections are pinged before use, busy ones are
not, and a turn whose connection was lost runs once more (storage/connection_check.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bot.app import App, create_app
from bot.i18n import translator
from nlu import EmbeddedNLU
from storage import connection_check
from storage.conversations import ProcessedEvent
from tests.conftest import Chat, make_config
from tests.pgcluster import PgInfo

INTERNAL_ERRORS = {translator(lang)("error.internal") for lang in ("de", "en")}
RETRIED = "turn lost its database connection"
_numbers = itertools.count(1)


def texts(replies: list[Any]) -> list[str]:
    """The replies' texts."""
    return [reply.text for reply in replies]


@pytest.fixture
async def pg_app(pg_cluster: PgInfo, tmp_path: Path,
                 nlu_model: EmbeddedNLU) -> AsyncIterator[tuple[App, PgInfo]]:
    """citybot on a fresh PostgreSQL database with the demo data."""
    info = pg_cluster.create_database(f"lost{next(_numbers)}")
    app = await create_app(make_config(tmp_path, info.url()), nlu=nlu_model)
    yield app, info
    await app.close()


@pytest.fixture
def pings(pg_app: tuple[App, PgInfo], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pings the app's engine sends (one entry each)."""
    dialect = pg_app[0].engine.sync_engine.dialect
    sent: list[int] = []
    original = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        sent.append(1)
        return original(dbapi_connection)  # type: ignore[no-any-return]

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


async def drop_connections(info: PgInfo) -> int:
    """The server ends every other session on the database, as a restart would; waits until
    they are gone and returns how many there were."""
    admin = await asyncpg.connect(info.dsn)
    try:
        others = ("SELECT pid FROM pg_stat_activity"
                  " WHERE datname = $1 AND pid <> pg_backend_pid()")
        pids = [row["pid"] for row in await admin.fetch(others, info.database)]
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            if not await admin.fetch(others, info.database):
                break
            await asyncio.sleep(0.05)
        return len(pids)
    finally:
        await admin.close()


async def processed_events(app: App) -> int:
    """How many events are recorded as processed."""
    async with app.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


@pytest.mark.postgres
async def test_a_turn_on_a_connection_the_server_dropped_is_answered(
        pg_app: tuple[App, PgInfo], pings: list[int], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    app, info = pg_app
    chat = Chat(app, "anna", tmp_path)
    assert texts(await chat.say("hallo"))
    before = await processed_events(app)
    assert await drop_connections(info) >= 1  # the pooled connection the turn just used
    with caplog.at_level(logging.WARNING):
        replies = await chat.say("/help")
    assert replies and not INTERNAL_ERRORS & set(texts(replies))
    assert RETRIED in caplog.text  # its first statement failed: the turn ran once more
    assert await processed_events(app) == before + 1  # and committed once
    assert pings == []  # a connection used a moment ago is not pinged


@pytest.mark.postgres
async def test_an_idle_connection_is_pinged_and_replaced_before_use(
        pg_app: tuple[App, PgInfo], pings: list[int], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    app, info = pg_app
    chat = Chat(app, "anna", tmp_path)
    assert texts(await chat.say("hallo"))
    monkeypatch.setattr(connection_check, "PING_AFTER_IDLE_SECONDS", 0.0)  # all count as idle
    assert await drop_connections(info) >= 1
    with caplog.at_level(logging.WARNING):
        replies = await chat.say("/help")
    assert replies and not INTERNAL_ERRORS & set(texts(replies))
    assert pings  # the checkout pinged, found it broken and connected anew
    assert RETRIED not in caplog.text  # so the turn itself never met the lost connection


@pytest.mark.postgres
async def test_busy_turns_send_no_pings(pg_app: tuple[App, PgInfo], pings: list[int],
                                        tmp_path: Path) -> None:
    app, _info = pg_app
    chat = Chat(app, "anna", tmp_path)
    for line in ("hallo", "/help", "danke"):
        assert texts(await chat.say(line))
    assert pings == []


def lost() -> DBAPIError:
    """The error SQLAlchemy raises for a statement on a connection that was lost."""
    return DBAPIError("SELECT 1", None, ConnectionError("gone"), connection_invalidated=True)


def failing_turns(app: App, monkeypatch: pytest.MonkeyPatch,
                  errors: list[BaseException]) -> list[int]:
    """The dispatcher's turns raise the given errors one by one, then run as usual."""
    calls: list[int] = []
    original: Callable[..., Any] = app.dispatcher._turn

    async def turn(*args: Any) -> Any:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return await original(*args)

    monkeypatch.setattr(app.dispatcher, "_turn", turn)
    return calls


async def test_a_turn_that_lost_its_connection_runs_once_more(
        app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = failing_turns(app, monkeypatch, [lost()])
    replies = await Chat(app, "anna", tmp_path).say("/help")
    assert len(calls) == 2
    assert replies and not INTERNAL_ERRORS & set(texts(replies))


async def test_a_turn_runs_once_more_only_once(app: App, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls = failing_turns(app, monkeypatch, [lost(), lost(), lost()])
    replies = await Chat(app, "anna", tmp_path).say("/help")
    assert len(calls) == 2
    assert INTERNAL_ERRORS & set(texts(replies))


async def test_other_errors_are_not_repeated(app: App, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    not_lost = DBAPIError("SELECT 1", None, ValueError("bad"), connection_invalidated=False)
    calls = failing_turns(app, monkeypatch, [not_lost])
    replies = await Chat(app, "anna", tmp_path).say("/help")
    assert len(calls) == 1
    assert INTERNAL_ERRORS & set(texts(replies))
