"""What is said beside a form's answer: help, everyday cancels, another service's question kept
as a free-text answer with a notice; "yes" under the menu; an action label in the other
language with its item number; a question outside the services."""

from __future__ import annotations

from bot.forms import same_service
from tests.conftest import Chat


async def test_help_inside_a_form_explains_and_keeps_the_question(chat: Chat) -> None:
    await chat.say("ich will einen gutschein kaufen")
    for line in ("hilfe", "?", "was soll ich hier machen"):
        await chat.say(line)
        assert "„abbrechen“" in chat.text() and "Für welchen Laden" in chat.text(), line
        assert "kenne ich nicht" not in chat.text()
    await chat.say("café rosa")
    assert "Betrag" in chat.text()


async def test_help_at_a_free_text_step_is_no_too_short_answer(chat: Chat) -> None:
    await chat.say("pflege jobs")
    await chat.say("1 bewerben")
    await chat.say("hilfe")
    assert "zu kurz" not in chat.text() and "Arbeitgeber" in chat.text()


async def test_everyday_never_mind_cancels_the_form(chat: Chat) -> None:
    for words in ("nee lass mal", "vergiss es", "lass gut sein"):
        await chat.say("ich will einen gutschein kaufen")
        await chat.say(words)
        assert "Abgebrochen" in chat.text(), words
        await chat.say("café rosa")  # no form waits for a shop any more
        assert "Betrag" not in chat.text(), words


async def test_another_services_question_as_application_message_is_kept_and_said(
    chat_en: Chat,
) -> None:
    await chat_en.say("nursing jobs")
    await chat_en.say("1 apply")
    await chat_en.say("what are the opening hours of cafe rosa?")
    assert "I took that as your answer" in chat_en.text()
    assert "reach you" in chat_en.text()  # the form went on: nothing lost
    await chat_en.say("back")
    await chat_en.say("I have worked as a nurse for five years and would love to join your team.")
    assert "I took that" not in chat_en.text()  # a job message in the jobs form: no notice


def test_same_service_is_a_shared_word_of_the_handler_modules() -> None:
    assert same_service("handlers.parent_evenings", "handlers.evenings_staff")
    assert same_service("handlers.ppe", "handlers.ppe_coordination")
    assert not same_service("handlers.jobs", "handlers.shops")
    assert not same_service("handlers.jobs", "handlers.account")


async def test_yes_under_the_menu_asks_which_service(chat: Chat) -> None:
    await chat.say("hallo")
    await chat.say("ja gerne")
    assert "Wobei?" in chat.text() and "Knopf antippen" not in chat.text()
    assert chat.labels()[-1] == "Hilfe" and len(chat.labels()) >= 3  # the menu again


async def test_item_action_typed_in_the_other_language_with_its_number(chat_en: Chat) -> None:
    await chat_en.say("nursing jobs")
    await chat_en.say("1 bewerben")
    assert "Application for" in chat_en.text()


async def test_a_question_outside_the_services_gets_the_authorities_number(chat: Chat) -> None:
    await chat.say("wo kann ich meinen personalausweis verlängern")
    assert "nicht verstanden" in chat.text() and "115" in chat.text()
    await chat.say("blub")
    assert "nicht verstanden" in chat.text() and "115" not in chat.text()


async def test_a_language_request_in_a_form_switches_but_a_statement_is_the_answer(
    chat: Chat,
) -> None:
    await chat.say("pflege jobs")
    await chat.say("1 bewerben")
    await chat.say("ich spreche fließend englisch")  # said to the employer: the answer
    assert "Wie kann der Arbeitgeber dich erreichen" in chat.text()
    assert "als deine Antwort genommen" not in chat.text()  # no other service's request
    await chat.say("sorry, can you answer in english please?")  # seven words, a request
    assert "How can the employer reach you" in chat.text()
