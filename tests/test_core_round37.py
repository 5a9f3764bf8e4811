"""Round 37 of the conversation basics: privacy questions, questions about the bot, "zurück"
under a list, "nein" under an answer's undo button, "ok" after thanks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.account import asks_about_privacy
from handlers.core import asks_about_the_bot
from storage.parent_evenings import Registration


@pytest.mark.parametrize("text", [
    "wer sieht meine daten?", "speichert ihr meine daten?", "wie lange speichert ihr meine daten",
    "who can see my data?", "how long do you keep my data?", "verkauft ihr meine daten?",
])
def test_a_question_how_data_is_handled_is_a_privacy_question(text: str) -> None:
    assert asks_about_privacy(text)


@pytest.mark.parametrize("text", [
    "zeig mir meine daten", "export my data", "/mydata", "welche daten habt ihr über mich",
    "what do you store about me?", "can i see my data?", "meine daten",
])
def test_a_request_for_the_data_itself_is_no_privacy_question(text: str) -> None:
    assert not asks_about_privacy(text)


async def test_who_sees_my_data_gets_the_answer_and_the_export_as_a_button(chat) -> None:
    await chat.say("wer sieht meine daten?")  # before: the JSON export
    reply = chat.last()
    assert reply.file is None
    assert "Arbeitgeber deine Bewerbung" in reply.text and "Nichts wird verkauft." in reply.text
    assert "nach 90 Tagen" in reply.text and "nach 30 Tagen" in reply.text
    assert chat.labels() == ["Meine Daten ansehen", "Meine Daten löschen"]
    await chat.press("Meine Daten ansehen")
    assert chat.last().file is not None


async def test_asking_for_the_data_still_exports_it(chat, chat_en) -> None:
    await chat.say("zeig mir meine daten")
    assert chat.last().file is not None
    await chat.say("/mydata")
    assert chat.last().file is not None
    await chat_en.say("who can see my data?")
    assert chat_en.last().file is None and "Nothing is sold." in chat_en.last().text


@pytest.mark.parametrize("text", [
    "bist du ein mensch?", "bist du ein bot?", "mit wem spreche ich", "wer bist du?",
    "ist das kostenlos?", "are you a human?", "who are you", "is this free?",
])
def test_a_question_about_the_bot_is_recognised(text: str) -> None:
    assert asks_about_the_bot(text)


@pytest.mark.parametrize("text", [
    "ich suche einen job", "was kostet ein gutschein", "wo kann ich meinen ausweis verlängern",
])
def test_other_messages_are_no_question_about_the_bot(text: str) -> None:
    assert not asks_about_the_bot(text)


async def test_the_fallback_says_what_the_bot_is(chat, chat_en) -> None:
    await chat.say("bist du ein mensch?")  # before: "nicht verstanden … Behördennummer 115"
    assert chat.last().text.startswith("Ich bin citybot, der digitale Assistent der Stadt")
    assert "kein Mensch" in chat.last().text and "Kostenlos" in chat.last().text
    assert "nicht verstanden" not in chat.text() and chat.labels()[-1] == "Hilfe"
    await chat_en.say("are you a human?")
    assert "a program, not a human" in chat_en.last().text


class HelpFor:
    """The NLU, reading one text as the help intent (as the retrained NLU will)."""

    def __init__(self, nlu: Any, text: str) -> None:
        self.nlu = nlu
        self.text = text

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nlu, name)

    async def parse(self, text: str, lang: str | None = None) -> dict:
        reading = await self.nlu.parse(text, lang)
        if text == self.text:
            return {**reading, "intent": {"name": "help", "confidence": 1.0}}
        return reading


async def test_the_help_intent_says_what_the_bot_is(app, chat, monkeypatch) -> None:
    monkeypatch.setattr(app.dispatcher, "nlu", HelpFor(app.dispatcher.nlu, "wer bist du?"))
    await chat.say("wer bist du?")
    assert "ein Programm, kein Mensch" in chat.last().text
    assert "/mydata" not in chat.text() and chat.labels()[-1] == "Hilfe"
    await chat.say("/help")  # the command still lists the commands
    assert "/mydata" in chat.text()


async def test_back_under_a_list_page_keeps_the_list(chat) -> None:
    await chat.say("gibt es ausbildungsplätze?")
    await chat.say("mehr")
    assert "4 Details" in chat.labels()
    await chat.say("zurück")  # before: "Gut, dann nicht …" and the menu; "4" then opened /help
    assert chat.last().text == "Die Liste steht oben – tipp eine Nummer, „mehr“ blättert weiter."
    assert chat.labels() == []
    await chat.say("4")  # item 4 of the page above
    assert "Arbeitgeber:" in chat.last().text


async def registrations(app: Any) -> int:
    """How many parent evening places are booked."""
    async with app.sessions() as db:
        return await db.scalar(select(func.count()).select_from(Registration))


async def test_no_after_a_registration_says_nothing_was_undone(app, chat) -> None:
    await chat.say("/evenings")
    await chat.say("1")
    assert "angemeldet" in chat.last().text and "Platz zurückgeben" in chat.labels()
    booked = await registrations(app)
    await chat.say("nein, falsch")  # before: "Gut, dann nicht – es wurde nichts geändert."
    assert chat.last().text.startswith("Es bleibt, wie es ist – rückgängig gemacht habe ich")
    assert "Platz zurückgeben" in chat.labels()
    assert await registrations(app) == booked
    await chat.say("1")  # the undo button, by number: still asked first, naming it
    assert chat.last().text == "„Platz zurückgeben“ – bitte bestätige:"


async def test_ok_after_thanks_is_acknowledged_without_the_menu(chat) -> None:
    await chat.say("danke")
    await chat.say("ok")  # before: "Gerade ist keine Frage offen. Womit kann ich helfen?" + menu
    assert chat.last().text == "Alles klar! 👍" and chat.labels() == []
