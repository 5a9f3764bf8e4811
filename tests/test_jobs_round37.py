"""Jobs, QA round 37: applying asked for in words, follow-ups that narrow the last search,
several districts at once, and ordinary words that are no failed search words."""

from __future__ import annotations

from datetime import timedelta

from handlers import jobs as jobs_handler
from storage.base import utcnow


def header(chat) -> str:
    """The first line of the last reply."""
    return chat.last().text.split("\n")[0]


async def test_wanting_to_apply_under_a_jobs_details_starts_its_application(chat, chat_en):
    await chat.say("lagerjobs in huckarde")
    await chat.say("1")
    title = chat.last().text.split("\n")[0]
    await chat.say("ich möchte mich bewerben")
    assert chat.turns[-1][0].text.startswith(f"Bewerbung für „{title}“")
    await chat_en.say("nursing jobs")
    await chat_en.say("1")
    await chat_en.say("i want to apply")
    assert chat_en.turns[-1][0].text.startswith("Application for")


async def test_wanting_to_apply_under_a_list_asks_which_job(chat):
    await chat.say("lagerjobs in huckarde")
    await chat.say("ich möchte mich bewerben")
    assert "keine Stelle gefunden" not in chat.text()
    assert chat.labels() == ["1 Bewerben", "2 Bewerben", "3 Bewerben"]
    await chat.say("2")
    assert chat.turns[-1][0].text.startswith("Bewerbung für")


async def test_asking_how_to_apply_explains_it(chat, chat_en):
    for question in ("wie bewerbe ich mich?", "wie funktioniert die bewerbung"):
        await chat.say(question)
        assert chat.last().text.startswith("So bewirbst du dich"), chat.text()
        assert "Arbeitgeber" in chat.last().text and "67" not in chat.text()
    await chat_en.say("how do i apply?")
    assert chat_en.last().text.startswith("Here is how to apply"), chat_en.text()


async def test_a_follow_up_naming_a_type_narrows_the_last_search(chat, chat_en):
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("und teilzeit?")
    assert header(chat).endswith("(Pflege · Teilzeit):"), chat.text()
    await chat.say("ich suche einen minijob als kassierer in dortmund")
    await chat.say("hast du was in teilzeit?")
    assert "Einzelhandel · Teilzeit" in header(chat), chat.text()
    await chat_en.say("nursing jobs")
    await chat_en.say("and part-time?")
    assert header(chat_en).endswith("(nursing · part-time):"), chat_en.text()


async def test_a_follow_up_long_after_the_search_searches_anew(chat, monkeypatch):
    await chat.say("ich suche arbeit in der pflege")
    later = utcnow() + jobs_handler.SEARCH_MEMORY + timedelta(minutes=1)
    monkeypatch.setattr(jobs_handler, "utcnow", lambda: later)
    monkeypatch.setattr("bot.follow_up.utcnow", lambda: later)  # stale() reads the clock there
    await chat.say("und teilzeit?")
    assert header(chat).endswith("(Teilzeit):"), chat.text()


async def test_back_to_the_jobs_shows_the_last_search_again(chat):
    await chat.say("ich suche arbeit in der pflege")
    await chat.say("und teilzeit?")
    for back in ("zurück zu den jobs", "zeig mir nochmal die jobs"):
        await chat.say(back)
        assert header(chat).endswith("(Pflege · Teilzeit):"), chat.text()


async def test_every_named_district_counts_and_a_life_story_is_no_search_word(chat):
    await chat.say(
        "Ich bin 45, habe 20 Jahre lang in der Altenpflege gearbeitet und suche etwas in "
        "Teilzeit, möglichst in Hörde oder Aplerbeck. Gibt es da etwas für mich?"
    )
    assert header(chat) == (
        "Ich habe 2 offene Stellen gefunden (Altenpflege · Teilzeit · Hörde oder Aplerbeck):"
    ), chat.text()


async def test_ordinary_words_are_no_failed_search_words(chat):
    for line in (
        "teilzeitjobs in der nähe von hörde",
        "teilzeitjobs in der naehe von hörde",
        "pflegejobs wuerde mich interessieren",
    ):
        await chat.say(line)
        assert "keine Stelle gefunden" not in chat.text(), (line, chat.text())
        assert header(chat).startswith("Ich habe"), chat.text()
