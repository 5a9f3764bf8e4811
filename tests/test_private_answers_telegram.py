"""Telegram: personal answers asked for in a group arrive in the private chat (fake Bot API)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.i18n import translator
from storage.jobs import OPEN, Employer, JobPosting
from storage.users import create_invite
from tests.fake_bot_api import FakeBotAPI, Sent
from tests.test_telegram_e2e import Telegram, drain_all, new_user

de = translator("de")
GROUP_ID = -1009876543210


@pytest.fixture
async def tg(app: App, fake: FakeBotAPI) -> Any:
    harness = Telegram(app, fake, "polling")
    transport = await harness.start()
    app.dispatcher.start_links["telegram"] = transport.start_link  # as `citybot run` wires it
    yield harness
    await harness.stop()


def url_buttons(sent: Sent) -> list[tuple[str, str]]:
    markup = sent.message.get("reply_markup") or {}
    return [(b["text"], b["url"]) for row in markup.get("inline_keyboard", []) for b in row]


def everything(sent: list[Sent]) -> str:
    return json.dumps([s.message for s in sent], ensure_ascii=False)


async def test_mydata_in_a_group_arrives_in_the_private_chat(tg: Telegram) -> None:
    anna = new_user("de", "Annabell")
    await tg.say(anna, "/start")
    group = tg.fake.group_chat(GROUP_ID)
    in_group = await tg.say(anna, "/mydata", group)
    assert [s.text for s in in_group] == [de("private.sent")]
    assert all(s.method == "sendMessage" and s.chat_id == GROUP_ID for s in in_group)
    assert str(anna.id) not in everything(in_group) and "Annabell" not in everything(in_group)

    assert tg.transport is not None
    await drain_all(tg.app, tg.transport)
    [document] = [s for s in tg.fake.sent_to(anna.id) if s.method == "sendDocument"]
    assert document.message["document"]["file_name"] == "citybot-my-data.json"
    assert not [s for s in tg.fake.sent_to(GROUP_ID) if s.method == "sendDocument"]


async def test_a_user_who_never_started_the_bot_gets_a_deep_link(tg: Telegram) -> None:
    ben = new_user("en", "Ben")
    group = tg.fake.group_chat(GROUP_ID)
    [answer] = await tg.say(ben, "/mydata", group)
    assert answer.chat_id == GROUP_ID
    assert answer.text == translator("en")("private.start")
    [(label, url)] = url_buttons(answer)
    assert label == translator("en")("button.open_private")
    assert url.startswith(f"https://t.me/{tg.fake.username}?start=private-")
    assert tg.fake.sent_to(ben.id) == [], "the bot does not write to someone who never started it"

    payload = url.rpartition("?start=")[2]
    delivered = await tg.say(ben, f"/start {payload}")  # what Telegram sends after the tap
    [document] = [s for s in delivered if s.method == "sendDocument"]
    assert document.chat_id == ben.id
    assert dict(document.buttons), "the export's delete button comes along"


async def test_employers_applications_in_a_group_go_privately(tg: Telegram) -> None:
    app = tg.app
    async with app.sessions() as db:
        job = await db.scalar(
            select(JobPosting).where(JobPosting.status == OPEN).order_by(JobPosting.id).limit(1)
        )
        employer = await db.get(Employer, job.employer_id)
    applicant = new_user("de", "Hildegard")
    details = await tg.say(applicant, f"/start job-{job.id}")
    await tg.press(applicant, details[-1], "Bewerben")
    await tg.say(applicant, "Ich arbeite seit zwölf Jahren in der Altenpflege in Hörde.")
    await tg.say(applicant, "0231 98765")  # how the employer reaches her
    consent = tg.fake.sent_to(applicant.id)[-1]
    await tg.press(applicant, consent, "Ja, Namen weitergeben")
    await tg.say(applicant, "ja")
    assert "angekommen" in tg.fake.sent_to(applicant.id)[-1].text

    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", employer.name)).code
    boss = new_user("de", "Chefin")
    await tg.say(boss, f"/claim {code}")
    group = tg.fake.group_chat(GROUP_ID)
    in_group = await tg.say(boss, "/applications", group)
    assert [s.text for s in in_group] == [de("private.sent")]
    assert tg.transport is not None
    await drain_all(app, tg.transport)
    group_sees = everything(tg.fake.sent_to(GROUP_ID))
    assert "Hildegard" not in group_sees and "Altenpflege" not in group_sees
    boss_sees = everything(tg.fake.sent_to(boss.id))
    assert "Hildegard" in boss_sees and "zwölf Jahren in der Altenpflege" in boss_sees
