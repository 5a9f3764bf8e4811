"""Jobs, QA round 5: employers' words about their postings, talk that is no search word,
a misspelt field, and the alert timing in words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import jobs
from storage.jobs import JobAlert, JobPosting
from storage.users import create_invite
from tests.conftest import page_items

ORG = "Pflegedienst Sonnenschein"


async def _post(app, title: str, field: str = "retail") -> int:
    async with app.sessions() as db, db.begin():
        employer = await jobs.get_or_create_employer(db, ORG)
        job = await jobs.post_job(
            db, employer, title=title, field=field, employment_type="part_time",
            district="Hörde", description="Kasse, Regale, Kundschaft – 20 Stunden pro Woche.",
            contact="0231 123456",
        )
        return job.id


async def _status(app, job_id: int) -> str:
    async with app.sessions() as db:
        return (await db.get(JobPosting, job_id)).status


async def _employer(app, chat_factory, language: str):
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", ORG)).code
    boss = chat_factory(f"boss-{language}", language)
    await boss.say(f"/language {language}")
    await boss.say(f"/claim {code}")
    assert ORG in boss.last().text
    return boss


@pytest.fixture
async def boss(app, chat_factory):
    return await _employer(app, chat_factory, "de")


@pytest.fixture
async def boss_en(app, chat_factory):
    return await _employer(app, chat_factory, "en")


async def test_closing_a_posting_by_its_title_asks_to_confirm_and_closes_it(app, boss):
    cashier = await _post(app, "Kassierer (m/w/d)")
    await _post(app, "Pflegehelfer (m/w/d)", "nursing")
    await boss.say("ich möchte die stelle kassierer schließen")
    text = boss.text()
    assert "Wie heißt die Stelle" not in text
    assert f"Soll ich die Stelle „Kassierer (m/w/d)“ (#{cashier}) schließen?" in text
    assert await _status(app, cashier) == "open"
    await boss.say("ja")
    assert "„Kassierer (m/w/d)“ ist geschlossen" in boss.last().text
    assert await _status(app, cashier) == "closed"


async def test_closing_a_posting_in_english_names_it_by_its_words(app, boss_en):
    await _post(app, "Kassierer (m/w/d)")
    helper = await _post(app, "Warehouse helper (m/f/d)", "logistics")
    await boss_en.say("close the warehouse helper posting")
    assert f"close the posting “Warehouse helper (m/f/d)” (#{helper})" in boss_en.text()
    await boss_en.press("Yes, close posting")
    assert await _status(app, helper) == "closed"


async def test_deleting_an_unnamed_posting_shows_the_postings_with_their_close_buttons(
    app, boss_en
):
    await _post(app, "Kassierer (m/w/d)")
    await _post(app, "Warehouse helper (m/f/d)", "logistics")
    await boss_en.say("I want to delete my job ad")
    text = boss_en.text()
    assert "Which posting shall I close?" in text and "/myjobs" in text
    assert "What is the position called" not in text
    assert boss_en.labels().count("1 Close posting") == 1 and "2 Close posting" in boss_en.labels()


async def test_an_employer_without_open_postings_is_told_so_when_closing(boss):
    await boss.say("ich möchte die stelle kassierer schließen")
    assert "keine offene Stelle" in boss.last().text
    assert "Wie heißt die Stelle" not in boss.text()


async def test_an_employer_asks_for_the_applications_and_postings_in_words(app, boss, chat):
    await _post(app, "Kassierer (m/w/d)")
    await chat.say("einzelhandel in hörde")
    number = next(n for n, t in page_items(chat.last()).items() if "Kassierer" in t)
    await chat.press(f"{number} Bewerben")
    await chat.say("Ich habe fünf Jahre an der Kasse gearbeitet, Tel 0231 998877")
    await chat.press("Nein, anonym")
    await chat.press("Bestätigen")
    await boss.say("zeig mir die bewerbungen")
    assert "keine Stelle gefunden" not in boss.text()
    assert "Kassierer (m/w/d)" in boss.text() and "fünf Jahre an der Kasse" in boss.text()
    await boss.say("meine stellenanzeigen")
    assert boss.turns[-1][0].text.startswith("Eure Stellen (1):")
    assert "Kassierer (m/w/d)" in boss.text()


async def test_a_job_seeker_saying_my_applications_still_gets_their_own(chat):
    await chat.say("meine bewerbungen")
    assert "noch auf keine Stelle beworben" in chat.last().text


@pytest.mark.parametrize(
    ("message", "not_searched"),
    [
        ("danke! gibt es auch jobs im einzelhandel?", ["danke"]),
        ("servus, gibts hier au arbeit als altenpflegerin in hörde?", ["servus"]),
        (
            "Hallo liebes Team, ich wollte mal fragen, ob es seit kurzem Stellen im Bereich "
            "Pflege in der Nordstadt gibt. Grüße, Petra",
            ["liebes", "team", "seit", "kurzem", "bereich", "grüße", "petra"],
        ),
    ],
)
async def test_greetings_thanks_and_politeness_are_no_search_words(chat, message, not_searched):
    await chat.say(message)
    text = chat.text()
    assert "Stelle" in text
    for word in not_searched:
        assert f"„{word}“" not in text.lower(), (word, text[:300])


async def test_fillers_in_english_are_no_search_words(chat_en):
    await chat_en.say("ok cool, and cleaning jobs please")
    text = chat_en.text()
    assert "“cool”" not in text and "I found no position for" not in text
    assert "cleaning" in text


async def test_a_word_and_its_inflection_are_one_search_word(chat):
    await chat.say(
        "ich hab 2 kinder und suche nen job in teilzeit am wochenende, am besten was mit kindern"
    )
    text = chat.text()
    assert "„besten“" not in text and "„kindern“" not in text
    assert "Teilzeit" in text


@pytest.mark.parametrize("message", ["ich suche abeit in der plege", "arbeit in der plege"])
async def test_a_misspelt_field_finds_its_jobs(chat, message):
    await chat.say(message)
    text = chat.text()
    assert "„plege“" not in text and "„abeit“" not in text
    assert "(Pflege)" in text and "alle offenen Stellen" not in text


async def test_immediately_answers_the_alert_timing(app, chat_en):
    await chat_en.say("notify me about new nursing jobs")
    assert "right away, or once a day" in chat_en.last().text
    await chat_en.say("immediately")
    assert "Saved" in chat_en.last().text
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.immediate


@pytest.mark.parametrize(
    ("answer", "immediate"),
    [("instantly", True), ("as soon as possible", True), ("every day", False)],
)
async def test_english_words_for_the_alert_timing(app, chat_en, answer, immediate):
    await chat_en.say("notify me about new nursing jobs")
    await chat_en.say(answer)
    assert "Saved" in chat_en.last().text, chat_en.text()
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.immediate is immediate


@pytest.mark.parametrize(("answer", "immediate"), [("gleich", True), ("jeden tag", False)])
async def test_german_words_for_the_alert_timing(app, chat, answer, immediate):
    await chat.say("sag mir bescheid wenn es neue pflegejobs gibt")
    await chat.say(answer)
    assert "Gespeichert" in chat.last().text, chat.text()
    async with app.sessions() as db:
        alert = await db.scalar(select(JobAlert))
    assert alert is not None and alert.immediate is immediate


@pytest.mark.parametrize(
    "message",
    ["wir suchen dringend bewerber für die pflege", "ich möchte eine neue stellenanzeige aufgeben"],
)
async def test_a_new_posting_in_words_still_starts_the_form(boss, message):
    await boss.say(message)
    assert "Wie heißt die Stelle" in boss.last().text
