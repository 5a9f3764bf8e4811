"""Parent evenings: the defects of the testers' round, each with the case they found it in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.messages import Incoming
from storage import outbox, reminders
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.users import create_invite
from tests.personas import signed

OLD_ROOM = "https://meet.example.org/park-3a"
NEW_ROOM = "https://meet.example.org/park-3a-neu"


@pytest.fixture
async def staff(app, chat_factory):
    teacher = chat_factory("lehrerin", "de")
    await teacher.say("/language de")
    async with app.sessions() as db, db.begin():
        code = (await create_invite(db, "school_staff", "grundschule-am-park")).code
    await teacher.say(f"/claim {code}")
    return teacher


async def _session(app, *, capacity: int = 5, classes: list[str] | None = None,
                   school: str = "grundschule-am-park", title: str = "Elternabend 3a") -> int:
    async with app.sessions() as db, db.begin():
        found = await pe.school_by_key(db, school)
        session = await pe.create_session(
            db, found, title=title, classes=["3a"] if classes is None else classes,
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60,
            capacity=capacity, room_url=OLD_ROOM,
        )
        return session.id


async def _press(app, user: str, data: str, event_id: str) -> list:
    return await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=event_id, kind="button",
        payload=signed(app, user, data)))


async def _edit(app, staff, session_id: int, field: str, value: str) -> None:
    await _press(app, "lehrerin", f"ev.edit:{session_id}", f"edit-{field}-{value}")
    await staff.say(field)
    await staff.say(value)
    await staff.press("Bestätigen")


async def _pending_params(app, user: str = "anna") -> list[dict]:
    async with app.sessions() as db:
        registration = await db.scalar(select(pe.Registration).where(
            pe.Registration.user_id.is_not(None)))
        pending = await reminders.pending_of(db, registration.user_id)
    return [r.params for r in pending]


async def _last_to(app, recipient: str):
    async with app.sessions() as db:
        rows = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == recipient).order_by(outbox.OutboxMessage.id)))
    return outbox.deserialise(rows[-1].payload)[0]


# ---------------------------------------------------------------- 1, 2: edits reach reminders, .ics


async def test_an_edited_room_link_and_title_reach_the_pending_reminders(app, staff, chat):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    assert [p["link"] for p in await _pending_params(app)] == [OLD_ROOM, OLD_ROOM]
    await _edit(app, staff, session_id, "Raum-Link", NEW_ROOM)
    assert "Informiert: 1" in staff.last().text
    params = await _pending_params(app)
    assert [p["link"] for p in params] == [NEW_ROOM, NEW_ROOM], "24 h and 1 h, new room"
    await _edit(app, staff, session_id, "Titel", "Elternabend 3a und 3b")
    params = await _pending_params(app)
    assert len(params) == 2
    assert all(p["title"] == "Elternabend 3a und 3b" and p["link"] == NEW_ROOM for p in params)


async def test_a_new_room_link_comes_with_a_new_calendar_entry(app, staff, chat):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await _edit(app, staff, session_id, "Raum-Link", NEW_ROOM)
    told = await _last_to(app, "anna")
    assert NEW_ROOM in told.text and told.file is not None
    event = Calendar.from_ical(told.file.content).walk("VEVENT")[0]
    assert str(event["URL"]) == NEW_ROOM and int(event["SEQUENCE"]) == 1
    await chat.say("/appointments")
    assert NEW_ROOM in chat.last().text
    await chat.press("1 Kalender")
    again = Calendar.from_ical(chat.last().file.content).walk("VEVENT")[0]
    assert str(again["UID"]) == str(event["UID"])
    assert str(again["URL"]) == NEW_ROOM and int(again["SEQUENCE"]) == 1


# ---------------------------------------------------------------- 3: /cancel_evening NAME


async def test_cancel_evening_with_a_name_that_matches_nothing_changes_nothing(app, chat):
    session_id = await _session(app)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await chat.say("/cancel_evening goethe")  # registered at the Grundschule am Park
    assert chat.last().text.startswith("Zu „goethe“ hast du keine Anmeldung.")
    await chat.say("/cancel_evening xyz")
    assert chat.last().text.startswith("Zu „xyz“ hast du keine Anmeldung.")
    await chat.say("/cancel_evening 7a")
    assert "keine Anmeldung" in chat.last().text
    await chat.say("ich kann nicht zum elternabend der 7a")  # said, not typed as a command
    assert chat.last().text.startswith("Zu „7a“ hast du keine Anmeldung.")
    async with app.sessions() as db:
        assert (await pe.get_session(db, session_id)).taken == 1
        assert len(await reminders.pending_of(db, (await pe.registrations_for(
            db, session_id))[0].user_id)) == 2
    await chat.say("/cancel_evening park")
    assert "zurückgegeben" in chat.last().text
    async with app.sessions() as db:
        assert (await pe.get_session(db, session_id)).taken == 0


async def test_cancel_evening_names_one_of_several_by_school_class_or_title(app, chat_en):
    first = await _session(app, title="Elternabend 3a")
    second = await _session(app, school="goethe-gymnasium", classes=["7a"],
                            title="Klassenpflegschaft 7a")
    for number, session_id in enumerate((first, second)):
        await _press(app, "ben", f"ev.reg:{session_id}:0", f"reg-{number}")
    await chat_en.say("/cancel_evening goethe")
    assert "Done" in chat_en.last().text and "Klassenpflegschaft 7a" in chat_en.last().text
    await chat_en.say("/cancel_evening 7a")
    assert chat_en.last().text.startswith("You have no registration for \"7a\".")
    await chat_en.say("/cancel_evening 3A")
    assert "Done" in chat_en.last().text and "Elternabend 3a" in chat_en.last().text


# ---------------------------------------------------------------- 4, 5: classes


async def test_whole_school_sessions_only_for_schools_that_have_the_class(app, chat):
    await _session(app, school="goethe-gymnasium", classes=[], title="Schulkonferenz Goethe")
    await chat.say("/evenings 4b")  # the primary schools' sessions, not the Gymnasium's
    text = chat.last().text
    assert "Elternabend Klasse 4" in text and "Schulpflegschaft" in text
    assert "Schulkonferenz Goethe" not in text
    await chat.say("/evenings 7a")  # the Gymnasium's, not the primary school's
    text = chat.last().text
    assert "Schulkonferenz Goethe" in text and "Schulpflegschaft" not in text
    for name, said in (("99z", "99z"), ("Klasse 99", "99")):
        await chat.say(f"/evenings {name}")
        assert chat.last().text.startswith(f"Die Klasse „{said}“ gibt es an keiner Schule")
        assert not chat.last().buttons


async def test_a_whole_school_session_of_a_school_without_a_class_list(app, chat):
    async with app.sessions() as db, db.begin():
        await pe.upsert_school(db, {"key": "neue-schule", "name": "Neue Schule"})
    await _session(app, school="neue-schule", classes=[], title="Gründungsabend")
    await chat.say("/evenings 4b")
    assert "Gründungsabend" not in chat.last().text


@pytest.mark.parametrize("name", ["Q1", "q1", "EF", "Jahrgangsstufe EF", "Stufe Q1"])
async def test_oberstufe_classes_are_accepted(chat, name):
    await chat.say(f"/evenings {name}")
    text = chat.last().text
    assert "Informationsabend Oberstufe" in text and "kenne ich nicht" not in text
    assert "Elternabend 5. Klassen" not in text


async def test_oberstufe_class_in_english(chat_en):
    await chat_en.say("/evenings q2")  # Goethe has a Q2, but no session for it
    assert "no upcoming parent evening" in chat_en.last().text.lower()


# ---------------------------------------------------------------- 6: cancelling, waiting list


async def test_cancelling_tells_the_waiting_list_its_place_lapses(app, staff, chat, chat_en):
    session_id = await _session(app, capacity=1)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await _press(app, "ben", f"ev.wait:{session_id}:0", "wait-ben")
    await _press(app, "lehrerin", f"ev.cancel:{session_id}", "cancel")
    await staff.say("ja")
    assert "Informiert: 2" in staff.last().text
    anna, ben = await _last_to(app, "anna"), await _last_to(app, "ben")
    assert "Deine Anmeldung entfällt" in anna.text and anna.file is not None
    assert "waiting list" in ben.text and "registration" not in ben.text
    assert ben.file is None
    replies = await _press(app, "lehrerin", f"ev.manage:{session_id}", "manage")
    assert "abgesagt" in replies[0].text and "Warteliste" not in replies[0].text
    replies = await _press(app, "lehrerin", f"ev.att:{session_id}", "attendees")
    assert "Warteliste" not in replies[0].text


# ---------------------------------------------------------------- 7: more places


async def test_more_places_say_and_count_who_moved_up(app, staff, chat, chat_en):
    session_id = await _session(app, capacity=1)
    await _press(app, "anna", f"ev.reg:{session_id}:0", "reg-anna")
    await _press(app, "ben", f"ev.wait:{session_id}:0", "wait-ben")
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit")
    await staff.say("Plätze")
    await staff.say("2")
    summary = staff.last().text
    assert "Angemeldete Eltern werden informiert" not in summary
    assert "Warteliste" in summary
    await staff.press("Bestätigen")
    assert "Informiert: 1" in staff.last().text
    assert "you are now registered" in (await _last_to(app, "ben")).text
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-2")
    await staff.say("Plätze")
    await staff.say("3")
    await staff.press("Bestätigen")
    assert "Informiert: 0" in staff.last().text, "nobody waiting: nobody told"
