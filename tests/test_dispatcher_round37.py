"""Round 37 of the user tests: what the dispatcher makes of natural replies under an answer."""

from __future__ import annotations

from collections.abc import Callable

from bot import forms
from bot.app import App
from bot.i18n import translator
from storage.users import create_invite
from tests.conftest import Chat, page_items

INTERNAL_ERROR = translator("de")("error.internal")


async def test_a_superscript_digit_before_a_label_is_no_item_number(chat: Chat) -> None:
    page = (await chat.say("pflege jobs"))[-1]
    assert page_items(page)
    await chat.say("² bewerben")  # str.isdigit() holds for "²", int() does not take it
    assert INTERNAL_ERROR not in chat.text()


async def test_the_next_page_asked_for_in_words(chat: Chat) -> None:
    first = page_items((await chat.say("pflege jobs"))[-1])
    for asked in ("gibt es noch mehr?", "zeig mehr", "die nächsten"):
        page = page_items((await chat.say(asked))[-1])
        assert page and min(page) == max(first) + 1, asked  # the next page, numbered on
        first = page


async def test_the_last_page_then_says_that_was_all(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("emma", "en")
    await chat.say("warehouse jobs")
    assert "More" in chat.labels()
    while "More" in chat.labels():
        await chat.say("any more?")
    await chat.say("any more?")
    assert chat.text() == translator("en")("listing.no_more")


async def test_a_number_typed_as_people_do_names_the_item(chat: Chat) -> None:
    for typed in ("2.", "die 2 bitte", "zwei"):
        page = (await chat.say("pflege jobs"))[-1]
        second = page_items(page)[2].split("\n")[0]
        await chat.say(typed)
        assert chat.last().text.startswith(second), typed  # item 2's details


async def test_nochmal_bitte_in_a_form_asks_again_and_keeps_the_form(chat: Chat) -> None:
    await chat.say("pflege jobs")
    await chat.say("1 bewerben")
    question = chat.last().text.split("\n\n")[-1]
    await chat.say("nochmal bitte")  # the NLU reads "cancel" here, surely
    assert chat.last().text == question
    await chat.say("Ich habe fünf Jahre Erfahrung in der Pflege.")
    assert "Abgebrochen" not in chat.text() and "erreichen" in chat.text()


async def test_ok_klar_ja_gerne_pick_the_yes_option(chat_factory: Callable[..., Chat]) -> None:
    for number, said in enumerate(("ok", "klar", "ja gerne")):
        chat = chat_factory(f"yes{number}", "de")
        await chat.say("pflege jobs")
        await chat.say("1 bewerben")
        await chat.say("Ich habe fünf Jahre Erfahrung in der Pflege.")
        await chat.say("0176 1234567")
        assert "Namen" in chat.text()
        await chat.say(said)
        assert "Bitte wähle" not in chat.text() and "Abschicken?" in chat.text(), said
        assert f"yes{number}" in chat.text()  # the name is given


def test_says_yes() -> None:
    assert forms.says_yes("ja gerne") and forms.says_yes("publish it")
    assert forms.says_yes("yes, send it now") and forms.says_yes("ok")
    assert forms.says_yes("yes, cancel it", "Yes, cancel the session")
    assert not forms.says_yes("yes, cancel it", "Confirm")  # a yes and a cancel at once
    assert not forms.says_yes("ja, aber lieber 30 euro")
    assert not forms.says_yes("nein")


async def test_yes_and_cancel_at_once_is_asked_again(chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory("emma", "en")
    await chat.say("buy a 25 euro voucher for cafe rosa")
    assert "Confirm" in chat.labels()
    await chat.say("yes, cancel it")  # before: "Cancelled. Nothing was saved."
    assert "Please confirm or cancel" in chat.text()
    await chat.say("buy it")
    assert "Your code" in chat.text()


async def test_an_answer_read_as_the_same_services_request_gets_the_steps_own_error(
    app: App, chat: Chat, chat_factory: Callable[..., Chat]
) -> None:
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "employer", "Pflegedienst Sonnenschein")).code
    boss = chat_factory("pflegedienst", "de")
    await boss.say(f"/claim {code}")
    await boss.say("/postjob")
    for answer in ("Pflegehelfer (m/w/d)", "1", "hörde", "1",
                   "Unterstützung in der Grundpflege im Frühdienst."):
        await boss.say(answer)
    assert "erreichen" in boss.text()
    await boss.say("bewerbungen bitte an frau schulz")  # read as a job search, surely
    assert "klingt nach einer neuen Frage" not in boss.text()
    assert "E-Mail-Adresse oder Telefonnummer" in boss.text()
    await chat.say("ich möchte einen gutschein für café rosa")
    await chat.say("welche jobs gibt es in der pflege")  # another service: said how to ask it
    assert "klingt nach einer neuen Frage" in chat.text()
