"""What shop owners type into their card: the voucher range's limits and opening hours (split
hours with a lunch break, English forms) – found in exploratory rounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import handlers.shops as cards
from bot.forms import Invalid
from handlers.shop_owners import parse_hours, parse_limits
from storage.shops import Shop, shop_by_key
from storage.users import create_invite

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


async def _owner(app, chat_factory, name: str = "rosa", lang: str = "de"):
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "shop_owner", "cafe-rosa")).code
    owner = chat_factory(name, lang)
    await owner.say(f"/language {lang}")
    await owner.say(f"/claim {code}")
    return owner


async def _rosa(app) -> Shop:
    async with app.sessions() as db:
        shop = await shop_by_key(db, "cafe-rosa")
        assert shop is not None
        return shop


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("8-18", "08:00-18:00"),
        ("9 bis 17 uhr", "09:00-17:00"),
        ("8-12, 14-18", "08:00-12:00,14:00-18:00"),
        ("8-12 und 14-18 uhr", "08:00-12:00,14:00-18:00"),
        ("8:00 - 12:00 14:00 - 18:30", "08:00-12:00,14:00-18:30"),
        ("9 am to 3 pm", "09:00-15:00"),
        ("9am-3pm", "09:00-15:00"),
        ("9:30 am - 5 pm", "09:30-17:00"),
        ("1-5pm", "13:00-17:00"),
        ("9-3 pm", "09:00-15:00"),
        ("12pm-6pm", "12:00-18:00"),
        ("from 9 am to 1 pm and 2 pm to 6 pm", "09:00-13:00,14:00-18:00"),
        ("geschlossen", "closed"),
    ],
)
def test_opening_hours_are_read(typed: str, stored: str) -> None:
    assert parse_hours(None, typed) == stored  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("19-9", "shops.owner.bad_hours"),
        ("13pm-14", "shops.owner.bad_hours"),
        ("8-14, 12-18", "shops.owner.spans_order"),
        ("14-18, 8-12", "shops.owner.spans_order"),
        ("7-9, 10-12, 13-15, 16-18", "shops.owner.too_many_spans"),
    ],
)
def test_unclear_opening_hours_say_why(typed: str, reason: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse_hours(None, typed)  # type: ignore[arg-type]
    assert raised.value.key == reason


async def test_split_hours_are_saved_and_the_card_tells_open_or_lunch_break(
    app, chat_factory, chat, monkeypatch
) -> None:
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    await owner.press("Öffnungszeiten")
    await owner.press("Dienstag")
    await owner.say("8-12, 14-18")
    assert "Gespeichert" in owner.turns[-1][0].text
    assert "Dienstag: 08:00-12:00, 14:00-18:00" in owner.last().text
    assert (await _rosa(app)).opening_hours["tu"] == "08:00-12:00,14:00-18:00"
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: TUESDAY)
    await chat.say("/start shop-cafe-rosa")
    assert "Heute 08:00–12:00, 14:00–18:00 · jetzt geöffnet" in chat.last().text
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: TUESDAY.replace(hour=13))
    await chat.say("/start shop-cafe-rosa")
    assert "Heute 08:00–12:00, 14:00–18:00 · gerade geschlossen" in chat.last().text


async def test_english_hours_in_the_chat(app, chat_factory) -> None:
    owner = await _owner(app, chat_factory, "rosa_en", "en")
    await owner.say("/myshop")
    await owner.press("Opening hours")
    await owner.press("Monday to Friday")
    await owner.say("9 am to 3 pm")
    assert "Saved" in owner.turns[-1][0].text
    assert (await _rosa(app)).opening_hours["fr"] == "09:00-15:00"


def test_a_voucher_range_above_the_maximum_says_the_maximum() -> None:
    with pytest.raises(Invalid) as raised:
        parse_limits(None, "5-100000")  # type: ignore[arg-type]
    assert raised.value.key == "shops.owner.amount_range"
    assert raised.value.values["high"] == 1000
    assert parse_limits(None, "5-1.000") == [500, 100_000]  # type: ignore[arg-type]


async def test_the_owner_is_told_the_maximum_of_a_voucher_range(app, chat_factory) -> None:
    owner = await _owner(app, chat_factory)
    await owner.say("/myshop")
    await owner.press("Gutscheinbeträge")
    await owner.say("5-100000")
    said = owner.turns[-1][0].text
    assert "1000 €" in said and "kein Betrag" not in said, said
    await owner.say("5-1000")
    await owner.say("10 25")
    await owner.press("Bestätigen")
    shop = await _rosa(app)
    assert (shop.voucher_min_cents, shop.voucher_max_cents) == (500, 100_000)
