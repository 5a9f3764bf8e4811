"""Round 37's second look: the new rules where they fired wrongly or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.follow_up import FRESH, stale
from bot.i18n import translator
from storage.base import utcnow
from storage.conversations import ConversationState
from tests.conftest import Chat, page_items

DELETE_QUESTION = translator("de")("privacy.delete_question")


@pytest.mark.parametrize(
    "asked", ["wann löscht ihr meine daten?", "löscht ihr meine daten irgendwann?"]
)
async def test_a_question_when_data_is_deleted_never_asks_to_delete_everything(
    chat: Chat, asked: str
) -> None:
    await chat.say(asked)
    assert DELETE_QUESTION not in chat.text()
    assert "Tagen" in chat.text()  # the privacy answer: how long what is kept
    await chat.say("lösch bitte alle meine daten")  # a request still asks to delete
    assert chat.last().text == DELETE_QUESTION


async def test_an_everyday_yes_joins_the_waiting_list(chat_factory: Callable[..., Chat]) -> None:
    for number, said in enumerate(("ok", "ja bitte", "gerne")):
        chat = chat_factory(f"parent{number}", "de")
        await chat.say("melde mich für den elternabend der einschulung an")
        assert "Ja, auf die Warteliste" in chat.labels()
        await chat.say(said)  # before: "Dafür bitte den Knopf antippen …"
        assert "Warteliste" in chat.text() and "Knopf" not in chat.text(), said


async def test_back_after_an_items_details_keeps_the_list(chat: Chat) -> None:
    page = page_items((await chat.say("ich suche arbeit in der pflege"))[-1])
    await chat.say("1")
    await chat.say("zurück")  # before: "Gut, dann nicht" and the menu; "3" then opened it
    assert "Liste" in chat.text()
    await chat.say("3")
    assert chat.last().text.startswith(page[3].split("\n")[0])


async def test_more_with_no_list_is_no_search(chat: Chat) -> None:
    await chat.say("gibt es noch mehr?")  # before: a job search for „mehr“
    assert chat.text() == translator("de")("listing.no_list")
    await chat.say("die nächsten")  # before: "Tschüss"
    assert chat.text() == translator("de")("listing.no_list")


async def test_a_short_follow_up_continues_the_request_before(
    chat: Chat, chat_factory: Callable[..., Chat]
) -> None:
    await chat.say("hat die bäckerei müller heute offen")
    await chat.say("und am sonntag?")  # before: not understood
    assert chat.last().text.startswith("Bäckerei Müller") and "Sonntag" in chat.text()
    await chat.say("und morgen?")  # before: the greeting
    assert chat.last().text.startswith("Bäckerei Müller")
    english = chat_factory("emma", "en")
    await english.say("is bäckerei müller open today")
    await english.say("and tomorrow?")  # before: "Goodbye and all the best!"
    assert english.last().text.startswith("Bäckerei Müller")


async def test_a_follow_up_without_a_request_before_is_read_as_it_is(chat: Chat) -> None:
    await chat.say("und morgen?")
    assert not chat.last().text.startswith("Bäckerei")


def test_stale() -> None:
    assert stale(None, FRESH)
    assert not stale(utcnow().isoformat(), FRESH)
    assert stale((utcnow() - timedelta(minutes=2)).isoformat(), FRESH)


async def test_the_same_search_again_costs_no_state_write(app: App, chat: Chat) -> None:
    """A search repeated within a minute leaves the chat's state as it was: its remembered time
    is not rewritten (before: a write in every such turn, 4.8 instead of 4.4 statements per
    turn in bench/pipeline_bench.py)."""

    async def state_written() -> object:
        async with app.sessions() as db:
            return await db.scalar(select(ConversationState.updated_at))

    await chat.say("ich suche arbeit in der pflege")
    first = await state_written()
    await chat.say("ich suche arbeit in der pflege")
    assert await state_written() == first


async def test_small_talk_after_a_request_stays_small_talk(chat: Chat) -> None:
    await chat.say("hat die bäckerei müller heute offen")
    await chat.say("und danke!")
    assert not chat.last().text.startswith("Bäckerei Müller")
    await chat.say("also dann tschüss")
    assert not chat.last().text.startswith("Bäckerei Müller")
