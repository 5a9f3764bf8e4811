"""Parent evenings, testers' round 37: English start times, a start after "auf"/"to",
durations in hours, a session named by its title, "und nächste woche?" after a list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from bot.i18n import translator
from bot.messages import Incoming
from handlers.evenings_staff import duration_minutes, start_time
from handlers.parent_evenings import title_score
from storage import parent_evenings as pe
from storage.base import utcnow
from tests.personas import role_chat, signed

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=TZ).astimezone(UTC)  # a Tuesday morning


def _start(text: str) -> str:
    """start_time's answer as city time in ISO form, or the error's key (and day)."""
    try:
        return start_time(text, TZ, NOW).astimezone(TZ).isoformat()
    except pe.EveningError as error:
        return " ".join([error.key, *map(str, error.values.values())])


async def _session(app) -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title="Elternabend 3a", classes=["3a"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60, capacity=5,
            room_url="https://meet.example.org/park-3a")
        return session.id


async def _press(app, user: str, data: str, event_id: str) -> None:
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=event_id, kind="button",
        payload=signed(app, user, data)))


# ---------------------------------------------------------------- 1: English start times


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dec 15, 7 pm", "2026-12-15T19:00:00+01:00"),
        ("Dec 15 7pm", "2026-12-15T19:00:00+01:00"),
        ("Dec 17 7:30pm", "2026-12-17T19:30:00+01:00"),
        ("Dec 17, 7:30pm", "2026-12-17T19:30:00+01:00"),
        ("December 15, 7pm", "2026-12-15T19:00:00+01:00"),
        ("Jan 12 7pm", "2027-01-12T19:00:00+01:00"),
        ("12 January 2027 18:30", "2027-01-12T18:30:00+01:00"),
        ("December 17, 2026 7:00 PM", "2026-12-17T19:00:00+01:00"),
        ("this friday at 7 pm", "2026-12-11T19:00:00+01:00"),
        ("friday at 7 o'clock", "2026-12-11T07:00:00+01:00"),  # like "freitag 7 uhr"
        ("17/12/2026 19:00", "2026-12-17T19:00:00+01:00"),
        ("Dec 15 at 7pm", "2026-12-15T19:00:00+01:00"),
        ("next Tuesday at 7pm", "2026-12-15T19:00:00+01:00"),
        ("tomorrow evening", "evenings.bad_start tomorrow"),  # "Please add the time"
        ("morgen abend", "evenings.bad_start morgen"),
        ("im dezember 12 masken", "evenings.bad_start"),
    ],
)
def test_english_start_times_are_read(text, expected):
    assert _start(text) == expected


def test_the_english_start_error_gives_english_examples():
    said = translator("en")("evenings.bad_start")
    assert "17 Dec 7pm" in said and "18.12." not in said
    for example in ("17 Dec 7pm", "next Thursday 7:30pm", "24/02/2027 19:00"):
        assert not _start(example).startswith("evenings."), example


# ---------------------------------------------------------------- 2: "auf", "to" before a start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auf den 17.12. um 20 uhr", "2026-12-17T20:00:00+01:00"),
        ("auf den 21.1. um 19 uhr", "2027-01-21T19:00:00+01:00"),
        ("to 17 December 8pm", "2026-12-17T20:00:00+01:00"),
        ("verschieb es auf freitag 19 uhr", "2026-12-11T19:00:00+01:00"),
        ("auf donnerstag 20 uhr", "2026-12-10T20:00:00+01:00"),
        ("move it to friday 7pm", "2026-12-11T19:00:00+01:00"),
    ],
)
def test_a_start_after_auf_or_to_is_read(text, expected):
    assert _start(text) == expected


async def test_moving_auf_den_day_um_20_uhr_asks_to_confirm(app, staff):
    session_id = await _session(app)
    day = utcnow().astimezone(TZ).date() + timedelta(days=10)
    await _press(app, "lehrerin", f"ev.move:{session_id}", "move-auf")
    await staff.say(f"auf den {day:%d.%m.} um 20 uhr")
    assert staff.last().text.startswith("Verschieben auf"), staff.text()
    assert f"{day:%d.%m.} 20:00" in staff.last().text


async def test_an_english_new_evening_takes_a_month_first_start(app, chat_factory):
    teacher = await role_chat(app, chat_factory, "teacher", "en", "school_staff",
                              "grundschule-am-park")
    day = utcnow().astimezone(TZ).date() + timedelta(days=12)
    await teacher.say("/newevening")
    await teacher.say("Winter evening")
    await teacher.say("all")
    await teacher.say(f"{format_date(day, 'MMM d', locale='en')}, 7 pm")
    assert teacher.last().text.startswith("How long does it take?"), teacher.text()


# ---------------------------------------------------------------- 3: durations in hours


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("2 hours", 120), ("an hour and a half", 90), ("1.5 hours", 90), ("one hour", 60),
        ("1h", 60), ("1 hour 30 minutes", 90), ("2 stunden", 120), ("anderthalb stunden", 90),
        ("1,5 std", 90), ("1h30", 90), ("half an hour", 30), ("eineinhalb Stunden", 90),
        ("90 min.", 90), ("90", None), ("2,5", None), ("ein paar stunden", None),
    ],
)
def test_a_duration_in_hours_is_read_as_minutes(text, minutes):
    assert duration_minutes(text) == minutes


async def test_the_duration_step_takes_hours(staff):
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say((utcnow() + timedelta(days=20)).strftime("%d.%m.%Y") + " 19:00")
    await staff.say("anderthalb stunden")
    assert staff.last().text == "Wie viele Plätze gibt es?", staff.text()
    await staff.say("25")
    await staff.say("https://meet.example.org/park-2")
    assert "90 Minuten" in staff.last().text, staff.text()


# ---------------------------------------------------------------- 4: a session named by its title


async def test_registering_for_an_evening_named_by_its_title(chat):
    await chat.say("ich möchte mich zum informationsabend oberstufe anmelden")
    said = chat.last().text
    assert said.startswith("Du bist angemeldet: Informationsabend Oberstufe"), said


async def test_registering_by_title_for_a_full_evening_offers_its_waiting_list(chat):
    await chat.say("melde mich für den elternabend der einschulung an")
    said = chat.last().text
    assert "Elternabend Einschulung" in said and "Welcher Elternabend" not in said, said


def test_only_the_words_that_tell_a_title_apart_name_it():
    assert title_score("zum elternabend der einschulung", "Elternabend Einschulung") == 1
    assert title_score("zum elternabend der klasse 4", "Elternabend Einschulung") == 0
    assert title_score("ich melde mich zum elternabend an", "Elternabend Klasse 4") == 0


async def test_the_evenings_command_lists_the_sessions_of_a_title(chat):
    await chat.say("/evenings einschulung")
    said = chat.last().text
    assert "Elternabend Einschulung" in said and "kenne ich nicht" not in said, said
    assert "Schulpflegschaft" not in said


# ---------------------------------------------------------------- 5: a follow-up after a list


async def test_und_naechste_woche_after_a_list_lists_next_week(chat):
    await chat.say("welche elternabende gibt es diese woche")
    await chat.say("und nächste woche?")
    said = chat.last().text
    assert "keine Elternabend-Termine" not in said, said
    assert said.startswith(("Kommende Elternabende", "In der Woche")), said


async def test_my_appointments_without_a_list_before_stay_my_appointments(chat):
    await chat.say("und nächste woche?")
    assert "keine Elternabend-Termine" in chat.last().text
