"""A message with two requests: the first is answered, the second offered as a button."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot import also_asked
from tests.conftest import Chat, page_items

JOB_AND_VOUCHER = (
    "ich suche eine stelle in der pflege und möchte einen gutschein vom café rosa kaufen"
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (JOB_AND_VOUCHER,
         ["ich suche eine stelle in der pflege", "möchte einen gutschein vom café rosa kaufen"]),
        ("zeig mir die elternabende. außerdem möchte ich dem café rosa folgen",
         ["zeig mir die elternabende", "möchte ich dem café rosa folgen"]),
        ("ich möchte einen gutschein kaufen und verschenken", []),  # "verschenken": no request
        ("stellen in pflege und betreuung", []),  # too short for two requests
        ("ich suche einen job", []),
    ],
)
def test_parts_of(text: str, parts: list[str]) -> None:
    assert also_asked.parts_of(text) == parts


async def test_the_first_request_is_answered_and_the_second_offered(chat: Chat) -> None:
    replies = await chat.say(JOB_AND_VOUCHER)
    assert len(replies) == 1  # one message: the job list with the line and its button
    assert page_items(replies[0]) and "Pflege" in chat.text()
    assert "Du hast außerdem gefragt: „möchte einen gutschein vom café rosa kaufen“" in chat.text()
    await chat.press("Jetzt:")
    assert "Über welchen Betrag?" in chat.text()
    await chat.press("25,00 €")
    assert "Café Rosa" in chat.text()  # the voucher of the shop the request named


async def test_each_request_is_read_on_its_own(chat: Chat) -> None:
    await chat.say("ich suche einen job als koch und wie spät hat das café rosa offen?")
    assert "Koch" in chat.text()
    assert "„spät“" not in chat.text()  # the shop question's words are no search words
    await chat.press("Jetzt:")
    assert "Arneckestraße" in chat.text()  # Café Rosa's card with its opening hours


async def test_a_form_asked_first_keeps_its_question_and_names_the_other_request(
    chat: Chat,
) -> None:
    await chat.say("ich möchte einen gutschein vom café rosa kaufen und ich suche eine stelle "
                   "in der pflege")
    assert "Über welchen Betrag?" in chat.text()
    assert "ich suche eine stelle in der pflege" in chat.text()
    assert not any(label.startswith("Jetzt:") for label in chat.labels())


async def test_one_request_gets_no_offer(chat: Chat) -> None:
    await chat.say("hallo, ich suche eine stelle als erzieherin und habe 5 jahre erfahrung")
    assert "außerdem" not in chat.text()
    assert not any(label.startswith("Jetzt:") for label in chat.labels())


async def test_english(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("emma", "en")
    await chat.say("I need a job in nursing and I want to buy a voucher for cafe rosa")
    assert "You also asked: “I want to buy a voucher for cafe rosa”" in chat.text()
    await chat.press("Now:")
    assert "amount" in chat.text().lower()


async def test_the_request_is_forgotten_once_its_button_is_gone(chat: Chat) -> None:
    await chat.say(JOB_AND_VOUCHER)
    await chat.say("danke")
    await chat.say("Jetzt: möchte einen gutschein vom café rosa kaufen")  # typed, not offered
    assert "Du hast außerdem gefragt" not in chat.text()


def test_forget_unless_offered() -> None:
    offered = {also_asked.STATE_KEY: "x", "buttons": [["Jetzt: x", also_asked.ACTION]]}
    also_asked.forget_unless_offered(offered)
    assert offered[also_asked.STATE_KEY] == "x"
    moved_on = {also_asked.STATE_KEY: "x", "buttons": [["Ja", "yes"]]}
    also_asked.forget_unless_offered(moved_on)
    assert also_asked.STATE_KEY not in moved_on


async def test_three_requests_are_offered_one_after_the_other(chat: Chat) -> None:
    await chat.say("ich suche einen job als koch. wann ist der nächste elternabend? und wie "
                   "lange hat das café rosa offen?")
    assert "Koch" in chat.text()
    assert ("„wann ist der nächste elternabend“ und „wie lange hat das café rosa offen?“"
            in chat.text())  # before: the third was lost
    await chat.press("Jetzt:")
    assert "Elternabende" in chat.text() and "„wie lange hat das café rosa offen?“" in chat.text()
    await chat.press("Jetzt:")
    assert "Arneckestraße" in chat.text()


async def test_the_offered_request_typed_with_its_question_mark_is_pressed(chat: Chat) -> None:
    await chat.say("ich suche einen job als koch. wann ist der nächste elternabend? und wie "
                   "lange hat das café rosa offen?")
    label = next(label for label in chat.labels() if label.startswith("Jetzt:"))
    assert not label.endswith("?")
    await chat.say(label + "?")  # typed as the question it was; before: no button pressed
    assert "Elternabende" in chat.text()
    assert "„wie lange hat das café rosa offen?“" in chat.text()  # the next one offered
