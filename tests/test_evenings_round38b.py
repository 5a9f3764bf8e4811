"""Parent evenings, testers' round 38b: a new time said at the Move confirmation, a clock time
said before its day, "7 anmelden" on a full evening, "ca. 30" and "einen" as places."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.messages import Incoming
from handlers.evenings_staff import places_text, start_time
from storage import parent_evenings as pe
from storage.base import utcnow
from tests.personas import signed

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=TZ).astimezone(UTC)  # a Tuesday morning


def _start(text: str) -> str:
    """start_time's answer as city time in ISO form, or the error's key."""
    try:
        return start_time(text, TZ, NOW).astimezone(TZ).isoformat()
    except pe.EveningError as error:
        return error.key


def _today() -> date:
    return utcnow().astimezone(TZ).date()


def _next(weekday: int) -> date:
    """The coming day of that weekday (0 = Monday), not today."""
    today = _today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


async def _session(app) -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title="Elternabend 3a", classes=["3a"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60, capacity=10,
            room_url="https://meet.example.org/park-3a")
        return session.id


async def _move(app, staff) -> None:
    session_id = await _session(app)
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="move",
        kind="button", payload=signed(app, "lehrerin", f"ev.move:{session_id}")))
    await staff.say(f"{_today() + timedelta(days=4):%d.%m.%Y} 19:30")
    assert staff.last().text.startswith("Verschieben auf"), staff.text()


# ---------------------------------------------------------------- 1: a change at the confirmation


async def test_a_new_time_at_the_move_confirmation_is_taken(app, staff):
    await _move(app, staff)
    await staff.say("lieber sonntag um 18 uhr")
    sunday = f"{_next(6):%d.%m.} 18:00"
    assert staff.last().text.startswith("Verschieben auf") and sunday in staff.last().text, \
        staff.text()
    await staff.say("ja")
    assert staff.last().text.startswith("Verschoben") and sunday in staff.last().text, \
        staff.text()


async def test_nein_doch_with_a_new_time_at_the_move_confirmation_is_no_cancel(app, staff):
    await _move(app, staff)
    await staff.say("nein, doch übermorgen 19 uhr")
    day = f"{_today() + timedelta(days=2):%d.%m.} 19:00"
    assert staff.last().text.startswith("Verschieben auf") and day in staff.last().text, \
        staff.text()


async def test_a_clock_alone_at_the_move_confirmation_keeps_the_day(app, staff):
    await _move(app, staff)
    await staff.say("lieber 20 uhr")
    day = f"{_today() + timedelta(days=4):%d.%m.} 20:00"
    assert staff.last().text.startswith("Verschieben auf") and day in staff.last().text, \
        staff.text()


# ---------------------------------------------------------------- 2: a clock time before its day


@pytest.mark.parametrize(
    "text",
    ["freitag um 19.30", "19:30 am freitag", "am freitag um 19.30", "19.30 freitag"],
)
def test_a_dot_time_next_to_a_weekday_is_read(text):
    assert _start(text) == "2026-12-11T19:30:00+01:00"


def test_a_dot_time_after_a_day_in_words_is_read():
    assert _start("übermorgen 19.30") == "2026-12-10T19:30:00+01:00"


def test_a_day_with_a_dot_stays_a_date():
    assert _start("am 19.12. um 19.30") == "2026-12-19T19:30:00+01:00"


async def test_a_clock_said_before_its_day_is_kept(app, staff):
    await staff.say("/newevening")
    await staff.say("Winterabend")
    await staff.say("alle")
    await staff.say("19.30 Uhr")
    assert staff.last().text.startswith("Bitte mit Datum"), staff.text()
    await staff.say("freitag")
    assert staff.last().text.startswith("Wie lange dauert er?"), staff.text()
    await staff.say("90")
    await staff.say("ca. 30")
    await staff.say("https://meet.example.org/winter")
    summary = staff.last().text
    assert f"{_next(4):%d.%m.} 19:30" in summary and "30" in summary, staff.text()


# ---------------------------------------------------------------- 3: "7 anmelden" on a full one


async def test_typing_register_for_a_full_item_offers_its_waiting_list(chat):
    await chat.say("/evenings")
    labels = [b.label for b in chat.last().buttons]
    full = next(label.split()[0] for label in labels if label.endswith("Warteliste"))
    await chat.say(f"{full} anmelden")
    assert [b.label for b in chat.last().buttons] == ["Ja, auf die Warteliste"], chat.text()


# ---------------------------------------------------------------- 4: places in words


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ca. 30", "30"), ("circa 30", "30"), ("etwa dreißig", "30"), ("einen", "1"),
     ("einer", "1"), ("einen Platz", "1"), ("30", "30"), ("-5", "-5")],
)
def test_places_said_roughly_or_as_one_word(text, expected):
    assert places_text(text) == expected


async def test_einen_at_the_places_step_is_one_place(staff):
    await staff.say("/newevening")
    await staff.say("Kleiner Abend")
    await staff.say("alle")
    await staff.say(f"{_today() + timedelta(days=5):%d.%m.%Y} 19:00")
    await staff.say("60")
    await staff.say("einen")
    assert "Platzzahl" not in staff.text(), staff.text()
