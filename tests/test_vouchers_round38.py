"""Vouchers, found by testers (round 38): a question about a shop is no change of shop, amount
corrections at the confirmation, codes written with a space, amounts with polite words, the
questions "valid in all shops?" and "pay online?", and the shop's name in /mydata."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from bot.forms import Invalid
from handlers.vouchers import parse_cents, voucher_question
from storage.vouchers import code_in_text
from tests.conftest import Chat
from tests.test_vouchers_chat import balance_of, bought, code_in, owner  # noqa: F401 (fixture)

# --- 1. a question about a shop does not change the voucher's shop ------------------------------


async def test_a_question_about_a_shop_at_the_amount_step_keeps_the_shop(chat_en: Chat) -> None:
    await chat_en.say("buy a voucher for cafe rosa")
    await chat_en.say("wait, when is bäckerei müller open?")
    assert "for Bäckerei Müller then" not in chat_en.text(), chat_en.text()
    assert "new question" in chat_en.last().text, chat_en.text()
    await chat_en.say("25")
    assert "Café Rosa" in chat_en.last().text and "€25.00" in chat_en.last().text


async def test_eine_frage_nach_einem_laden_wechselt_ihn_nicht(chat: Chat) -> None:
    await chat.say("gutschein für café rosa")
    await chat.say("hat der blumenladen heute offen")
    assert "dann für Blumenladen" not in chat.text(), chat.text()
    await chat.say("25")
    assert "Café Rosa" in chat.last().text and "Blumenladen" not in chat.last().text


async def test_a_question_about_a_shop_at_the_confirmation_keeps_the_shop(chat: Chat) -> None:
    await chat.say("gutschein café rosa")
    await chat.say("25")
    await chat.say("wann hat die bäckerei müller offen")
    assert "Bäckerei Müller" not in chat.last().text, chat.text()
    await chat.press("Bestätigen")
    assert "Café Rosa" in chat.last().text and "Bäckerei Müller" not in chat.last().text


@pytest.mark.parametrize("text", ["doch lieber für die bäckerei müller", "bäckerei müller"])
async def test_words_that_choose_still_change_the_shop(chat: Chat, text: str) -> None:
    await chat.say("gutschein für café rosa")
    await chat.say(text)
    assert "Gut, dann für Bäckerei Müller." in chat.text(), chat.text()


async def test_make_it_for_another_shop_instead_changes_it_at_the_confirmation(
    chat_en: Chat,
) -> None:
    await chat_en.say("buy a voucher for cafe rosa")
    await chat_en.say("25")
    await chat_en.say("make it for bäckerei müller instead")
    assert "Bäckerei Müller" in chat_en.last().text and "Confirm" in chat_en.labels()


# --- 2. correcting the amount at the confirmation ---------------------------------------------


@pytest.mark.parametrize("text", ["no wait make it 20", "actually make it 20", "no wait, 20"])
async def test_a_corrected_amount_at_the_confirmation_is_shown_again(
    chat_en: Chat, text: str
) -> None:
    await chat_en.say("buy a voucher for trattoria da enzo")
    await chat_en.say("25")
    await chat_en.say(text)
    summary = chat_en.last().text
    assert "€20.00" in summary and "Trattoria Da Enzo" in summary, chat_en.text()
    await chat_en.say("yes")
    assert "€20.00" in chat_en.last().text and "€25.00" not in chat_en.last().text


# --- 3. codes written with a space ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("wie viel ist noch auf K7QF 2M9X", "K7QF2M9X"),
        ("wie viel ist noch auf k7qf 2m9x", "k7qf2m9x"),
        ("gutschein k70f 2m9x über 1 euro einlösen", "k70f2m9x"),
        ("ich habe heute zeit", None),
        ("WANN HAST DU ZEIT", None),
        ("code 2026 ab12", None),  # does not pass the check character
    ],
)
def test_a_code_written_with_a_space_is_found_in_a_sentence(text: str, code: str | None) -> None:
    assert code_in_text(text) == code


async def test_balance_of_a_code_with_a_space_in_a_sentence(chat: Chat) -> None:
    await chat.say("wie viel ist noch auf k7qf 2m9x")
    assert "12,50 €" in chat.last().text, chat.text()


async def test_redeem_a_code_with_a_space_and_a_look_alike(app: App, owner) -> None:  # noqa: F811
    olga = await owner()
    await olga.say("gutschein k70f 2m9x über 1 euro einlösen")
    assert await balance_of(app, "K7QF-2M9X") == 1150, olga.text()


# --- 4. amounts with polite words or without a space ------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [("20 euro bitte", 2000), ("EUR20", 2000), ("ca. 20", 2000), ("€12.50 please", 1250),
     ("about 20, please", 2000)],
)
def test_an_amount_with_words_around_it_is_read(text: str, cents: int) -> None:
    assert parse_cents(text, "de") == cents


@pytest.mark.parametrize("text", ["bitte", "-20 euro bitte", "ca.", "zwanzig leute bitte"])
def test_no_amount_and_negatives_are_still_refused(text: str) -> None:
    with pytest.raises(Invalid):
        parse_cents(text, "de")


async def test_20_euro_bitte_at_the_amount_step(chat: Chat) -> None:
    await chat.say("gutschein für café rosa")
    await chat.say("20 euro bitte")
    assert "20,00 €" in chat.last().text and "Bestätigen" in chat.labels(), chat.text()


async def test_redeem_5_euro_bitte(app: App, owner) -> None:  # noqa: F811
    olga = await owner(language="en")
    await olga.say("/redeem K7QF-2M9X 5 euro bitte")
    assert await balance_of(app, "K7QF-2M9X") == 750, olga.text()


# --- 5. valid in other shops? paid how? ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("is the voucher valid in all shops", "shops"),
        ("can i use the voucher in other shops?", "shops"),
        ("kann ich den gutschein in allen läden einlösen?", "shops"),
        ("in welchen läden gilt der gutschein", "shops"),
        ("can i pay for the voucher online?", "payment"),
        ("kann ich den gutschein online bezahlen?", "payment"),
        ("is my voucher still valid?", "validity"),
        ("gutschein für café rosa, ich zahle bar", None),
        ("which shops sell vouchers?", None),
    ],
)
def test_shops_and_payment_questions_are_told_by_their_words(text: str, topic: str | None) -> None:
    assert voucher_question(text) == topic


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("is the voucher valid in all shops", "valid only in the shop it was bought for"),
        ("can i use the voucher in other shops?", "valid only in the shop it was bought for"),
        ("can i pay for the voucher online?", "paid in the shop"),
    ],
)
async def test_shops_and_payment_questions_get_a_short_answer(
    chat_en: Chat, text: str, answer: str
) -> None:
    await chat_en.say(text)
    assert answer in chat_en.last().text, chat_en.text()
    assert "Which shop" not in chat_en.text(), chat_en.text()


# --- 6. the shop's name in /mydata ----------------------------------------------------------------


async def test_mydata_names_the_vouchers_shop(chat: Chat) -> None:
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    await chat.say("/mydata")
    (mine,) = json.loads(chat.last().file.content)["vouchers"]
    assert mine["code"] == code and mine["shop"] == "Café Rosa", mine
