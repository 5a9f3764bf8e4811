"""Vouchers, found by testers (round 37): pledges under /vouchers and /balance, questions about
returning, giving away and validity, a shop changed at the amount step, "da" for the shop in
view, and amounts in cents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import App
from bot.context import Context
from bot.messages import Reply
from handlers.vouchers import (
    BuyVoucherForm,
    order_voucher,
    voucher_balance,
    voucher_question,
)
from storage.users import User
from tests.conftest import Chat
from tests.test_vouchers_chat import balance_of, code_in, owner, shop_id  # noqa: F401 (fixture)

# --- 1. donation pledges can be found again ---------------------------------------------------


async def pledge(chat: Chat) -> str:
    """Support Trattoria Da Enzo with 15 € (to be paid in the shop); its reference."""
    await chat.say("i want to support trattoria da enzo")
    await chat.say("15")
    await chat.say("yes")
    return code_in(chat.last().text)


async def test_an_open_pledge_is_listed_under_my_vouchers(chat_en: Chat) -> None:
    reference = await pledge(chat_en)
    await chat_en.say("/vouchers")
    text = chat_en.last().text
    assert "no vouchers" not in text, text
    assert "Trattoria Da Enzo" in text and reference in text and "€15.00" in text, text
    assert "not paid yet" in text and "pay in the shop by" in text, text


async def test_balance_of_my_pledge_shows_its_details(chat_en: Chat) -> None:
    reference = await pledge(chat_en)
    await chat_en.say(f"/balance {reference}")
    text = chat_en.last().text
    assert "your support for Trattoria Da Enzo" in text and "€15.00" in text, text
    assert "not paid yet" in text, text


async def test_balance_of_someone_elses_pledge_reveals_nothing(
    chat_en: Chat, chat_factory
) -> None:
    reference = await pledge(chat_en)
    other = chat_factory("bert", "en")
    await other.say("/language en")
    await other.say(f"/balance {reference}")
    text = other.last().text
    assert "reference of a donation" in text, text
    assert "Enzo" not in text and "15" not in text, text


# --- 2. questions about vouchers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("kann ich einen gutschein auch zurückgeben?", "return"),
        ("kann ich meinen gutschein stornieren?", "return"),
        ("can i get my voucher refunded", "return"),
        ("ich möchte den gutschein verschenken", "gift"),
        ("can i give my voucher to a friend?", "gift"),
        ("wie lange ist ein gutschein gültig?", "validity"),
        ("is my voucher still valid?", "validity"),
        ("ich möchte einen gutschein zum verschenken kaufen", None),
        ("buy a gift voucher for café rosa", None),
        ("ein gutschein für café rosa", None),
    ],
)
def test_a_question_about_vouchers_is_told_by_its_words(text: str, topic: str | None) -> None:
    assert voucher_question(text) == topic


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("kann ich einen gutschein auch zurückgeben?", "entscheidet der Laden selbst"),
        ("ich möchte den gutschein verschenken", "Wer den Code hat"),
    ],
)
async def test_a_question_gets_an_answer_not_the_buy_form(
    chat: Chat, text: str, answer: str
) -> None:
    await chat.say(text)
    reply = chat.last().text
    assert answer in reply, chat.text()
    assert "Für welchen Laden" not in chat.text(), chat.text()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("wie lange ist ein gutschein gültig?", "Ende des dritten Jahres nach dem Kauf"),
        ("kann ich meinen gutschein stornieren?", "entscheidet der Laden selbst"),
    ],
)
async def test_both_voucher_intents_answer_the_question(
    app: App, chat: Chat, text: str, answer: str
) -> None:
    for handler in (order_voucher, voucher_balance):
        replies = await _call(app, chat, handler, text)
        assert answer in replies[0].text, (handler.__name__, replies[0].text)


Handler = Callable[[Context], Awaitable[list[Reply]]]


async def _call(app: App, chat: Chat, handler: Handler, text: str) -> list[Reply]:
    """A voucher handler called with a message (as if the NLU had read it so)."""
    await chat.say("hallo")  # the user exists
    async with app.sessions() as db, db.begin():
        user = await db.scalar(select(User).order_by(User.id.desc()))
        incoming = replace(chat.transport.incoming(text), text=text)
        ctx = Context(db=db, user=user, incoming=incoming, config=app.config, nlu=app.nlu)
        ctx.parse = {"intent": {"name": None, "confidence": 1.0}, "entities": []}
        return await handler(ctx)


# --- 3. another shop named at the amount step -----------------------------------------------------


async def test_naming_another_shop_at_the_amount_step_changes_the_shop(chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein für café rosa")
    assert "Über welchen Betrag" in chat.last().text, chat.text()
    await chat.say("ach nein, lieber für die trattoria da enzo")
    assert "Gut, dann für Trattoria Da Enzo." in chat.text(), chat.text()
    assert "neuen Frage" not in chat.text(), chat.text()
    assert "Über welchen Betrag" in chat.last().text, chat.text()
    await chat.say("30")
    assert "Trattoria Da Enzo" in chat.last().text and "30,00 €" in chat.last().text


async def _revised(app: App, chat: Chat, text: str, values: dict) -> tuple[bool, dict]:
    """BuyVoucherForm.revise on a message at the confirmation, called directly."""
    await chat.say("hallo")
    async with app.sessions() as db, db.begin():
        user = await db.scalar(select(User).order_by(User.id.desc()))
        incoming = replace(chat.transport.incoming(text), text=text)
        ctx = Context(db=db, user=user, incoming=incoming, config=app.config, nlu=app.nlu)
        changed = await BuyVoucherForm.revise(ctx, values, {})
        return changed, values


async def test_another_amount_at_the_confirmation_revises_it(app: App, chat: Chat) -> None:
    start = {"shop": "Café Rosa", "amount": 2500}
    changed, values = await _revised(app, chat, "doch lieber 50 euro", start)
    assert changed and values == {"shop": "Café Rosa", "amount": 5000}


async def test_an_amount_out_of_range_at_the_confirmation_is_asked_again(
    app: App, chat: Chat
) -> None:
    start = {"shop": "Café Rosa", "amount": 2500}
    changed, values = await _revised(app, chat, "doch lieber 5000 euro", start)
    assert changed and values == {"shop": "Café Rosa"}


async def test_another_shop_at_the_confirmation_revises_it(app: App, chat: Chat) -> None:
    start = {"shop": "Café Rosa", "amount": 2500}
    changed, values = await _revised(app, chat, "lieber für die trattoria da enzo", start)
    assert changed and values == {"shop": "Trattoria Da Enzo", "amount": 2500}


async def test_a_plain_hesitation_at_the_confirmation_changes_nothing(
    app: App, chat: Chat
) -> None:
    start = {"shop": "Café Rosa", "amount": 2500}
    changed, values = await _revised(app, chat, "hmm warte", dict(start))
    assert not changed and values == start


# --- 4. "da" after a shop's card ------------------------------------------------------------------


async def test_a_voucher_there_after_the_shops_card_is_for_that_shop(chat: Chat) -> None:
    await chat.say("trattoria da enzo")  # the card (the shops service notes the shop in view)
    await chat.say("kann ich da einen gutschein kaufen?")
    assert "Über welchen Betrag" in chat.last().text, chat.text()


async def test_without_a_referring_word_the_shop_is_asked(app: App, chat: Chat) -> None:
    await chat.say("trattoria da enzo")  # its card
    assert chat.last().text.startswith("Trattoria Da Enzo")
    await chat.say("ich möchte einen gutschein kaufen")
    assert "Für welchen Laden" in chat.last().text, chat.text()


# --- 5. amounts in cents at the till -----------------------------------------------------------


@pytest.mark.parametrize("amount", ["50 cents", "50 cent", "50 ct"])
async def test_redeem_takes_an_amount_in_cents(app: App, owner, amount: str) -> None:  # noqa: F811
    olga = await owner(language="en")
    await olga.say(f"/redeem K7QF-2M9X {amount}")
    assert "Redeemed: €0.50 from K7QF-2M9X" in olga.last().text, olga.text()
    assert await balance_of(app, "K7QF-2M9X") == 1200


async def test_doch_lieber_50_euro_at_the_confirmation_shows_it_again_in_the_chat(
    chat: Chat,
) -> None:
    await chat.say("ich möchte einen gutschein über 25 euro für café rosa")
    assert "25,00 €" in chat.text() and "Bestätigen" in chat.labels()
    await chat.say("doch lieber 50 euro")  # before: "Bitte bestätige oder brich ab"
    assert "50,00 €" in chat.text() and "Bestätigen" in chat.labels()
    await chat.press("Bestätigen")
    assert "50,00 €" in chat.text()
