"""Vouchers in the console, German and English: buy, donate, balance, redeem, confirm, sales."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from bot.app import App
from bot.console import render
from bot.messages import Attachment, Reply
from handlers.vouchers import qr_png
from storage import vouchers
from storage.base import utcnow
from storage.outbox import OutboxMessage
from storage.reminders import Reminder
from storage.shops import Shop, shop_by_key
from storage.users import create_invite
from storage.vouchers import LedgerEntry, Voucher
from tests.conftest import Chat
from tests.personas import signed

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")
UNKNOWN = vouchers.format_code("AAAAAAA" + vouchers.check_char("AAAAAAA"))  # valid, not sold


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(0)


async def voucher_count(app: App) -> int:
    async with app.sessions() as db:
        return await db.scalar(select(func.count()).select_from(Voucher))


async def voucher(app: App, code: str) -> Voucher:
    async with app.sessions() as db:
        found = await vouchers.by_code(db, code.replace("-", ""))
        assert found is not None
        return found


async def balance_of(app: App, code: str) -> int:
    async with app.sessions() as db:
        return await vouchers.balance(db, (await voucher(app, code)).id)


async def shop_id(app: App, key: str) -> int:
    async with app.sessions() as db:
        shop = await shop_by_key(db, key)
        assert shop is not None
        return shop.id


async def press_payload(chat: Chat, data: str) -> list[Reply]:
    """A button press with a payload (as from a shop card of the shops service)."""
    incoming = replace(chat.transport.incoming("button"), kind="button", text="")
    incoming = replace(incoming, payload=signed(chat.app, incoming.chat_id, data))
    replies = await chat.app.dispatcher.handle(incoming)
    chat.turns.append(replies)
    return replies


async def send_photo(chat: Chat, image: bytes, caption: str = "") -> list[Reply]:
    """A photo with a caption (as the transports deliver it)."""
    incoming = replace(
        chat.transport.incoming(caption or "photo"),
        kind="text",
        text=caption,
        image=Attachment("photo.png", image, "image/png"),
    )
    replies = await chat.app.dispatcher.handle(incoming)
    chat.turns.append(replies)
    return replies


@pytest.fixture
def owner(app: App, chat_factory: Callable[..., Chat]) -> Callable[..., object]:
    """A shop owner of a shop (claimed with an invite code), in a language."""

    async def make(shop: str = "cafe-rosa", user: str = "olga", language: str = "de") -> Chat:
        async with app.sessions() as db, db.begin():
            invite = await create_invite(db, "shop_owner", shop)
        person = chat_factory(user, language)
        await person.say(f"/language {language}")
        await person.say(f"/claim {invite.code}")
        return person

    return make


async def bought(chat: Chat, text: str, yes: str = "ja") -> str:
    await chat.say(text)
    await chat.say(yes)
    return code_in(chat.last().text)


# --- buying ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "yes", "amount", "word"),
    [
        ("de", "ich möchte einen gutschein über 25 euro für café rosa", "ja", "25,00 €", "Code"),
        ("en", "buy a 25 euro voucher for Café Rosa", "yes", "€25.00", "code"),
    ],
)
async def test_buying_in_one_message_reserves_and_sends_code_and_qr(
    app: App, chat_factory, language, text, yes, amount, word
) -> None:
    chat = chat_factory("anna", language)
    await chat.say(f"/language {language}")
    await chat.say(text)
    assert amount in chat.last().text and "Café Rosa" in chat.last().text
    await chat.say(yes)
    reply = chat.last()
    code = code_in(reply.text)
    assert word in reply.text
    assert reply.image is not None and reply.image.mime_type == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(reply.image.content)))
    assert [found.text for found in decoded] == [code]
    found = await voucher(app, code)
    assert (found.state, found.face_cents, found.payment) == ("reserved", 2500, "shop")
    await chat.say("/vouchers")
    assert code in chat.last().text and amount in chat.last().text


@pytest.mark.parametrize(
    ("language", "start", "labels", "yes"),
    [
        ("de", "ich möchte einen gutschein kaufen", ["10,00 €", "25,00 €", "50,00 €"], "ja"),
        ("en", "I want to buy a voucher", ["€10.00", "€25.00", "€50.00"], "yes"),
    ],
)
async def test_the_form_asks_shop_then_amount_and_refuses_bad_amounts(
    app: App, chat_factory, language, start, labels, yes
) -> None:
    chat = chat_factory("anna", language)
    await chat.say(f"/language {language}")
    await chat.say(start)
    await chat.say("xyzzy quux")
    assert {"de": "Meintest du", "en": "Did you mean"}[language] in chat.turns[-1][0].text
    await chat.say("cafe rosa")
    assert chat.labels()[:3] == labels
    for bad, reason in [
        ("-5", {"de": "größer als 0", "en": "more than 0"}),
        ("0", {"de": "größer als 0", "en": "more than 0"}),
        ("1e9", {"de": "nicht als Betrag", "en": "read that as an amount"}),
        ("zwölf fuffzig", {"de": "nicht als Betrag", "en": "read that as an amount"}),
        ({"de": "12,505", "en": "12.505"}, {"de": "Nachkommastellen", "en": "decimals"}),
        ("1000", {"de": "zwischen 5,00 € und 250,00 €", "en": "between €5.00 and €250.00"}),
    ]:
        typed = bad[language] if isinstance(bad, dict) else bad
        await chat.say(typed)
        assert reason[language] in chat.turns[-1][0].text, typed
        assert chat.labels()[:3] == labels, "the question is asked again"
    assert await voucher_count(app) == 1, "only the demo voucher; nothing was booked"
    await chat.say("30,50")
    assert ("30,50 €" if language == "de" else "€30.50") in chat.last().text
    code = code_in((await chat.say(yes))[-1].text)
    assert (await voucher(app, code)).face_cents == 3050


async def test_an_amount_button_answers_the_question(app: App, chat: Chat) -> None:
    await chat.say("gutschein für die buchhandlung am markt")
    await chat.press("25,00 €")
    assert "25,00 €" in chat.last().text and "Buchhandlung am Markt" in chat.last().text
    code = code_in((await chat.say("ja"))[-1].text)
    assert (await voucher(app, code)).face_cents == 2500


async def test_an_unknown_shop_gets_the_closest_names(chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein kaufen")
    await chat.say("Zzzyx Bazaar")
    assert "Meintest du" in chat.turns[-1][0].text
    assert "Laden" in chat.last().text, "the shop is asked again"
    await chat.say("Blumenladn Lindenblüt")
    assert "Betrag" in chat.last().text, "a near miss is matched fuzzily"


async def test_an_amount_outside_the_shops_limits_is_said_and_asked_again(chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein über 900 euro für café rosa")
    assert "zwischen 5,00 € und 250,00 €" in chat.turns[-1][0].text
    assert "25,00 €" in chat.labels()


async def test_a_shop_without_vouchers_takes_no_support_either(app: App, chat: Chat) -> None:
    pharmacy = await shop_id(app, "kastanien-apotheke")
    replies = await press_payload(chat, f"voucher.buy:{pharmacy}")
    assert "nicht an den Gutscheinen teil" in replies[0].text and replies[0].buttons == []
    replies = await press_payload(chat, f"voucher.donate:{pharmacy}")  # an old card's button
    assert "Kastanien-Apotheke nimmt zurzeit nicht an den Gutscheinen teil" in replies[-1].text
    assert replies[-1].buttons == []
    rosa = await shop_id(app, "cafe-rosa")
    async with app.sessions() as db:
        before = await db.scalar(select(func.count()).select_from(Voucher))
    await press_payload(chat, f"voucher.donate:{rosa}")  # support begun, then Rosa opts out
    await chat.press("10,00 €")
    async with app.sessions() as db, db.begin():
        shop = await db.get(Shop, rosa)
        assert shop is not None
        shop.sells_vouchers = False
    await chat.say("ja")  # the shop is named, not said to be gone (it still exists)
    assert "Café Rosa nimmt zurzeit nicht an den Gutscheinen teil" in chat.last().text
    async with app.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Voucher)) == before


async def test_stale_buttons_change_nothing(app: App, chat: Chat) -> None:
    await press_payload(chat, f"voucher.buy:{await shop_id(app, 'cafe-rosa')}")
    amount_button = next(b.payload for b in chat.turns[-1][-1].buttons if "25" in b.label)
    await chat.say("abbrechen")
    replies = await press_payload(chat, amount_button)
    assert "gilt nicht mehr" in replies[0].text
    replies = await press_payload(chat, "voucher.buy:999999")
    assert "nichts gebucht" in replies[0].text
    assert await voucher_count(app) == 1


# --- paying in the shop, redeeming ----------------------------------------------------------


async def test_confirmpay_activates_once_and_tells_the_buyer(app: App, chat: Chat, owner) -> None:
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner()
    await olga.say(f"/confirmpay {code}")
    assert "Zahlung bestätigt" in olga.last().text
    found = await voucher(app, code)
    assert found.state == "active" and found.expires_at is not None
    year = utcnow().astimezone(app.config.city.tz).year
    await olga.say(f"/confirmpay {code.lower()}")
    assert "schon bestätigt" in olga.last().text
    async with app.sessions() as db:
        payments = await db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.voucher_id == found.id, LedgerEntry.kind == "payment")
        )
        told = await db.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedup_key == f"voucher-paid:{found.id}")
        )
        reminder = await db.scalar(select(Reminder).where(Reminder.ref == f"voucher:{found.id}"))
    assert payments == 1 and told == 1
    assert reminder is not None and reminder.message_key == "vouchers.reminder.expiry"
    assert reminder.due_at == found.expires_at - timedelta(days=30)
    await chat.say("/vouchers")
    assert f"gültig bis 31.12.{year + 3}" in chat.last().text


@pytest.mark.parametrize(
    ("language", "redeem_words", "rest_word"),
    [
        ("de", "gutschein {code} über 12,50 einlösen", "Restguthaben: 2,50 €"),
        ("en", "redeem 12.50 euros from code {code}", "Remaining balance: €2.50"),
    ],
)
async def test_partial_redemptions_and_more_than_the_balance(
    app: App, chat: Chat, owner, language, redeem_words, rest_word
) -> None:
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner(language=language)
    await olga.say(f"/confirmpay {code}")
    await olga.say(f"/redeem {code} 10,-")  # whole euros as on a price tag
    assert ("15,00 €" if language == "de" else "€15.00") in olga.last().text
    await olga.say(redeem_words.format(code=code))
    assert rest_word in olga.last().text
    await olga.say(f"/redeem {code.replace('-', '').lower()} 5")
    assert ("nur noch 2,50 €" if language == "de" else "only has €2.50") in olga.last().text
    assert await balance_of(app, code) == 250
    await olga.say(f"/redeem {'2,50' if language == 'de' else '2.50'} {code}")  # amount first
    assert await balance_of(app, code) == 0
    await chat.say(f"/balance {code}")
    assert "aufgebraucht" in chat.last().text and "anna" not in chat.last().text.lower()


async def test_redemptions_refused_with_the_reason_and_nothing_changed(
    app: App, chat: Chat, owner, chat_factory
) -> None:
    reserved = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner()
    bakery = await owner("baeckerei-mueller", "bernd")
    cases = [
        (olga, f"/redeem {reserved} 5", "noch nicht bezahlt"),
        (olga, "/redeem K7QF-2M9X 20", "nur noch 12,50 €"),
        (olga, "/redeem K7QF-2M9X -5", "größer als 0"),
        (olga, "/redeem K7QF-2M9X 1e9", "nicht als Betrag"),
        (bakery, "/redeem K7QF-2M9X 5", "anderen Laden"),
        (olga, "/redeem K7QF-2M9A 5", "vertippt"),
        (olga, "/redeem K7QF-2M 5", "kein Gutscheincode"),
        (olga, f"/redeem {UNKNOWN} 5", "gibt es nicht"),
        (chat, "/redeem K7QF-2M9X 5", "shop owner" if False else "Ladeninhaber"),
    ]
    for person, line, reason in cases:
        await person.say(line)
        assert reason in person.last().text, (line, person.last().text)
    assert await balance_of(app, "K7QF-2M9X") == 1250
    assert await balance_of(app, reserved) == 2500


async def test_lapsed_and_expired_vouchers_are_refused(app: App, chat: Chat, owner) -> None:
    unpaid = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner()
    async with app.sessions() as db, db.begin():
        lapsed = await vouchers.lapse_due(db, utcnow() + timedelta(days=8))
        expired = await vouchers.expire_due(db, utcnow() + timedelta(days=365 * 5))
    assert [v.code for v in lapsed] == [unpaid.replace("-", "")]
    assert [v.code for v in expired] == ["K7QF2M9X"]
    await olga.say(f"/redeem {unpaid} 5")
    assert "verfallen" in olga.last().text
    await olga.say("/redeem K7QF-2M9X 5")
    assert "abgelaufen" in olga.last().text
    assert await balance_of(app, unpaid) == 0 and await balance_of(app, "K7QF-2M9X") == 0
    await chat.say(f"/balance {unpaid}")
    assert "verfallen" in chat.last().text


async def test_wrong_codes_are_throttled(app: App, chat: Chat) -> None:
    for _ in range(5):
        await chat.say(f"/balance {UNKNOWN}")
        assert "gibt es nicht" in chat.last().text
    await chat.say("/balance K7QF-2M9X")
    assert "in ein paar Minuten" in chat.last().text
    await chat.say("/balance K7QF-2M9A")
    assert "vertippt" in chat.last().text, "a typo is told as such, without a lookup"


async def test_balance_in_words_and_lookalikes(chat_en: Chat) -> None:
    await chat_en.say("how much is left on K7QF-2M9X")
    assert "€12.50 of €25.00" in chat_en.last().text
    await chat_en.say("/balance k7of 2m9x")
    assert "K7QF-2M9X" in chat_en.last().text and "€12.50" in chat_en.last().text


# --- QR photos ------------------------------------------------------------------------------


async def test_a_photo_of_the_qr_code_redeems(app: App, chat: Chat, owner) -> None:
    olga = await owner()
    replies = await send_photo(olga, qr_png("K7QF2M9X"), "2,50")
    assert "Restguthaben: 10,00 €" in replies[-1].text
    await send_photo(olga, qr_png("K7QF2M9X"))
    assert "Wie viel soll von K7QF-2M9X abgebucht werden? Guthaben: 10,00 €" in olga.last().text
    await olga.say("4")
    assert "Restguthaben: 6,00 €" in olga.last().text
    blank = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(blank, "PNG")
    await send_photo(olga, blank.getvalue(), "5")
    assert "keinen QR-Code" in olga.last().text
    await send_photo(chat, qr_png("K7QF2M9X"), "5")
    assert "Fotos" in chat.last().text
    assert await balance_of(app, "K7QF-2M9X") == 600


async def test_the_redeem_amount_asked_again_names_code_and_balance(owner) -> None:
    olga = await owner()
    await olga.say("/redeem K7QF-2M9X")
    asked = "Wie viel soll von K7QF-2M9X abgebucht werden? Guthaben: 12,50 €"
    assert asked in olga.last().text
    await olga.say("/help")  # an interruption: the pending question comes again, in full
    assert asked in olga.last().text
    await olga.say("abc")  # a bad answer: the error and the same full question
    assert asked in olga.last().text
    await olga.say("2,50")
    assert "Restguthaben: 10,00 €" in olga.last().text


# --- donations and sales --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "label", "yes", "thanks"),
    [("de", "10,00 €", "ja", "Danke"), ("en", "€10.00", "yes", "Thank you")],
)
async def test_donation_paid_in_the_shop_shows_in_sales(
    app: App, chat_factory, owner, language, label, yes, thanks
) -> None:
    person = chat_factory("dora", language)
    await person.say(f"/language {language}")
    await press_payload(person, f"voucher.donate:{await shop_id(app, 'cafe-rosa')}")
    assert "#wirstehenhinterdir" in person.turns[-1][0].text
    await person.press(label)
    summary = person.last().text  # a donation's payment note promises no voucher
    assert "gilt der Gutschein" not in summary and "voucher is valid" not in summary, summary
    assert "im Laden" in summary or "in the shop" in summary, summary
    await person.say(yes)
    assert thanks in person.last().text and person.last().image is None
    reference = code_in(person.last().text)
    olga = await owner(language=language)
    await olga.say(f"/confirmpay {reference}")
    await olga.say(f"/redeem {reference} 5")
    assert "donation" in olga.last().text or "Unterstützung" in olga.last().text
    await person.say(f"/balance {reference}")
    assert "no balance" in person.last().text or "kein Guthaben" in person.last().text
    await olga.say("/sales")
    text = olga.last().text
    assert text.count(label) == 2, text  # donations this month and in total


async def test_sales_and_the_ledger_as_csv(app: App, chat: Chat, owner) -> None:
    code = await bought(chat, "gutschein über 50 euro für café rosa")
    olga = await owner()
    await olga.say(f"/confirmpay {code}")
    await olga.say(f"/redeem {code} 20")
    await olga.say("/sales")
    text = olga.last().text
    # with the demo voucher K7QF-2M9X (25 €, 12,50 € spent), seeded this month
    assert "Diesen Monat: 2 verkauft für 75,00 €, eingelöst 32,50 €" in text
    assert "Offenes Guthaben: 42,50 €" in text  # 30 € + the demo voucher's 12,50 €
    await olga.say("/sales csv")
    sheet = olga.last().file
    assert sheet is not None and sheet.mime_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode())))
    mine = [(r["entry"], r["amount_eur"], r["paid_eur"]) for r in rows if r["code"] == code]
    assert mine == [("issue", "50.00", "0.00"), ("payment", "0.00", "50.00"),
                    ("redemption", "-20.00", "0.00")]
    await chat.say("/sales")
    assert "Ladeninhaber" in chat.last().text


# --- time passing and privacy ---------------------------------------------------------------


async def test_housekeeping_lapses_expires_and_drops_the_reminder(
    app: App, chat: Chat, owner
) -> None:
    from handlers.vouchers import housekeeping

    paid = await bought(chat, "gutschein über 25 euro für café rosa")
    unpaid = await bought(chat, "gutschein über 10 euro für café rosa")
    olga = await owner()
    await olga.say(f"/confirmpay {paid}")
    found = await voucher(app, paid)
    async with app.sessions() as db, db.begin():
        assert await housekeeping(db) == (0, 0)
    async with app.sessions() as db, db.begin():
        await db.execute(
            Voucher.__table__.update()
            .where(Voucher.code == unpaid.replace("-", ""))
            .values(reserved_until=utcnow() - timedelta(minutes=1))
        )
        await db.execute(
            Voucher.__table__.update()
            .where(Voucher.id == found.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    async with app.sessions() as db, db.begin():
        assert await housekeeping(db) == (1, 1)
        reminder = await db.scalar(select(Reminder).where(Reminder.ref == f"voucher:{found.id}"))
        assert reminder is not None and reminder.status == "cancelled"
    assert await balance_of(app, paid) == 0 and await balance_of(app, unpaid) == 0
    await chat.say("/vouchers")
    assert "abgelaufen" in chat.last().text and "verfallen" in chat.last().text


async def test_a_category_offers_its_shops_as_buttons(chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein für eine bäckerei kaufen")
    assert {"Bäckerei Müller", "Backstube Wiesmann"} <= set(chat.labels())
    await chat.press("Backstube Wiesmann")
    assert "Betrag" in chat.last().text


async def test_an_amount_said_before_the_shop_is_chosen_is_kept(chat: Chat) -> None:
    await chat.say("gutschein über 20 euro für eine bäckerei")
    await chat.press("Bäckerei Müller")  # the 20 € said first: checked now, not asked again
    assert chat.last().text.startswith("Gutschein über 20,00 € für Bäckerei Müller")
    await chat.say("abbrechen")
    await chat.say("gutschein über 900 euro für eine bäckerei")
    await chat.press("Bäckerei Müller")  # out of this shop's range: said, then asked
    assert "zwischen" in chat.text() and "Betrag" in chat.last().text


async def test_erasing_the_buyer_keeps_the_voucher_for_its_holder(
    app: App, chat: Chat, owner
) -> None:
    code = await bought(chat, "gutschein über 25 euro für café rosa")
    await chat.say("/mydata")
    assert code in chat.last().file.content.decode()
    await chat.say("/deletedata")
    await chat.press("lösch")
    found = await voucher(app, code)
    assert found.buyer_id is None and found.state == "reserved"
    olga = await owner()
    await olga.say(f"/confirmpay {code}")
    assert "Zahlung bestätigt" in olga.last().text


async def test_an_offer_withdrawn_before_confirming_books_nothing(app: App, chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein über 25 euro für café rosa")
    async with app.sessions() as db, db.begin():
        shop = await shop_by_key(db, "cafe-rosa")
        shop.sells_vouchers = False
    await chat.press("Bestätigen")
    assert "nichts gebucht" in chat.last().text
    assert await voucher_count(app) == 1


async def test_refusals_in_english(app: App, chat_en: Chat, owner) -> None:
    olga = await owner(language="en", user="oliver")
    bakery = await owner("baeckerei-mueller", "bernd", "en")
    for person, line, reason in [
        (olga, "/redeem K7QF-2M9X 20", "only has €12.50 left"),
        (bakery, "/redeem K7QF-2M9X 5", "another shop"),
        (olga, "/redeem K7QF-2M9A 5", "mistyped"),
        (olga, f"/redeem {UNKNOWN} 5", "no voucher with this code"),
        (olga, "/redeem K7QF-2M9X 12.505", "two decimals"),
        (olga, "/confirmpay K7QF-2M9X", "already confirmed"),
        (chat_en, "/redeem K7QF-2M9X 5", "shop owner"),
        (chat_en, "redeem 5 euros from code K7QF-2M9X", "shop owner"),
    ]:
        await person.say(line)
        assert reason in person.last().text, (line, person.last().text)
    assert await balance_of(app, "K7QF-2M9X") == 1250


async def test_the_recurring_job_runs_housekeeping(app: App, chat: Chat) -> None:
    from bot.scheduler import RECURRING, bind
    from handlers.vouchers import voucher_housekeeping

    await bought(chat, "gutschein über 25 euro für café rosa")
    bind(app)
    try:
        assert "voucher_housekeeping" in RECURRING
        assert await voucher_housekeeping() == (0, 0), "a fresh reservation stays"
    finally:
        bind(None)  # type: ignore[arg-type]


async def test_a_typed_number_in_an_amount_step_is_an_amount_not_the_cancel_button(
    app: App, chat: Chat, tmp_path
) -> None:
    await press_payload(chat, f"voucher.donate:{await shop_id(app, 'cafe-rosa')}")
    labels = chat.labels()
    assert labels[-1] == "Abbrechen" and len(labels) == 4  # three amounts, then Cancel
    shown = render(chat.turns[-1], tmp_path)
    assert "  [3] 25,00 €\n  Abbrechen" in shown  # Cancel is typed by its label, not a number
    await chat.say("4")  # the fourth button would have been Cancel
    assert "Unterstützung für Café Rosa: 4,00 €" in chat.last().text
    await chat.say("abbrechen")
    assert "Abgebrochen" in chat.last().text


# --- found by testers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "question", "zero", "taken"),
    [
        ("de", "Wie viel soll von {code} abgebucht werden? Guthaben: {balance}", "größer als 0",
         "Eingelöst: 1,00 € von {code}"),
        ("en", "How much should be taken from {code}? Balance: {balance}", "more than 0",
         "Redeemed: €1.00 from {code}"),
    ],
)
async def test_a_new_redeem_replaces_the_open_one_and_its_question_names_the_code(
    app: App, chat: Chat, owner, language, question, zero, taken
) -> None:
    second = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner(language=language)
    await olga.say(f"/confirmpay {second}")
    demo, full = ("12,50 €", "25,00 €") if language == "de" else ("€12.50", "€25.00")
    await olga.say("/redeem K7QF-2M9X")
    assert olga.last().text == question.format(code="K7QF-2M9X", balance=demo)
    await olga.say(f"/redeem {second} 0")  # another code, a bad amount: that code is asked about
    assert zero in olga.text() and "K7QF-2M9X" in olga.text()  # the dropped one is named
    assert olga.last().text.endswith(question.format(code=second, balance=full))
    await olga.say("1")
    assert taken.format(code=second) in olga.last().text
    assert await balance_of(app, "K7QF-2M9X") == 1250, "the first voucher is untouched"
    assert await balance_of(app, second) == 2400


async def test_another_voucher_shown_while_an_amount_is_asked_takes_nothing(
    app: App, chat: Chat, owner
) -> None:
    second = await bought(chat, "gutschein über 25 euro für café rosa")
    olga = await owner()
    await olga.say(f"/confirmpay {second}")
    await olga.say("/redeem K7QF-2M9X")
    await send_photo(olga, qr_png(second.replace("-", "")), "5")  # the next customer's QR
    assert "Nichts abgebucht" in olga.text() and "K7QF-2M9X" in olga.text()
    await olga.say(f"{second} 5")
    assert "Nichts abgebucht" in olga.text()
    await olga.say("0")
    assert "größer als 0" in olga.text() and "Guthaben: 12,50 €" in olga.text()
    await send_photo(olga, qr_png("K7QF2M9X"), "2")  # this voucher's QR with the amount
    assert "Eingelöst: 2,00 € von K7QF-2M9X" in olga.last().text
    assert await balance_of(app, "K7QF-2M9X") == 1050 and await balance_of(app, second) == 2500


async def test_redeem_without_an_amount_refuses_at_once_what_cannot_be_redeemed(
    chat: Chat, owner
) -> None:
    reserved = await bought(chat, "gutschein über 25 euro für café rosa")
    bakery = await owner("baeckerei-mueller", "bernd")
    await bakery.say("/redeem K7QF-2M9X")
    assert "anderen Laden" in bakery.last().text and bakery.last().buttons == []
    olga = await owner()
    await olga.say(f"/redeem {reserved}")
    assert "noch nicht bezahlt" in olga.last().text
    await olga.say(f"/redeem {UNKNOWN}")
    assert "gibt es nicht" in olga.last().text
    await olga.say("5")
    assert "Eingelöst" not in olga.text(), "no redemption is waiting for an amount"


@pytest.mark.parametrize(
    ("start", "typed", "shops"),
    [
        ("ich möchte einen gutschein kaufen", "bäckerei",
         ["Bäckerei Müller", "Backstube Wiesmann"]),
        ("ich möchte einen gutschein kaufen", "restaurant",
         ["Grillhaus Borsigplatz", "Trattoria Da Enzo"]),
        ("ich möchte einen gutschein kaufen", "mode", ["Boutique Marlene", "Herrenmode Kortmann"]),
        ("I want to buy a voucher", "a bakery", ["Bäckerei Müller", "Backstube Wiesmann"]),
    ],
)
async def test_a_shop_answer_that_fits_several_shops_asks_which_one(
    chat_factory, start, typed, shops
) -> None:
    language = "en" if start.startswith("I ") else "de"
    person = chat_factory("paula", language)
    await person.say(f"/language {language}")
    await person.say(start)
    await person.say(typed)
    assert {"de": "passt zu mehreren Läden", "en": "fits several shops"}[language] in person.text()
    assert person.labels()[:-1] == shops  # alphabetical, then Cancel
    await person.press(shops[1])
    await person.say("10")
    assert shops[1] in person.last().text and "10" in person.last().text


@pytest.mark.parametrize(
    ("typed", "shop"),
    [("bäckerei müller", "Bäckerei Müller"), ("Wiesmann", "Backstube Wiesmann"),
     ("boutique", "Boutique Marlene"), ("Blumenladn Lindenblüt", "Blumenladen Lindenblüte")],
)
async def test_a_clear_shop_answer_goes_straight_on(chat: Chat, typed, shop) -> None:
    await chat.say("ich möchte einen gutschein kaufen")
    await chat.say(typed)
    assert "Betrag" in chat.last().text and "mehreren" not in chat.text()
    await chat.say("10")
    assert chat.last().text.startswith(f"Gutschein über 10,00 € für {shop}")


async def test_a_typed_number_picks_from_the_shops_offered(chat: Chat) -> None:
    await chat.say("ich möchte einen gutschein kaufen")
    await chat.say("bäckerei")
    await chat.say("2")
    await chat.say("10")
    assert chat.last().text.startswith("Gutschein über 10,00 € für Backstube Wiesmann")


@pytest.mark.parametrize(
    "line", ["/balance K7QF-2M9X extra", "/balance bitte K7QF-2M9X", "/balance k7qf 2m9x bitte"]
)
async def test_balance_takes_the_code_among_other_words(chat: Chat, line) -> None:
    await chat.say(line)
    assert "K7QF-2M9X (Café Rosa): 12,50 €" in chat.last().text, chat.last().text


async def test_balance_of_a_mistyped_code_among_other_words_says_so(chat: Chat) -> None:
    await chat.say("/balance K7QF-2M9A bitte")
    assert "vertippt" in chat.last().text
    await chat.say("/balance hallo welt")
    assert "kein Gutscheincode" in chat.last().text


async def test_a_donation_said_in_words_opens_the_donation_not_a_voucher(chat, chat_en) -> None:
    await chat.say("10 euro spenden für da enzo")
    assert "Unterstützung für Trattoria Da Enzo: 10,00 € (kein Gutschein)" in chat.last().text
    await chat.say("abbrechen")
    await chat_en.say("support the bookshop with 20 euros")
    assert "€20.00" in chat_en.last().text and "no voucher" in chat_en.last().text
    await chat.say("ich möchte gerne spenden")  # no shop named: asked which
    assert chat.last().text.startswith("Welchen Laden möchtest du unterstützen?")
