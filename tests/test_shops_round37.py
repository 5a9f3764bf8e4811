"""Shop questions found by testers (round 37): follow-up questions about the card just shown
("hat sie sonntags auch offen?"), a weekday in a shop search ("welche läden haben am sonntag
offen"), and a shop's bare name read as unfollowing it."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

import handlers.shops as cards
from bot.app import App
from bot.public_holidays import holiday_name
from storage.shops import WEEKDAYS, shop_by_key
from tests.conftest import Chat, page_items
from tests.test_route_origin import _read_as

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
SUNDAY_SHOPS = {"Bäckerei Müller", "Backstube Wiesmann", "Blumenladen Lindenblüte",
                "Grillhaus Borsigplatz", "Trattoria Da Enzo"}


@pytest.fixture(autouse=True)
def tuesday_morning(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The city's clock: Tuesday 1 December 2026, 10:00."""
    monkeypatch.setattr(cards, "now_in_city", lambda ctx: TUESDAY)
    return TUESDAY


def nlu_tomorrow() -> date:
    """Tomorrow as the NLU's time entity reads "morgen" (by the real clock, not TUESDAY)."""
    return datetime.now(BERLIN).date() + timedelta(days=1)


async def hours_of(app: App, key: str, day: date) -> str:
    """A shop's stored hours on a day as a list shows them (a public holiday: Sunday's)."""
    async with app.sessions() as db:
        shop = await shop_by_key(db, key)
    assert shop is not None
    weekday = "su" if holiday_name(day, "NW", "de") else WEEKDAYS[day.weekday()]
    hours = shop.opening_hours.get(weekday)
    return cards.shown_hours(hours) if hours else "geschlossen"


def listed_names(chat: Chat) -> set[str]:
    """The shop names of the last list page."""
    return {line.split(" – ")[0] for line in page_items(chat.last()).values()}


# --- 1. a follow-up question is about the shop in view -------------------------------------


async def test_follow_ups_without_the_name_are_about_the_card_just_shown(chat: Chat) -> None:
    await chat.say("hat die bäckerei müller heute offen")
    await chat.say("hat sie sonntags auch offen?")  # before: "14 Treffer für alle Läden"
    assert chat.last().text.startswith("Bäckerei Müller – Bäckerei"), chat.text()
    assert "Sonntag, 6. Dezember: 07:30–11:00" in chat.last().text
    await chat.say("liefern die auch?")  # before: the 10 delivering shops
    assert chat.last().text.startswith("Bäckerei Müller – Bäckerei"), chat.text()
    assert "Lieferung: nein" in chat.last().text


async def test_tomorrow_about_the_shop_in_view(chat: Chat) -> None:
    await chat.say("café rosa")
    await chat.say("hat das morgen offen?")  # before: all 14 shops
    assert chat.last().text.startswith("Café Rosa – Café"), chat.text()
    assert format_date(nlu_tomorrow(), "EEEE, d. MMMM", locale="de") in chat.last().text


async def test_and_on_sunday_in_english(chat_en: Chat) -> None:
    await chat_en.say("is cafe rosa open today")
    await chat_en.say("and on sunday?")  # before: all 14 shops
    assert chat_en.last().text.startswith("Café Rosa – Café"), chat_en.text()
    assert re.search(r"^Sunday \d+ \w+: closed$", chat_en.last().text, re.M), chat_en.text()


async def test_after_a_list_no_shop_is_in_view(chat: Chat) -> None:
    await chat.say("café rosa")
    await chat.say("welche bäckereien gibt es")
    await chat.say("liefern die auch?")
    assert not chat.last().text.startswith("Café Rosa – Café"), chat.text()


# --- 2. a day in a shop search -------------------------------------------------------------


async def test_shops_open_on_sunday_are_only_those_with_sunday_hours(chat: Chat) -> None:
    await chat.say("hat die bäckerei müller heute offen")  # a card in view: still a search
    await chat.say("welche läden haben am sonntag offen")  # before: all 14, each "geschlossen"
    assert listed_names(chat) == SUNDAY_SHOPS, chat.text()
    assert "Bäckerei Müller – Bäckerei · Hörde · So 07:30–11:00" in chat.last().text


async def test_bakeries_on_sundays_show_their_sunday_hours(chat: Chat) -> None:
    await chat.say("welche bäckereien haben sonntags offen")
    items = page_items(chat.last())
    assert sorted(items.values()) == [
        "Backstube Wiesmann – Bäckerei · Aplerbeck · So 07:00–11:00",
        "Bäckerei Müller – Bäckerei · Hörde · So 07:30–11:00",
    ], chat.text()


async def test_shops_open_tomorrow_show_tomorrows_hours(app: App, chat: Chat) -> None:
    tomorrow = nlu_tomorrow()
    hours = await hours_of(app, "baeckerei-mueller", tomorrow)
    await chat.say("welche bäckereien haben morgen offen")
    weekday = format_date(tomorrow, "ccc", locale="de")
    line = f"Bäckerei Müller – Bäckerei · Hörde · {weekday} {hours}"
    assert line in chat.last().text, chat.text()


async def test_shops_open_on_sunday_in_english(chat_en: Chat) -> None:
    await chat_en.say("which shops are open on sunday")
    assert listed_names(chat_en) == SUNDAY_SHOPS, chat_en.text()
    assert "Grillhaus Borsigplatz – Restaurant · Nordstadt · Sun 12:00–22:00" in chat_en.text()


# --- 3. a shop's bare name is its card, not unfollowing it ---------------------------------


async def test_a_bare_shop_name_read_as_unfollow_is_its_card(app, chat: Chat, monkeypatch) -> None:
    _read_as(app, monkeypatch, {"trattoria da enzo": ("unsubscribe_shop", 0.62)})
    await chat.say("trattoria da enzo")  # before: "Du folgst Trattoria Da Enzo nicht."
    assert chat.last().text.startswith("Trattoria Da Enzo – Restaurant"), chat.text()


async def test_unfollow_words_still_unfollow(app, chat: Chat, monkeypatch) -> None:
    said = "trattoria da enzo nicht mehr folgen"
    _read_as(app, monkeypatch, {said: ("unsubscribe_shop", 0.9)})
    await chat.say(said)
    assert "Du folgst Trattoria Da Enzo nicht" in chat.last().text, chat.text()
    await chat.say("/follow Trattoria Da Enzo")
    await chat.say(said)
    assert "Trattoria Da Enzo" in chat.last().text and "Folgen" in chat.labels(), chat.text()
