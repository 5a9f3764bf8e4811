"""Vouchers, found by testers (round 5): 'alles' at the till takes the whole balance, a
message that names no shop keeps the shop question's own buttons, and a buyer's /mydata
counts her own ledger entries under her voucher, not as till entries."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from storage import shops, vouchers
from tests.conftest import Chat
from tests.test_vouchers_chat import balance_of, bought, owner  # noqa: F401 (a fixture)
from tests.test_vouchers_round4 import sellers

# --- 2. "alles" at the amount step ----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "said", "taken"),
    [
        ("de", "alles", "Eingelöst: 12,50 € von K7QF-2M9X. Restguthaben: 0,00 €"),
        ("de", "den rest", "Eingelöst: 12,50 € von K7QF-2M9X. Restguthaben: 0,00 €"),
        ("en", "all", "Redeemed: €12.50 from K7QF-2M9X"),
        ("en", "the rest", "Redeemed: €12.50 from K7QF-2M9X"),
    ],
)
async def test_all_at_the_amount_step_takes_the_whole_balance(
    app: App, owner, language, said, taken  # noqa: F811
) -> None:
    olga = await owner(language=language)
    await olga.say("/redeem K7QF-2M9X")
    await olga.say(said)
    assert taken in olga.last().text, olga.text()
    assert await balance_of(app, "K7QF-2M9X") == 0


async def test_redeem_with_all_in_the_command_takes_the_whole_balance(
    app: App, owner  # noqa: F811
) -> None:
    olga = await owner()
    await olga.say("/redeem K7QF-2M9X alles")
    assert "Eingelöst: 12,50 € von K7QF-2M9X" in olga.last().text, olga.text()
    assert await balance_of(app, "K7QF-2M9X") == 0
    await olga.say("/redeem K7QF-2M9X alles")  # nothing left: said, nothing taken
    assert "nur noch 0,00 €" in olga.last().text, olga.text()


# --- 3. a message that names no shop at the shop step ---------------------------------------


@pytest.mark.parametrize(
    ("language", "start", "confused"),
    [
        ("de", "ich will einen gutschein kaufen", "keine ahnung"),
        ("de", "ich will einen gutschein kaufen", "hä? was willst du von mir wissen"),
        ("en", "i want to buy a voucher", "i have no idea what you want from me"),
        ("en", "i want to buy a voucher", "the one at the corner"),
    ],
)
async def test_a_message_naming_no_shop_keeps_all_voucher_shops_as_buttons(
    app: App, chat_factory, language, start, confused
) -> None:
    chat = chat_factory("anna", language)
    await chat.say(f"/language {language}")
    await chat.say(start)
    offered = chat.labels()[:-1]
    assert offered == await sellers(app)
    await chat.say(confused)
    assert chat.labels()[:-1] == offered, chat.text()


async def test_a_near_miss_still_gets_the_closest_shops(chat: Chat) -> None:
    await chat.say("ich will einen gutschein kaufen")
    await chat.say("Hombruh Rad")  # no fuzzy match of the whole, but close to its words
    assert "Meintest du" in chat.turns[-1][0].text
    assert chat.labels()[:-1] == ["Radwerk Hombruch"], chat.text()


async def test_naming_similarity_ignores_short_shared_words(app: App) -> None:
    async with app.sessions() as db:
        markt = await shops.shop_by_key(db, "buchhandlung-am-markt")
    assert markt is not None
    assert not shops.names_shop("what am I supposed to do here", markt)
    assert shops.names_shop("buchhandlung", markt)
    assert shops.names_shop("buchhandlungammarkt", markt)


# --- 4. /mydata of a buyer ------------------------------------------------------------------


async def test_a_buyers_own_entries_are_under_her_voucher_not_till_entries(
    chat: Chat,
) -> None:
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    await chat.say("/mydata")
    summary = chat.last().text
    assert "Kassenbuchungen" not in summary, summary
    assert "Gutscheine und Spenden: 1" in summary, summary
    data = json.loads(chat.last().file.content)
    assert data["voucher_till_entries"] == []
    (mine,) = data["vouchers"]
    assert mine["code"] == code
    assert [entry["kind"] for entry in mine["entries"]] == [vouchers.ISSUE]


async def test_an_owners_till_entries_keep_their_label(chat: Chat, owner) -> None:  # noqa: F811
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner()
    await olga.say(f"/confirmpay {code}")
    await olga.say(f"/redeem {code} 5")
    await olga.say("/mydata")
    assert "Kassenbuchungen: 2" in olga.last().text, olga.text()
    data = json.loads(olga.last().file.content)
    kinds = [entry["kind"] for entry in data["voucher_till_entries"]]
    assert kinds == [vouchers.PAYMENT, vouchers.REDEMPTION]
