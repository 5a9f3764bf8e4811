"""Jobs, QA round 38: liking the job in view while applying in words, "just the ones in …"
narrowing the last search, and an alert asked for in words right after a search."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from handlers import jobs as jobs_handler
from storage.base import utcnow
from storage.jobs import CLOSED, JobAlert, JobPosting


def header(chat) -> str:
    """The first line of the last reply."""
    return chat.last().text.split("\n")[0]


async def alerts_saved(app) -> list[tuple[str | None, str | None, str | None, bool]]:
    """Every stored alert as (field, district, employment type, immediate)."""
    async with app.sessions() as db:
        alerts = (await db.scalars(select(JobAlert).order_by(JobAlert.id))).all()
    return [(a.field, a.district, a.employment_type, a.immediate) for a in alerts]


async def test_liking_the_job_in_view_and_wanting_to_apply_starts_its_application(chat):
    await chat.say("pflegejobs")
    await chat.say("1")
    title = chat.last().text.split("\n")[0]
    await chat.say("die sieht gut aus, ich möchte mich bewerben")
    assert chat.turns[-1][0].text.startswith(f"Bewerbung für „{title}“"), chat.text()
    assert "keine Stelle gefunden" not in chat.text()


async def test_just_the_ones_in_a_district_narrows_the_last_search(chat_en):
    await chat_en.say("nursing jobs")
    await chat_en.say("just the ones in innenstadt pls")
    assert header(chat_en).endswith("(nursing · Innenstadt):"), chat_en.text()


async def test_an_alert_asked_for_in_words_after_a_search_is_for_that_search(app, chat_en):
    await chat_en.say("part time nursing jobs in nordstadt")
    await chat_en.say("can you notify me when there are new ones?")
    assert chat_en.labels()[:2] == ["Right away", "Once a day"], chat_en.text()
    await chat_en.press("Once a day")
    assert "nursing · part-time · Nordstadt" in chat_en.last().text
    assert await alerts_saved(app) == [("nursing", "Nordstadt", "part_time", False)]


async def test_an_alert_in_german_words_after_a_search_says_its_timing_too(app, chat):
    await chat.say("pflegejobs in teilzeit in der nordstadt")
    await chat.say("kannst du mir sofort bescheid sagen wenn es neue gibt?")
    assert chat.last().text.startswith("Gespeichert: Ich melde mich sofort"), chat.text()
    assert "Pflege · Teilzeit · Nordstadt" in chat.last().text
    assert await alerts_saved(app) == [("nursing", "Nordstadt", "part_time", True)]


async def test_an_alert_naming_its_own_field_after_a_search_keeps_its_own(app, chat_en):
    await chat_en.say("part time nursing jobs in nordstadt")
    await chat_en.say("notify me about new IT jobs")
    assert await alerts_saved(app) == [("it", None, None, False)], chat_en.text()


async def test_an_alert_in_words_long_after_a_search_asks_the_field(chat_en, monkeypatch):
    await chat_en.say("part time nursing jobs in nordstadt")
    later = utcnow() + jobs_handler.SEARCH_MEMORY + timedelta(minutes=1)
    monkeypatch.setattr("bot.follow_up.utcnow", lambda: later)  # stale() reads the clock there
    await chat_en.say("can you notify me when there are new ones?")
    assert "Which field" in chat_en.last().text, chat_en.text()


async def test_a_posting_closed_while_applying_ends_the_form_at_the_next_step(app, chat):
    """Before, every step was asked and the typed text thrown away at Bestätigen."""
    await chat.say("pflegejobs")
    await chat.press("1 Bewerben")
    assert "Was möchtest du" in chat.last().text
    async with app.sessions() as db, db.begin():
        await db.execute(update(JobPosting).values(status=CLOSED))
    await chat.say("Ich bin examinierte Pflegefachkraft mit zehn Jahren Erfahrung.")
    assert chat.last().text == "Diese Stelle ist bereits besetzt oder geschlossen.", chat.text()
    await chat.say("0176 1234567")  # the form is over: no second "closed"
    assert "besetzt" not in chat.text()
