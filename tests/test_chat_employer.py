"""Employers: claim the role with an invite code, post a vacancy, see and close postings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.jobs import JobPosting
from storage.outbox import OutboxMessage
from storage.users import create_invite
from tests.conftest import page_items
from tests.personas import signed


async def _code(app, role: str = "employer", org: str | None = "Pflegedienst Sonnenschein") -> str:
    async with app.sessions() as db, db.begin():
        return (await create_invite(db, role, org)).code


@pytest.fixture
async def employer(app, chat_factory):
    boss = chat_factory("pflegedienst", "de")
    await boss.say("/language de")
    await boss.say(f"/claim {await _code(app)}")
    assert "Pflegedienst Sonnenschein" in boss.last().text
    return boss


async def test_citizen_cannot_post_a_job_and_is_told_why(chat):
    await chat.say("/postjob")
    assert "Arbeitgeber" in chat.last().text and "/claim" in chat.last().text


async def test_invite_code_works_once(app, chat, chat_factory):
    code = await _code(app)
    await chat.say(f"/claim {code.lower().replace('-', '')}")
    assert "Arbeitgeber" in chat.last().text
    other = chat_factory("other", "de")
    await other.say(f"/claim {code}")
    assert "schon verwendet" in other.last().text
    await other.say("/claim ZZZZ-ZZZZ")
    assert "gibt es nicht" in other.last().text


async def test_employer_posts_a_vacancy_through_the_form(app, employer, chat):
    await employer.say("wir suchen dringend zwei pflegekräfte")
    assert "Wie heißt die Stelle" in employer.last().text
    await employer.say("Pflegehelfer (m/w/d) Frühdienst")
    assert "In welchem Bereich" not in employer.last().text, "field came from the message"
    assert "Stadtteil" in employer.last().text
    await employer.say("Dortmund")  # the city, not "Lütgendortmund": asked again
    assert "Stadtteil" in employer.last().text and "Art der Anstellung" not in employer.text()
    await employer.say("hörde")
    assert "Art der Anstellung" in employer.last().text
    await employer.press("Teilzeit")
    await employer.say("Unterstützung in der Grundpflege im Frühdienst, 25 Stunden pro Woche.")
    await employer.say("keine ahnung")
    assert "E-Mail-Adresse oder Telefonnummer" in employer.turns[-1][0].text
    await employer.say("jobs@sonnenschein.example")
    summary = employer.last().text
    assert "Pflegehelfer (m/w/d) Frühdienst" in summary and "Hörde" in summary
    await employer.press("Bestätigen")
    assert "Veröffentlicht" in employer.last().text
    async with app.sessions() as db:
        job = await db.scalar(select(JobPosting).where(JobPosting.title.like("Pflegehelfer%Früh%")))
    assert job is not None
    assert (job.field, job.district, job.employment_type) == ("nursing", "Hörde", "part_time")

    await chat.say("teilzeit pflege in hörde")
    assert any("Pflegehelfer (m/w/d) Frühdienst" in r.text for r in chat.turns[-1])


async def test_employer_sees_and_closes_postings(app, employer, chat):
    await employer.say("/postjob")
    for answer in (
        "IT-Support (m/w/d)",
        "IT",
        "Innenstadt",
        "Vollzeit",
        "Betreuung unserer Arbeitsplätze und Drucker im Büro.",
        "0231 123456",
        "ja",
    ):
        await employer.say(answer)
    assert "Veröffentlicht" in employer.last().text
    await chat.say("it jobs innenstadt vollzeit")  # a citizen applies
    number = next(n for n, text in page_items(chat.last()).items() if "IT-Support" in text)
    await chat.press(f"{number} Bewerben")
    await chat.say("Ich kenne mich mit Druckern aus, Tel 0231 998877")
    await chat.press("Nein, anonym")
    await chat.press("Bestätigen")
    await chat.say("meine bewerbungen")
    assert "IT-Support (m/w/d)" in chat.last().text and "Stelle offen" in chat.last().text
    await employer.say("/myjobs")
    [page] = employer.turns[-1]  # the postings in one message, a close button per open one
    number = next(n for n, text in page_items(page).items() if "IT-Support (m/w/d)" in text)
    await employer.press(f"{number} Stelle schließen")
    assert "geschlossen" in employer.last().text and employer.last().text.endswith(": 1.")
    async with app.sessions() as db:
        job = await db.scalar(select(JobPosting).where(JobPosting.title == "IT-Support (m/w/d)"))
        told = await db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "anna"))
        texts = [m.payload[0]["text"] for m in told]
    assert job is not None and job.status == "closed"
    assert any("IT-Support (m/w/d)" in t and "jetzt geschlossen" in t for t in texts), texts
    await chat.say("it jobs innenstadt vollzeit")
    assert not any("IT-Support (m/w/d)" in r.text for r in chat.turns[-1])
    await chat.say("/myapplications")
    assert "Stelle geschlossen" in chat.last().text
    await employer.say("/applications")
    assert f"#{job.id} IT-Support (m/w/d) (Stelle geschlossen)" in employer.last().text
    await employer.say("/myjobs")
    closed = next(n for n, text in page_items(employer.last()).items() if "IT-Support" in text)
    await employer.say(str(closed))  # listed, no action: said (before: "bitte eine von 1 bis …")
    assert employer.last().text.startswith(f"Zu Nummer {closed} („#{job.id} IT-Support")
    assert "nichts zu tun" in employer.last().text


async def test_employer_cannot_close_someone_elses_posting(app, employer):
    async with app.sessions() as db:
        other_job = await db.scalar(select(JobPosting).limit(1))
    assert other_job is not None
    from bot.messages import Incoming

    event = Incoming(
        platform="console",
        chat_id="pflegedienst",
        user_id="pflegedienst",
        event_id="close-foreign",
        kind="button",
        payload=signed(app, "pflegedienst", f"job.close:{other_job.id}"),
    )
    replies = await app.dispatcher.handle(event)
    assert "Arbeitgeber" in replies[0].text
    async with app.sessions() as db:
        assert (await db.get(JobPosting, other_job.id)).status == "open"


async def test_bad_contact_is_rejected(employer):
    await employer.say("/postjob")
    for answer in (
        "Koch (m/w/d)",
        "Gastronomie",
        "Innenstadt",
        "Minijob",
        "Kochen in unserer Kantine, montags bis freitags mittags.",
    ):
        await employer.say(answer)
    await employer.say("ruft einfach an")
    assert "sieht nicht nach" in employer.turns[-1][0].text


async def test_asking_to_change_a_posting_says_how_instead_of_starting_a_new_one(employer):
    await employer.say("ich möchte meine stellenanzeige ändern")  # before: a new posting's form
    assert "lässt sich nicht ändern" in employer.last().text and "/myjobs" in employer.last().text
    await employer.say("wie kann ich die beschreibung bearbeiten")  # no title of a new posting
    assert "Wie heißt die Stelle" not in employer.text()
    await employer.say("wir suchen eine pflegefachkraft")  # a new posting still starts
    assert "Wie heißt die Stelle" in employer.last().text
