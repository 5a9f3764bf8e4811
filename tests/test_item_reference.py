"""An item of the shown list named in words ("the second one", "nummer 2") is that item."""

from __future__ import annotations

import pytest

from bot.item_reference import item_reference, named_number
from bot.messages import Button
from tests.conftest import Chat, page_items


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("the second one", 2),
        ("register me for the second one", 2),
        ("zeig mir die details der ersten stelle", 1),
        ("ich möchte mich auf die zweite stelle bewerben", 2),
        ("I want to apply for number 2", 2),
        ("show me details of number 1", 1),
        ("nr. 3 bitte", 3),
        ("die letzte", 6),
        # no pointer: a date, first aid, two items, a long message of its own
        ("ab dem ersten januar", None),
        ("the first week of january", None),
        ("erste hilfe kurs", None),
        ("die zweite und die dritte", None),
        ("jobs für die erste schicht", None),
        ("was für die zweite jahreshälfte", None),
        ("melde mich für den zweiten an", 2),
        ("ich nehme den zweiten termin", 2),
        ("ich suche seit dem ersten mal eine stelle in der pflege und wollte fragen ob", None),
    ],
)
def test_named_number(text: str, number: int | None) -> None:
    assert named_number(text, last=6) == number


def test_item_reference_names_the_action_the_text_names() -> None:
    shown = [Button("1 Details", "job.details:1"), Button("1 Bewerben", "job.apply:1"),
             Button("2 Details", "job.details:2"), Button("2 Bewerben", "job.apply:2"),
             Button("Mehr", "job.more:3")]
    assert item_reference("ich möchte mich auf die zweite bewerben", shown) == "2 Bewerben"
    assert item_reference("die zweite bitte", shown) == "2"  # a bare number's meaning
    assert item_reference("die fünfte", shown) is None  # not on the list
    assert item_reference("the second one", [Button("Ja", "yes")]) is None  # no list shown


async def test_details_of_the_first_one_shows_the_job_not_the_personal_data(chat: Chat) -> None:
    page = (await chat.say("pflege jobs"))[-1]
    first = page_items(page)[1].split("\n")[0]
    await chat.say("zeig mir die details der ersten stelle")
    assert chat.last().text.startswith(first)
    assert "citybot-my-data" not in chat.text()
    await chat.say("/cancel")
    page = (await chat.say("pflege jobs"))[-1]
    second = page_items(page)[2].split("\n")[0]
    await chat.say("ich möchte mich auf die zweite stelle bewerben")
    assert second in chat.text() and "Bewerbung" in chat.text()


async def test_the_second_one_under_a_filtered_list_is_that_lists_second(chat_en: Chat) -> None:
    page = (await chat_en.say("parent evenings at goethe school"))[-1]
    items = page_items(page)
    assert len(items) == 2 and all("Goethe" in text for text in items.values())
    await chat_en.say("register me for the second one")
    title = items[2].split("\n")[1].split(" – ")[0]
    assert "You are registered" in chat_en.text() and title in chat_en.text()
