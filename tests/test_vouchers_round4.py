"""Vouchers, found by testers (round 4): QR format, letter-only codes, a range changed before
confirming, amounts in words, the shops offered at the buy form's shop step."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import update

from bot.app import App
from handlers.vouchers import qr_png
from storage import vouchers
from storage.shops import Shop, all_shops, shop_by_key
from storage.users import create_invite
from storage.vouchers import Voucher
from tests.conftest import Chat
from tests.test_vouchers_chat import balance_of, code_in, voucher

LETTERS_ONLY = "GSEZ-RDNM"  # a valid code without a digit (about 8 % of codes look like this)


@pytest.fixture
def owner(app: App, chat_factory: Callable[..., Chat]) -> Callable[..., object]:
    """A shop owner of a shop (claimed with an invite code)."""

    async def make(shop: str = "cafe-rosa", user: str = "olga") -> Chat:
        async with app.sessions() as db, db.begin():
            invite = await create_invite(db, "shop_owner", shop)
        person = chat_factory(user, "de")
        await person.say(f"/claim {invite.code}")
        return person

    return make


async def set_shop(app: App, key: str, **values: object) -> None:
    """Change a shop as its owner would (range, taking part in the vouchers)."""
    async with app.sessions() as db, db.begin():
        await db.execute(update(Shop).where(Shop.key == key).values(**values))


def turn_text(chat: Chat) -> str:
    """All replies of the last turn, one after the other."""
    return "\n".join(reply.text for reply in chat.turns[-1])


# --- 1. the QR is a normal QR code --------------------------------------------------------


async def test_the_voucher_qr_is_a_normal_qr_code_not_micro_qr(chat: Chat) -> None:
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png("K7QF2M9X"))))[0].format == (
        zxingcpp.BarcodeFormat.QRCode
    )
    await chat.say("gutschein über 25 euro für café rosa")
    await chat.say("ja")
    image = chat.last().image
    assert image is not None
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.content)))
    assert [(f.format, f.text) for f in found] == [
        (zxingcpp.BarcodeFormat.QRCode, code_in(chat.last().text))
    ]


# --- 2. codes made only of letters ----------------------------------------------------------


async def reserved_with_code(app: App, chat: Chat, code: str) -> None:
    """Buy a voucher and give it a code without a digit."""
    await chat.say("gutschein über 25 euro für café rosa")
    await chat.say("ja")
    issued = code_in(chat.last().text).replace("-", "")
    async with app.sessions() as db, db.begin():
        await db.execute(
            update(Voucher).where(Voucher.code == issued).values(code=code.replace("-", ""))
        )


@pytest.mark.parametrize(
    "line",
    [f"/balance {LETTERS_ONLY} bitte", f"/balance bitte {LETTERS_ONLY}",
     f"/balance bitte {LETTERS_ONLY.lower()}", f"/balance {LETTERS_ONLY.replace('-', '')} bitte"],
)
async def test_a_code_of_letters_only_is_read_among_other_words(
    app: App, chat: Chat, line: str
) -> None:
    await reserved_with_code(app, chat, LETTERS_ONLY)
    await chat.say(line)
    assert f"{LETTERS_ONLY} (Café Rosa)" in chat.last().text, chat.last().text


async def test_confirmpay_reads_a_code_of_letters_only_among_other_words(
    app: App, chat: Chat, owner
) -> None:
    await reserved_with_code(app, chat, LETTERS_ONLY)
    olga = await owner()
    await olga.say(f"/confirmpay {LETTERS_ONLY} bitte")
    assert "Zahlung bestätigt" in olga.last().text, olga.last().text
    assert (await voucher(app, LETTERS_ONLY)).state == "active"


@pytest.mark.parametrize(
    "text", ["bitte", "please", "guthaben", "guthaben bitte", "abendbar bitte", "gsezrdnm bitte",
             "GSEZ-RDN bitte", "wie viel ist drauf"]
)
def test_ordinary_words_are_no_code(text: str) -> None:
    assert vouchers.code_in_text(text) is None


# --- 3. the shop changed between the amount and the confirmation -----------------------------


async def test_an_amount_the_narrowed_range_no_longer_allows_is_asked_again(
    app: App, chat: Chat
) -> None:
    await chat.say("gutschein über 100 euro für café rosa")
    await set_shop(app, "cafe-rosa", voucher_max_cents=5000)
    await chat.press("Bestätigen")
    assert "zwischen 5,00 € und 50,00 €" in chat.turns[-1][0].text
    assert "Über welchen Betrag?" in chat.last().text, "the amount is asked again in the form"
    await chat.say("40")
    assert chat.last().text.startswith("Gutschein über 40,00 € für Café Rosa")
    await chat.say("ja")
    assert (await voucher(app, code_in(chat.last().text))).face_cents == 4000


async def test_a_shop_that_stopped_selling_is_named_at_the_confirmation(
    app: App, chat: Chat
) -> None:
    await chat.say("gutschein über 20 euro für bäckerei müller")
    await set_shop(app, "baeckerei-mueller", sells_vouchers=False)
    await chat.press("Bestätigen")
    assert "Bäckerei Müller verkauft zurzeit keine Gutscheine." in chat.last().text
    assert "gibt es nicht mehr" not in chat.last().text


# --- 4. amounts in words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("zwanzig", "20,00 €"), ("fünf", "5,00 €"), ("fünfundzwanzig", "25,00 €"),
     ("Zwanzig.", "20,00 €")],
)
async def test_a_bare_number_word_is_an_amount(chat: Chat, typed: str, amount: str) -> None:
    await chat.say("gutschein für café rosa")
    await chat.say(typed)
    assert chat.last().text.startswith(f"Gutschein über {amount} für Café Rosa"), chat.text()


async def test_a_bad_redeem_amount_does_not_repeat_the_balance(app: App, owner) -> None:
    olga = await owner()
    await olga.say("/redeem K7QF-2M9X")
    await olga.say("abc")
    assert turn_text(olga).count("12,50 €") == 1, turn_text(olga)
    assert "Wie viel soll von K7QF-2M9X abgebucht werden?" in olga.last().text
    await olga.say("zwei")
    assert "Eingelöst: 2,00 € von K7QF-2M9X" in olga.last().text
    assert await balance_of(app, "K7QF-2M9X") == 1050


# --- 5. the shops offered at the shop step ---------------------------------------------------


async def sellers(app: App) -> list[str]:
    async with app.sessions() as db:
        return [shop.name for shop in await all_shops(db) if shop.sells_vouchers]


async def test_the_shop_question_offers_the_voucher_shops_as_buttons(
    app: App, chat: Chat
) -> None:
    await chat.say("ich möchte einen gutschein kaufen")
    offered = chat.labels()[:-1]
    assert offered == await sellers(app)
    assert "Kastanien-Apotheke" not in offered and "Feinkost Anatolia" not in offered


async def test_an_unknown_shop_offers_voucher_shops_as_buttons(app: App, chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein kaufen")
    await chat.say("🥐")
    assert "Meintest du" in chat.turns[-1][0].text
    offered = chat.labels()[:-1]
    assert offered and set(offered) <= set(await sellers(app)), offered
    await chat.say("Kastanien Apothke")  # close to a shop without vouchers
    offered = chat.labels()[:-1]
    assert offered and "Kastanien-Apotheke" not in offered, offered
    await chat.press(offered[0])
    assert "Über welchen Betrag?" in chat.last().text


async def test_a_category_with_one_voucher_shop_takes_it(app: App, chat: Chat) -> None:
    async with app.sessions() as db:
        rosa = await shop_by_key(db, "cafe-rosa")
        assert rosa is not None and rosa.category == "cafe"
    await chat.say("ich möchte einen gutschein für ein café")
    assert "Café Rosa" in chat.text() and "Über welchen Betrag?" in chat.last().text
    await chat.say("10")
    assert chat.last().text.startswith("Gutschein über 10,00 € für Café Rosa")
