"""A typed message is read by the NLU before the turn's transaction, once (issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, create_app
from bot.context import Context
from bot.messages import Incoming
from nlu import EmbeddedNLU
from storage.users import User
from tests.conftest import make_config


class WatchedNLU:
    """The real NLU, noting for every parse whether a database connection was in use."""

    def __init__(self, nlu: EmbeddedNLU, fail_first: bool = False) -> None:
        self.nlu = nlu
        self.app: App | None = None
        self.calls: list[tuple[str, int]] = []  # (text, connections checked out)
        self.fail_first = fail_first

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nlu, name)

    async def parse(self, text: str, lang: str | None = None) -> dict[str, Any]:
        assert self.app is not None
        self.calls.append((text, self.app.engine.sync_engine.pool.checkedout()))
        if self.fail_first and len(self.calls) == 1:
            raise TimeoutError("the NLU server did not answer")
        return await self.nlu.parse(text, lang)


async def watched_app(tmp_path: Path, url: str, nlu: WatchedNLU) -> App:
    app = await create_app(make_config(tmp_path, url), nlu=nlu)  # type: ignore[arg-type]
    nlu.app = app
    return app


@pytest.fixture
async def watched(
    database_url: str, tmp_path: Path, nlu_model: EmbeddedNLU
) -> AsyncIterator[tuple[App, WatchedNLU]]:
    nlu = WatchedNLU(nlu_model)
    app = await watched_app(tmp_path, database_url, nlu)
    yield app, nlu
    await app.close()


def _say(text: str, event_id: str, locale: str | None = "en") -> Incoming:
    return Incoming(platform="fake", chat_id="chat-1", user_id="u1", event_id=event_id,
                    text=text, locale=locale)


async def test_a_typed_message_is_parsed_once_before_the_transaction(
    watched: tuple[App, WatchedNLU],
) -> None:
    app, nlu = watched
    replies = await app.dispatcher.handle(_say("any nursing jobs?", "e1"))
    assert nlu.calls == [("any nursing jobs?", 0)], "once, with no connection in use"
    assert "Pflegefachkraft" in replies[0].text, "the job search answered from that reading"
    assert "1 Apply" in [button.label for button in replies[0].buttons]
    await app.dispatcher.handle(_say("/help", "e2"))
    assert len(nlu.calls) == 1, "a command is not read by the NLU"


async def test_the_reading_carries_the_users_language(watched: tuple[App, WatchedNLU]) -> None:
    app, nlu = watched
    reading = await nlu.nlu.parse("any nursing jobs?", "de")
    incoming = _say("any nursing jobs?", "e1")
    ctx = Context(db=None, user=User(language="en"), incoming=incoming,  # type: ignore[arg-type]
                  config=app.config, nlu=nlu, preparsed=reading)  # type: ignore[arg-type]
    parse = await ctx.understand()
    assert nlu.calls == [], "the reading taken before is used, not a second one"
    assert parse["language"] == "en" and parse["intent"] == reading["intent"]
    ctx.set_language("de")
    assert (await ctx.understand())["language"] == "en", "read once per turn"


async def test_a_failed_reading_is_taken_again_inside_the_turn(
    tmp_path: Path, nlu_model: EmbeddedNLU
) -> None:
    nlu = WatchedNLU(nlu_model, fail_first=True)
    app = await watched_app(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", nlu)
    try:
        replies = await app.dispatcher.handle(_say("any nursing jobs?", "e1"))
        assert [checked_out for _, checked_out in nlu.calls] == [0, 1], "again, in the turn"
        assert "Pflegefachkraft" in replies[0].text
    finally:
        await app.close()
