"""Erased means erased: after /deletedata no table and no log line holds anything of the user.

The search is generic: every column of every table the database has (so tables added later
are covered too), including JSON and base64-encoded attachments, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from bot.app import App, create_app
from bot.cli import QUIET_LOGGERS
from bot.config import OutboxConfig
from bot.dispatcher import acknowledge
from bot.messages import Incoming, Reply
from bot.notify import remind
from bot.sender import OutboxSender
from storage.base import utcnow
from storage.jobs import OPEN, Employer, JobPosting
from storage.models import Base
from storage.users import create_invite
from tests.conftest import make_config
from tests.test_outbox import FakeTransport

TELEGRAM_ID = "918273645"
GROUP_ID = "-1005550001"
NAME = "Zerlina Quastenflosser"
APPLICATION = "Ich bringe Erfahrung aus der Wundversorgung mit, Kennwort Schneeeule."
ALERT_TEXT = "benachrichtige mich bei neuen pflegejobs bitte sofort"
BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


class Person:
    """Someone on Telegram, driven through the dispatcher like the transport would."""

    _messages = itertools.count(1)

    def __init__(self, app: App, user_id: str, name: str) -> None:
        self.app = app
        self.user_id = user_id
        self.name = name
        self.last: list[Reply] = []

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        self.last = await self.app.dispatcher.handle(incoming)
        await acknowledge(self.last)  # the transport sent them
        return self.last

    async def say(self, line: str, chat: str | None = None) -> list[Reply]:
        chat = chat or self.user_id
        return await self._handle(
            Incoming(
                platform="telegram",
                chat_id=chat,
                user_id=self.user_id,
                event_id=f"m:{chat}:{next(self._messages)}",
                kind="command" if line.startswith("/") else "text",
                text=line,
                locale="de",
                display_name=self.name,
                is_group=chat.startswith("-"),
            )
        )

    async def press(self, label: str) -> list[Reply]:
        payload = next(b.payload for r in self.last for b in r.buttons if label in b.label)
        return await self._handle(
            Incoming(
                platform="telegram",
                chat_id=self.user_id,
                user_id=self.user_id,
                event_id=f"cb:{self.user_id}:{next(self._messages)}",
                kind="button",
                payload=payload,
                locale="de",
                display_name=self.name,
            )
        )


@pytest.fixture
async def app_on(database_url: str, tmp_path: Path, nlu_model: Any) -> AsyncIterator[App]:
    application = await create_app(make_config(tmp_path, database_url), nlu=nlu_model)
    application.dispatcher.durable = {"telegram"}  # direct answers are journaled, then acked
    yield application
    await application.close()


def _strings(value: Any) -> list[str]:
    """A stored value as the texts it may hide: as is, and its base64 parts decoded."""
    if value is None:
        return []
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)
    found = [raw]
    for chunk in BASE64.findall(raw):
        try:
            decoded = base64.b64decode(chunk + "=" * (-len(chunk) % 4))
            found.append(decoded.decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return found


async def find_anywhere(app: App, needles: list[str]) -> list[str]:
    """Where (table.column) any needle occurs in the database, case-insensitive."""
    wanted = [n.lower() for n in needles]
    hits = []
    async with app.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(Base.metadata.tables) <= set(tables), "every model table is searched"
        for table in tables:
            result = await connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    for shown in _strings(value):
                        hits += [
                            f"{table}.{column}: {n}" for n in wanted if n in shown.lower()
                        ]
    return hits


async def test_erased_user_leaves_no_trace_in_any_table_or_log(app_on: App, caplog) -> None:
    app = app_on
    for noisy in QUIET_LOGGERS:  # as `citybot` sets them up: their DEBUG lines show SQL values
        caplog.set_level(logging.WARNING, logger=noisy)
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level
    zerlina = Person(app, TELEGRAM_ID, NAME)
    await zerlina.say("/start")
    await zerlina.say(ALERT_TEXT)
    await zerlina.press("Sofort")

    async with app.sessions() as db:
        job = await db.scalar(
            select(JobPosting).where(JobPosting.status == OPEN).order_by(JobPosting.id).limit(1)
        )
        employer = await db.get(Employer, job.employer_id)
    await zerlina.say(f"/start job-{job.id}")
    await zerlina.press("Bewerben")
    await zerlina.say(APPLICATION)
    await zerlina.press("Ja, Namen")
    await zerlina.say("ja")
    assert "angekommen" in zerlina.last[-1].text
    await zerlina.say("/help", GROUP_ID)
    await zerlina.say("/mydata", GROUP_ID)  # the export goes to her private chat
    async with app.sessions() as db, db.begin():
        user_id = (await db.scalar(text("SELECT user_id FROM identities")))
        await remind(db, user_id, utcnow() + timedelta(days=1), "privacy.kept")

    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", employer.name)).code
    boss = Person(app, "700000001", "Chefin")
    await boss.say(f"/claim {code}")
    await boss.say("/applications")  # journaled answer, sent directly
    await boss.say("/applications", "-1007770001")  # answered privately through the outbox
    sender = OutboxSender(app.sessions, FakeTransport("telegram"), OutboxConfig(), "w")
    while await sender.drain():
        pass

    needles = [TELEGRAM_ID, NAME, "Zerlina", "Quastenflosser", APPLICATION, "Schneeeule"]
    before = await find_anywhere(app, needles)
    assert any(h.startswith("applications.message") for h in before), before
    assert any(h.startswith("identities.external_id") for h in before), before

    await zerlina.say("/deletedata")
    await zerlina.press("Ja, alles löschen")
    assert "gelöscht" in zerlina.last[0].text

    assert await find_anywhere(app, needles) == []
    logged = caplog.text.lower()
    assert "turn platform=telegram" in logged, "the log was captured"
    assert [n for n in needles if n.lower() in logged] == []
    assert ALERT_TEXT not in logged
