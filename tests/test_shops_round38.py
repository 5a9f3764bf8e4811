"""Shops and the till, found by testers (round 38): an amount above the balance at the /redeem
amount step asks again, the amount before the code with a currency word, a bad amount said
before a spent voucher's balance, following the shop in view ("follow it"), and /follow with
punctuation only."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.vouchers_shop import _split_redeem_args
from tests.conftest import Chat
from tests.test_vouchers_chat import balance_of, owner  # noqa: F401 (a fixture)

CODE = "K7QF-2M9X"  # the demo voucher: 12,50 € left at Café Rosa

# --- 1. an amount above the balance at the amount step is asked again -----------------------


async def test_too_much_at_the_amount_step_asks_again(app: App, owner) -> None:  # noqa: F811
    olga = await owner()
    await olga.say(f"/redeem {CODE}")
    await olga.say("20")
    assert "mehr als das Guthaben von 12,50 €" in olga.text(), olga.text()
    assert "Guthaben: 12,50 €" in olga.last().text, olga.text()
    await olga.say("4")  # before: the step was closed, "4" not understood
    assert "Eingelöst: 4,00 € von K7QF-2M9X. Restguthaben: 8,50 €" in olga.last().text
    assert await balance_of(app, CODE) == 850


async def test_the_question_asked_again_names_the_balance_now(
    app: App, owner  # noqa: F811
) -> None:
    olga = await owner()
    await olga.say(f"/redeem {CODE}")  # asked with 12,50 €
    other_till = await owner(user="otto")
    await other_till.say(f"/redeem {CODE} 10")  # 2,50 € left
    await olga.say("5")
    assert "mehr als das Guthaben von 2,50 €" in olga.text(), olga.text()
    assert "Guthaben: 2,50 €" in olga.last().text, olga.text()
    await olga.say("2,50")
    assert "Restguthaben: 0,00 €" in olga.last().text, olga.text()
    assert await balance_of(app, CODE) == 0


async def test_too_much_in_english_asks_again(owner) -> None:  # noqa: F811
    olga = await owner(language="en")
    await olga.say(f"/redeem {CODE}")
    await olga.say("20")
    assert "more than the balance of €12.50" in olga.text(), olga.text()
    assert "€12.50" in olga.last().text and "Cancel" in olga.text(), olga.text()


# --- 2. the amount first, with a currency word ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "amount"),
    [
        ("0,50 € K7QF-2M9X", "K7QF-2M9X", "0,50 €"),
        ("1 euro K7QF-2M9X", "K7QF-2M9X", "1 euro"),
        ("1 euro K7QF 2M9X", "K7QF 2M9X", "1 euro"),
        ("12,- K7QF-2M9X", "K7QF-2M9X", "12,-"),
        ("K7QF-2M9X 12,50", "K7QF-2M9X", "12,50"),
        ("K7QF 2M9X 12,50", "K7QF2M9X", "12,50"),
    ],
)
def test_the_code_and_amount_are_split_either_way(args: str, code: str, amount: str) -> None:
    assert _split_redeem_args(args) == (code, amount)


@pytest.mark.parametrize(
    ("line", "taken"), [("/redeem 0,50 € K7QF-2M9X", 50), ("/redeem 1 euro K7QF-2M9X", 100)]
)
async def test_redeem_with_the_amount_and_a_currency_word_first(
    app: App, owner, line: str, taken: int  # noqa: F811
) -> None:
    olga = await owner()
    await olga.say(line)  # before: "Das ist kein Gutscheincode."
    assert "Eingelöst:" in olga.last().text, olga.text()
    assert await balance_of(app, CODE) == 1250 - taken


# --- 3. a bad amount is said before a spent voucher's balance --------------------------------


async def test_a_negative_amount_on_a_spent_voucher_says_the_amount(owner) -> None:  # noqa: F811
    olga = await owner()
    await olga.say(f"/redeem {CODE} alles")
    await olga.say(f"/redeem {CODE} -5")
    assert olga.last().text == "Der Betrag muss größer als 0 sein.", olga.text()


# --- 4. following the shop in view --------------------------------------------------------------


@pytest.mark.parametrize("wish", ["follow it", "follow them", "i want to follow that shop"])
async def test_follow_it_after_the_card_follows_that_shop(chat_en: Chat, wish: str) -> None:
    await chat_en.say("is cafe rosa open today?")
    await chat_en.say(wish)  # before: "Which shop would you like to follow?"
    assert "You now follow Café Rosa" in chat_en.last().text, chat_en.text()


@pytest.mark.parametrize("wish", ["folge dem laden", "dem will ich folgen"])
async def test_folge_dem_laden_after_the_card_follows_that_shop(chat: Chat, wish: str) -> None:
    await chat.say("hat café rosa heute offen?")
    await chat.say(wish)
    assert "Du folgst jetzt Café Rosa" in chat.last().text, chat.text()


async def test_unfollow_them_after_the_card_unfollows_that_shop(chat_en: Chat) -> None:
    await chat_en.say("/follow Café Rosa")
    await chat_en.say("/follow Bäckerei Müller")
    await chat_en.say("is cafe rosa open today?")
    await chat_en.say("unfollow them")  # before: the list of followed shops to pick from
    assert "You won't get updates from Café Rosa" in chat_en.last().text, chat_en.text()


async def test_follow_it_without_a_card_still_asks_which_shop(chat_en: Chat) -> None:
    await chat_en.say("follow it")
    assert "Which shop would you like to follow?" in chat_en.last().text, chat_en.text()


# --- 5. /follow with punctuation only -------------------------------------------------------


@pytest.mark.parametrize("line", ["/follow ...", "/follow ?!", "/follow"])
async def test_follow_with_no_name_gives_the_usage(chat: Chat, line: str) -> None:
    await chat.say(line)
    assert chat.last().text == "Schreib den Namen des Ladens dazu, z. B. /follow Café Rosa"

