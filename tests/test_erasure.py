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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

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
from storage.parent_evenings import Registration
from storage.ppe import PPERequest
from storage.shop_updates import ShopFollower
from storage.users import Identity, create_invite
from storage.vouchers import Voucher
from tests.conftest import make_config
from tests.personas import signed
from tests.test_outbox import FakeTransport

TELEGRAM_ID = "918273645"
GROUP_ID = "-1005550001"
NAME = "Zerlina Quastenflosser"
APPLICATION = "Ich bringe Erfahrung aus der Wundversorgung mit, Kennwort Schneeeule. 0171 2345678"
ALERT_TEXT = "benachrichtige mich bei neuen pflegejobs bitte sofort"
PPE_NOTE = "Bitte bei Frau Quastenflosser an der Kranichpforte abgeben"
VOUCHER_CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
SERVICE_ROWS = {"shop_followers": 1, "vouchers": 1, "evening_registrations": 1, "ppe_requests": 1}
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
                payload=signed(self.app, self.user_id, payload),
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


async def use_the_new_services(app: App, person: Person) -> None:
    """She follows a shop, buys a voucher, registers for a parent evening, requests PPE."""
    await person.say("/follow cafe rosa")
    assert "Du folgst jetzt Café Rosa" in person.last[-1].text
    await person.say("ich möchte einen gutschein über 25 euro für café rosa")
    await person.say("ja")
    assert VOUCHER_CODE.search(person.last[-1].text), person.last[-1].text
    await person.say("/evenings goethe")
    await person.press("1 Anmelden")
    assert "Du bist angemeldet" in person.last[0].text
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "ppe_requester", "feuerwehr")).code
    await person.say(f"/claim {code}")
    await person.say("/ppe 200 ffp2 masken")
    await person.say((date.today() + timedelta(days=5)).strftime("%d.%m.%Y"))
    await person.press("Normal")
    assert "Notiz" in person.last[-1].text
    await person.say(PPE_NOTE)
    await person.press("Bestätigen")
    assert "PSA-" in person.last[-1].text


async def _user_id(app: App) -> int:
    async with app.sessions() as db:
        return await db.scalar(
            select(Identity.user_id).where(Identity.external_id == TELEGRAM_ID)
        )


async def _rows_of(app: App, user_id: int) -> dict[str, int]:
    """How many rows of each new service belong to (or were made by) the user."""
    queries = {
        "shop_followers": select(ShopFollower).where(ShopFollower.user_id == user_id),
        "vouchers": select(Voucher).where(Voucher.buyer_id == user_id),
        "evening_registrations": select(Registration).where(Registration.user_id == user_id),
        "ppe_requests": select(PPERequest).where(PPERequest.requested_by == user_id),
    }
    async with app.sessions() as db:
        return {
            name: int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
            for name, query in queries.items()
        }


async def test_erased_user_leaves_no_trace_in_any_table_or_log(app_on: App, caplog) -> None:
    app = app_on
    for noisy in QUIET_LOGGERS:  # as `citybot` sets them up: their DEBUG lines show SQL values
        caplog.set_level(logging.WARNING, logger=noisy)
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level
    zerlina = Person(app, TELEGRAM_ID, NAME)
    await zerlina.say("/start")
    await zerlina.say(ALERT_TEXT)  # "sofort" said: saved at once, not asked

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
    await use_the_new_services(app, zerlina)
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
    needles += [PPE_NOTE, "Kranichpforte"]
    before = await find_anywhere(app, needles)
    assert any(h.startswith("applications.message") for h in before), before
    assert any(h.startswith("identities.external_id") for h in before), before
    assert any(h.startswith("ppe_requests.note") for h in before), before
    user_id = await _user_id(app)
    assert await _rows_of(app, user_id) == SERVICE_ROWS, "she uses every service"

    await zerlina.say("/deletedata")
    await zerlina.press("Ja, alles löschen")
    assert "gelöscht" in zerlina.last[0].text

    assert await find_anywhere(app, needles) == []
    assert await _rows_of(app, user_id) == dict.fromkeys(SERVICE_ROWS, 0)
    logged = caplog.text.lower()
    assert "turn platform=telegram" in logged, "the log was captured"
    assert [n for n in needles if n.lower() in logged] == []
    assert ALERT_TEXT not in logged
