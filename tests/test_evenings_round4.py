"""Parent evenings, testers' round 4: old buttons of a cancelled session, kinds of school,
"übernächste woche", past starts said in words, the edit form's question per field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.messages import Incoming
from handlers import parent_evenings as evenings
from handlers.evenings_staff import start_time
from storage import parent_evenings as pe
from storage.base import utcnow
from tests.personas import role_chat, signed

ROOM = "https://meet.example.org/park-3a"
CANCELLED = "Dieser Elternabend wurde abgesagt"


async def _session(app, *, capacity: int = 5, title: str = "Elternabend 3a",
                   starts_at: datetime | None = None) -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title=title, classes=["3a"],
            starts_at=starts_at or utcnow() + timedelta(days=2), duration_minutes=60,
            capacity=capacity, room_url=ROOM,
        )
        return session.id


async def _press(app, user: str, data: str, event_id: str) -> list:
    return await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=event_id, kind="button",
        payload=signed(app, user, data)))


async def _cancel(app, staff, session_id: int) -> None:
    """The school calls the session off (parents are told)."""
    replies = await _press(app, "lehrerin", f"ev.cancel:{session_id}", f"cancel-{session_id}")
    assert "wirklich absagen" in replies[-1].text
    await staff.say("ja")
    assert staff.last().text.startswith("Abgesagt")


async def _counts(app, session_id: int) -> tuple[int, int]:
    """(places taken, waiting-list entries) of a session."""
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
        waiting = await pe.registrations_for(db, session_id, pe.WAITING)
        return session.taken, len(waiting)


# ---------------------------------------------------------------- 1: buttons of a cancelled session


async def test_giving_back_a_place_of_a_cancelled_session_changes_nothing(app, staff, chat):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await chat.say("/appointments")
    await _cancel(app, staff, session_id)
    await chat.press("1 Absagen")
    assert chat.last().text.startswith(CANCELLED), chat.last().text
    assert "zurückgegeben" not in chat.last().text
    assert await _counts(app, session_id) == (1, 0)


async def test_leaving_the_waiting_list_of_a_cancelled_session_changes_nothing(
        app, staff, chat, chat_en):
    session_id = await _session(app, capacity=1)
    await _press(app, "ben", f"ev.reg:{session_id}:0", "reg-ben")
    await _press(app, "anna", f"ev.wait:{session_id}:0", "wait-anna")
    await chat.say("/appointments")
    await _cancel(app, staff, session_id)
    await chat.press("1 Warteliste verlassen")
    assert chat.last().text.startswith(CANCELLED), chat.last().text
    assert await _counts(app, session_id) == (1, 1)


async def test_register_and_calendar_buttons_of_a_cancelled_session_say_so(app, staff, chat,
                                                                           chat_en):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await chat.say("/appointments")
    await chat_en.say("/evenings 3a")
    await _cancel(app, staff, session_id)
    await chat.press("1 Kalender")
    assert chat.last().text.startswith(CANCELLED) and chat.last().file is None
    number = next(i for i, b in enumerate(chat_en.last().buttons, 1)
                  if b.payload.startswith(f"ev.reg:{session_id}:"))
    await chat_en.press(f"{number} Register")
    assert chat_en.last().text.startswith("This parent evening has been cancelled")
    assert await _counts(app, session_id) == (1, 0)


# ---------------------------------------------------------------- 2: a kind of school


def test_a_kind_of_school_is_told_from_one_school():
    assert evenings.school_kind("grundschule", whole=True) == "grundschule"
    assert evenings.school_kind("alle Gymnasien", whole=True) == "gymnasium"
    assert evenings.school_kind("primary schools", whole=True) == "grundschule"
    assert evenings.school_kind("Grundschule am Park", whole=True) is None
    assert evenings.school_kind("elternabende in der realschule") == "realschule"
    assert evenings.school_kind("elternabende der parkgrundschule") is None


async def test_evenings_of_a_kind_of_school_list_all_its_schools(chat):
    await chat.say("/evenings grundschule")
    text = chat.last().text
    assert "Grundschule am Park" in text and "Brunnen-Grundschule" in text
    assert "Goethe" not in text and "Hellweg" not in text
    await chat.say("/evenings Grundschule am Park")  # one school named: only that one
    assert "Brunnen" not in chat.last().text and "Grundschule am Park" in chat.last().text
    await chat.say("/evenings gesamtschule")  # no Gesamtschule has a session
    assert chat.last().text.startswith("Dazu habe ich keinen kommenden Elternabend")


async def test_evenings_of_a_kind_of_school_in_free_text(chat):
    await chat.say("elternabende in der realschule")
    text = chat.last().text
    assert "Realschule am Hellweg" in text
    assert "Goethe" not in text and "Grundschule" not in text
    await chat.say("elternabende an der gesamtschule")
    assert chat.last().text.startswith("Dazu habe ich keinen kommenden Elternabend")


# ---------------------------------------------------------------- 3: the week after next


async def test_the_week_after_next_lists_only_that_week(app, chat, chat_en):
    tz = app.config.city.tz
    today = utcnow().astimezone(tz).date()
    monday = today + timedelta(days=7 - today.weekday())  # of next week

    def evening(day) -> datetime:
        return datetime(day.year, day.month, day.day, 19, 0, tzinfo=tz).astimezone(UTC)

    await _session(app, title="Abend naechste Woche", starts_at=evening(monday))
    await _session(app, title="Abend uebernaechste Woche",
                   starts_at=evening(monday + timedelta(days=9)))
    await _session(app, title="Abend in drei Wochen",
                   starts_at=evening(monday + timedelta(days=14)))
    for say, line in ((chat.say, "elternabende übernächste woche"),
                      (chat_en.say, "parent evenings the week after next")):
        await say(line)
    for reply in (chat.last(), chat_en.last()):
        assert "Abend uebernaechste Woche" in reply.text, reply.text
        assert "naechste Woche" not in reply.text.replace("uebernaechste Woche", "")
        assert "drei Wochen" not in reply.text


# ---------------------------------------------------------------- 4: a start in the past, in words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gestern um 19:00", "evenings.in_past"),
        ("gestern 19 uhr", "evenings.in_past"),
        ("vorgestern 19 Uhr", "evenings.in_past"),
        ("letzten Montag 19 Uhr", "evenings.in_past"),
        ("yesterday 7 pm", "evenings.in_past"),
        ("gestern", "evenings.in_past"),
        ("morgen 19 uhr", "2026-11-27T19:00:00+01:00"),
    ],
)
def test_a_start_said_in_the_past_in_words_is_in_the_past(text, expected):
    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 26, 20, 0, tzinfo=tz).astimezone(UTC)  # a Thursday evening
    try:
        moment = start_time(text, tz, now)
    except pe.EveningError as error:
        assert error.key == expected
    else:
        assert moment.astimezone(tz).isoformat() == expected


@pytest.mark.parametrize(("text", "day"), [("am 15.12.", "15.12."), ("morgen", "morgen"),
                                           ("on 15 December", "15 December")])
def test_a_day_without_a_clock_time_names_the_day(text, day):
    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 26, 10, 0, tzinfo=tz).astimezone(UTC)
    with pytest.raises(pe.EveningError) as raised:
        start_time(text, tz, now)
    assert raised.value.key == "evenings.bad_start" and raised.value.values == {"day": day}


async def test_the_start_step_says_past_or_that_the_time_is_missing(staff):
    await staff.say("/newevening")
    await staff.say("Elternabend 3a")
    await staff.say("3a")
    await staff.say("gestern um 19:00")
    assert staff.last().text.startswith("Dieser Zeitpunkt liegt in der Vergangenheit.\n")
    await staff.say("am 15.12.")
    assert staff.last().text.startswith("Bitte mit Uhrzeit, z. B. „15.12. 19:00“.\n")
    assert "Wann beginnt er?" in staff.last().text  # and the question again


# ---------------------------------------------------------------- 5: edit asks for the chosen field


async def test_the_edit_form_asks_for_the_chosen_field(app, staff):
    session_id = await _session(app)
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-capacity")
    await staff.say("Plätze")
    assert staff.last().text == "Wie viele Plätze soll es geben? (eine Zahl)"
    await staff.say("viele")
    assert staff.last().text.startswith("Die Platzzahl muss")
    assert staff.last().text.endswith("\nWie viele Plätze soll es geben? (eine Zahl)")
    await staff.say("8")
    assert "Bestätigen" in staff.labels()
    await staff.press("Bestätigen")
    async with app.sessions() as db:
        assert (await pe.get_session(db, session_id)).capacity == 8
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-room")
    await staff.say("Raum-Link")
    assert staff.last().text.startswith("Der neue Raum-Link")
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-title")
    await staff.say("Titel")
    assert staff.last().text == "Wie soll „Elternabend 3a“ jetzt heißen?"


async def test_the_edit_form_asks_for_the_chosen_field_in_english(app, chat_factory):
    teacher = await role_chat(app, chat_factory, "teacher", "en", "school_staff",
                              "grundschule-am-park")
    session_id = await _session(app)
    await _press(app, "teacher", f"ev.edit:{session_id}", "edit-classes-en")
    await teacher.say("Classes")
    assert teacher.last().text.startswith("Which classes should it be for now?")
    async with app.sessions() as db:
        assert await db.scalar(select(pe.EveningSession.classes).where(
            pe.EveningSession.id == session_id)) == ["3a"]


async def test_a_day_without_sessions_shows_the_next_ones_after_it(app, chat):
    tz = ZoneInfo("Europe/Berlin")
    async with app.sessions() as db:
        found = await pe.upcoming(db, pe.SessionQuery(), utcnow())
    days = {s.starts_at.astimezone(tz).date() for s in found}
    today = utcnow().astimezone(tz).date()
    empty = next(today + timedelta(days=n) for n in range(1, 40)
                 if today + timedelta(days=n) not in days
                 and any(d > today + timedelta(days=n) for d in days))
    await chat.say(f"welche elternabende gibt es am {empty:%d.%m.}")  # before: "keinen gefunden"
    text = chat.last().text
    assert text.startswith(f"Am {empty:%d.%m.}"[:3]) and f"{empty:%d.%m.}" in text.split("\n")[0]
    first_after = min(d for d in days if d > empty)
    first_item = next(line for line in text.split("\n") if line.startswith("1. "))
    assert f"{first_after:%d.%m.}" in first_item, text
    assert chat.labels()[0] in ("1 Anmelden", "1 Warteliste")
