"""Jobs, QA round 38b: asking to delete an alert shows the alerts instead of making one, a job
of the list named in words when applying, and "was ist mit …" narrowing the last search."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.jobs import JobAlert


def header(chat) -> str:
    """The first line of the last reply."""
    return chat.last().text.split("\n")[0]


async def alert_count(app) -> int:
    """How many job alerts are stored."""
    async with app.sessions() as db:
        return await db.scalar(select(func.count()).select_from(JobAlert))


async def test_deleting_my_alarm_after_a_search_shows_the_alerts_not_a_new_one(app, chat):
    await chat.say("jobs in der pflege")
    await chat.press("Benachrichtige mich")
    await chat.press("Einmal täglich")
    assert await alert_count(app) == 1, chat.text()
    await chat.say("jobs in der gastronomie")
    await chat.say("lösch meinen alarm")
    assert await alert_count(app) == 1, chat.text()
    assert "Gespeichert" not in chat.text()
    assert any(label.endswith("Löschen") for label in chat.labels()), chat.text()


async def test_deleting_a_jobalarm_without_one_says_there_is_none(app, chat):
    await chat.say("ich will meinen jobalarm löschen")
    assert "keine" in chat.last().text.lower(), chat.text()
    assert "Bereich" not in chat.text()
    assert await alert_count(app) == 0


async def test_the_first_one_in_words_applies_to_the_first_job_of_the_list(chat):
    await chat.say("pflegejobs")
    title = chat.last().text.split("\n")[2].removeprefix("1. ")
    await chat.say("ja, die erste sieht gut aus, ich will mich bewerben")
    assert chat.turns[-1][0].text.startswith(f"Bewerbung für „{title}“"), chat.text()


async def test_the_second_in_words_applies_to_the_second_job(chat_en):
    await chat_en.say("nursing jobs")
    title = chat_en.last().text.split("\n")[5].removeprefix("2. ")
    await chat_en.say("the second looks good, i want to apply")
    assert title in chat_en.turns[-1][0].text, chat_en.text()


async def test_was_ist_mit_a_district_narrows_the_last_search(chat):
    await chat.say("pflegejobs")
    await chat.say("was ist mit der nordstadt")
    assert header(chat).endswith("(Pflege · Nordstadt):"), chat.text()


async def test_wie_waere_es_mit_a_type_narrows_the_last_search(chat):
    await chat.say("pflegejobs")
    await chat.say("wie wäre es mit teilzeit?")
    assert header(chat).endswith("(Pflege · Teilzeit):"), chat.text()


async def test_deleting_my_job_alert_in_english_after_a_search_makes_none(app, chat_en):
    await chat_en.say("jobs in gastronomy")
    await chat_en.say("please delete my job alarm")
    assert await alert_count(app) == 0, chat_en.text()
    assert "no job alerts" in chat_en.last().text, chat_en.text()
