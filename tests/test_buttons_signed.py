"""A pressed button must be one the bot offered in that chat, fit Telegram's 64 bytes, and
act on the object as it is now."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.buttons import CALLBACK_LIMIT, MAX_PAYLOAD, sign, verify
from bot.i18n import translator
from bot.messages import Button
from bot.registry import payload
from storage import jobs
from storage.jobs import Employer, JobPosting
from storage.users import Identity, create_invite
from tests.personas import event, press, signed

EXPIRED = translator("en")("button.expired")
SECRET = b"k" * 32


def test_signed_data_fits_64_bytes_and_verifies_only_in_its_chat():
    longest = "a" * MAX_PAYLOAD
    data = sign(SECRET, "-100123456789", longest)
    assert len(data.encode()) == CALLBACK_LIMIT
    assert verify(SECRET, "-100123456789", data) == longest
    assert verify(SECRET, "42", data) is None, "signed for another chat"
    assert verify(b"other key", "-100123456789", data) is None
    assert verify(SECRET, "42", "account.delete_confirm") is None
    tampered = data[:-1] + "b"
    assert verify(SECRET, "-100123456789", tampered) is None
    assert verify(SECRET, "42", "\ud800" * 20) is None, "junk is refused, not a crash"
    with pytest.raises(ValueError):
        Button("x", "a" * (MAX_PAYLOAD + 1))


async def _users(app) -> int:
    async with app.sessions() as db:
        return await db.scalar(select(func.count()).select_from(Identity))


async def test_a_forged_delete_confirm_erases_nothing(app, chat_en):
    users = await _users(app)
    replies = await press(app, "ben", "account.delete_confirm", forged=True)
    assert [r.text for r in replies] == [EXPIRED]
    assert await _users(app) == users, "nobody was erased"


async def test_delete_confirm_works_only_after_the_question(app, chat_en):
    replies = await press(app, "ben", "account.delete_confirm")  # a button never offered here
    assert replies[0].text == translator("en")("privacy.delete_question"), "asked first"
    assert await _users(app) == 1
    await chat_en.say("/deletedata")
    await chat_en.press("delete")
    assert await _users(app) == 0


async def test_a_button_signed_for_another_chat_is_refused(app, chat_en):
    data = signed(app, "someone-else", payload("lang.set", "de"))
    replies = await app.dispatcher.handle(event("ben", kind="button", payload=data))
    assert [r.text for r in replies] == [EXPIRED]


async def test_details_of_a_closed_posting_say_it_is_closed(app, chat_en):
    async with app.sessions() as db, db.begin():
        job = await db.scalar(select(JobPosting).where(JobPosting.status == jobs.OPEN).limit(1))
        await jobs.close_job(db, job)
        description = job.description
    replies = await press(app, "ben", payload("job.details", job.id))
    assert [r.text for r in replies] == [translator("en")("jobs.closed")]
    assert not any(description in r.text for r in replies)
    link = await chat_en.say(f"/start job-{job.id}")
    assert link[0].text == translator("en")("jobs.closed")
    apply = await press(app, "ben", payload("job.apply", job.id))
    assert apply[0].text == translator("en")("jobs.closed")


LONG_A = "Gemeinnützige Pflege- und Betreuungsgesellschaft: Dortmund-Nord mbH"
LONG_B = "Gemeinnützige Pflege- und Betreuungsgesellschaft Dortmund-Süd mbH & Co. KG"


async def test_an_employer_of_two_long_named_organisations_can_post(app, chat_factory):
    assert len(LONG_A.encode()) > 52 and ":" in LONG_A
    boss = chat_factory("boss", "en")
    await boss.say("/language en")
    for org in (LONG_A, LONG_B):
        async with app.sessions() as db, db.begin():
            code = (await create_invite(db, "employer", org)).code
        await boss.say(f"/claim {code}")
    await boss.say("/postjob")
    labels = boss.labels()
    assert LONG_A in labels and LONG_B in labels
    await boss.press(LONG_A)
    for answer in (
        "Pflegefachkraft (m/w/d)",
        "nursing",
        "Innenstadt-West",
        "full-time",
        "Pflege unserer Bewohnerinnen und Bewohner im Tagdienst.",
        "jobs@pflege-nord.example",
    ):
        await boss.say(answer)
    await boss.press("Confirm")
    assert "Published" in boss.last().text, boss.text()
    async with app.sessions() as db:
        job = await db.scalar(
            select(JobPosting).where(JobPosting.title == "Pflegefachkraft (m/w/d)")
        )
        employer = await db.get(Employer, job.employer_id)
    assert employer.name == LONG_A
