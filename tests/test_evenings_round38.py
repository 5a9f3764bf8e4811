"""Parent evenings, testers' round 38: an old "leave the waiting list" button keeps a place
given meanwhile, the waiting list hears of a new time or title, clock times said in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.messages import Incoming
from handlers.evenings_staff import start_time
from storage import outbox
from storage import parent_evenings as pe
from storage.base import utcnow
from tests.personas import signed

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=TZ).astimezone(UTC)  # a Tuesday morning


def _start(text: str) -> str:
    """start_time's answer as city time in ISO form, or the error's key and values."""
    try:
        return start_time(text, TZ, NOW).astimezone(TZ).isoformat()
    except pe.EveningError as error:
        return " ".join([error.key, *map(str, error.values.values())])


async def _session(app, *, capacity: int = 1) -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title="Elternabend 3a", classes=["3a"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60, capacity=capacity,
            room_url="https://meet.example.org/park-3a")
        return session.id


async def _press(app, user: str, data: str, event_id: str) -> list:
    return await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=event_id, kind="button",
        payload=signed(app, user, data)))


async def _messages_to(app, recipient: str) -> list:
    async with app.sessions() as db:
        rows = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == recipient).order_by(outbox.OutboxMessage.id)))
    return [outbox.deserialise(row.payload)[0] for row in rows]


async def _waiting_then_moved_up(app, chat, chat_en) -> int:
    """ben waits for a full session; anna gives her place back, so ben moves up."""
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await chat_en.say("/evenings park")
    await chat_en.press("Waiting list")
    await chat_en.press("Yes, join the waiting list")
    assert chat_en.labels() == ["Leave the waiting list"], chat_en.text()
    await chat.say("/cancel_evening")
    assert "zurückgegeben" in chat.last().text
    return session_id


async def _registered_count(app, session_id: int) -> int:
    async with app.sessions() as db:
        return await pe.count_registered(db, session_id)


# ---------------------------------------------------------------- 1: an old waiting-list button


async def test_an_old_leave_waiting_list_button_keeps_the_place_given_meanwhile(
        app, chat, chat_en):
    session_id = await _waiting_then_moved_up(app, chat, chat_en)
    await chat_en.press("Leave the waiting list")  # the button under the waiting-list answer
    said = chat_en.last().text
    assert said.startswith("You are no longer on the waiting list – you now have a place"), said
    assert "Elternabend 3a" in said and "given back" not in said.split(".")[0]
    assert chat_en.labels() == ["Give the place back"]
    assert await _registered_count(app, session_id) == 1, "the place stays ben's"
    await chat_en.press("Give the place back")  # its own button does give it back
    assert "is given back" in chat_en.last().text
    assert await _registered_count(app, session_id) == 0


async def test_an_old_leave_waiting_list_button_typed_by_number_keeps_the_place(
        app, chat, chat_en):
    session_id = await _waiting_then_moved_up(app, chat, chat_en)
    await chat_en.say("1")  # asks to confirm first
    await chat_en.say("1")
    assert "you now have a place" in chat_en.last().text, chat_en.text()
    assert await _registered_count(app, session_id) == 1


async def test_leaving_the_waiting_list_still_leaves_it(app, chat, chat_en):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await chat_en.say("/evenings park")
    await chat_en.press("Waiting list")
    await chat_en.press("Yes, join the waiting list")
    await chat_en.press("Leave the waiting list")
    assert chat_en.last().text.startswith("Done: you are off the waiting list"), chat_en.text()
    async with app.sessions() as db:
        assert await pe.registrations_for(db, session_id, pe.WAITING) == []


async def test_an_old_leave_button_of_my_appointments_keeps_the_place(app, chat, chat_en):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await _press(app, "ben", f"ev.wait:{session_id}:0", "wait-ben")
    await chat_en.say("/appointments")
    assert chat_en.labels() == ["1 Leave waiting list"], chat_en.text()
    await chat.say("/cancel_evening")  # anna's place goes to ben
    await chat_en.press("1 Leave waiting list")
    assert "you now have a place" in chat_en.last().text, chat_en.text()
    assert await _registered_count(app, session_id) == 1
    await chat_en.say("/appointments")  # a place by now: its button gives the place back
    assert chat_en.labels()[-1] == "1 Give back", chat_en.labels()


# ---------------------------------------------------------------- 2: the waiting list is told


async def _full_session_with_waiting_parent(app) -> int:
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await _press(app, "ben", f"ev.wait:{session_id}:0", "wait-ben")
    return session_id


async def test_moving_a_session_tells_its_waiting_list_the_new_time(app, staff, chat, chat_en):
    session_id = await _full_session_with_waiting_parent(app)
    day = utcnow().astimezone(TZ).date() + timedelta(days=5)
    await _press(app, "lehrerin", f"ev.move:{session_id}", "move")
    await staff.say(f"{day:%d.%m.%Y} 17:00")
    await staff.press("Bestätigen")
    assert "Informiert: 2" in staff.last().text, staff.text()
    [told] = await _messages_to(app, "ben")
    assert told.text.startswith("The parent evening \"Elternabend 3a\"")
    assert "Your place on the waiting list now holds for" in told.text
    assert f"{day.day} " in told.text and "17:00" in told.text
    assert told.file is None, "a waiting place has no calendar entry"
    assert [b.label for b in told.buttons] == ["Leave the waiting list"]


async def test_renaming_a_session_tells_its_waiting_list_the_new_title(app, staff, chat, chat_en):
    session_id = await _full_session_with_waiting_parent(app)
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit")
    await staff.say("Titel")
    await staff.say("Elternabend 3a und 3b")
    await staff.press("Bestätigen")
    assert "Informiert: 2" in staff.last().text, staff.text()
    [told] = await _messages_to(app, "ben")
    assert "\"Elternabend 3a\" is now called \"Elternabend 3a und 3b\"" in told.text
    assert "still on its waiting list" in told.text and told.file is None


# ---------------------------------------------------------------- 3: clock times in words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("übermorgen um halb acht", "2026-12-10T19:30:00+01:00"),
        ("morgen um halb 8", "2026-12-09T19:30:00+01:00"),
        ("heute um halb acht abends", "2026-12-08T19:30:00+01:00"),
        ("17.12. 19 Uhr 30", "2026-12-17T19:30:00+01:00"),
        ("morgen 19 uhr 30", "2026-12-09T19:30:00+01:00"),
        ("morgen 7 uhr abends", "2026-12-09T19:00:00+01:00"),
        ("morgen um 7 abends", "2026-12-09T19:00:00+01:00"),
        ("morgen abend um 8", "2026-12-09T20:00:00+01:00"),
        ("Donnerstag viertel nach sieben", "2026-12-10T19:15:00+01:00"),
        ("morgen früh um halb acht", "2026-12-09T07:30:00+01:00"),
        ("morgen 7 uhr", "2026-12-09T07:00:00+01:00"),  # a clock in digits stays as said
        ("19.30 Uhr", "evenings.bad_start 19:30"),  # the day is missing
        ("halb acht", "evenings.bad_start 19:30"),
        ("29.02.2027 19:00", "evenings.bad_start 29.02.2027"),  # no such day
        ("31.11. 19:00", "evenings.bad_start 31.11."),
        ("29.02.2028 19:00", "2028-02-29T19:00:00+01:00"),
        ("morgen abend", "evenings.bad_start morgen"),  # still: "bitte mit Uhrzeit"
    ],
)
def test_a_start_said_with_a_clock_in_words_is_read(text, expected):
    assert _start(text) == expected


async def test_the_start_step_takes_halb_acht(staff):
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say("übermorgen um halb acht")
    assert staff.last().text.startswith("Wie lange dauert er?"), staff.text()


async def test_the_start_step_asks_for_the_day_of_a_clock_alone(staff):
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say("19.30 Uhr")
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(TZ)
    assert staff.last().text.startswith(
        f"Bitte mit Datum – an welchem Tag? Z. B. „{tomorrow:%d.%m.} 19:30“"), staff.text()


async def test_the_start_step_says_that_a_day_does_not_exist(staff):
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say("29.02.2027 19:00")
    assert staff.last().text.startswith("Diesen Tag gibt es nicht: 29.02.2027."), staff.text()
