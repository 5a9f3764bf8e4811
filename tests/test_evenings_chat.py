"""Parent evenings in the console, German and English: list, register, waiting list, give back,
appointments, and the school staff's create / move / cancel / message flows."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.messages import Incoming
from storage import outbox, reminders
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.users import create_invite
from tests.personas import signed


async def _code(app, org: str = "grundschule-am-park") -> str:
    async with app.sessions() as db, db.begin():
        return (await create_invite(db, "school_staff", org)).code


@pytest.fixture
async def staff(app, chat_factory):
    teacher = chat_factory("lehrerin", "de")
    await teacher.say("/language de")
    await teacher.say(f"/claim {await _code(app)}")
    return teacher


async def _session(app, title: str) -> pe.EveningSession:
    async with app.sessions() as db:
        found = await db.scalar(select(pe.EveningSession).where(pe.EveningSession.title == title))
    assert found is not None
    return found


async def _small_session(app, capacity: int = 1, title: str = "Elternabend 3a") -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title=title, classes=["3a"],
            starts_at=utcnow() + timedelta(days=2), duration_minutes=60,
            capacity=capacity, room_url="https://meet.example.org/park-3a",
        )
        return session.id


def _ics(reply) -> Calendar:
    assert reply.file is not None and reply.file.mime_type == "text/calendar"
    return Calendar.from_ical(reply.file.content)


async def test_list_is_one_message_with_numbered_register_buttons(chat):
    await chat.say("welche elternabende gibt es")
    assert len(chat.turns[-1]) == 1
    reply = chat.last()
    assert "Kommende Elternabende" in reply.text and "1. " in reply.text
    assert reply.buttons[0].label == "1 Anmelden"
    assert any(b.label.endswith("Warteliste") for b in reply.buttons), "the full demo session"


async def test_list_filtered_by_school_in_english(chat_en):
    await chat_en.say("parent evenings at Goethe school")
    text = chat_en.last().text
    assert "Goethe-Gymnasium" in text and "Grundschule am Park" not in text
    assert "places free" in text


async def test_a_school_named_by_its_short_name_filters_the_list(chat):
    # "hellweg" alone is no alias of "Realschule am Hellweg": the school catalogue adds the
    # last own word of every school's name that no other school's name has
    await chat.say("elternabende hellweg")
    text = chat.last().text
    assert "Realschule am Hellweg" in text and "Goethe-Gymnasium" not in text, text
    await chat.say("elternabende brunnen")
    text = chat.last().text
    assert "Brunnen-Grundschule" in text and "Realschule am Hellweg" not in text, text


def test_short_names_skip_school_kinds_and_shared_words():
    schools = [pe.School(key="a", name="Realschule am Hellweg"),
               pe.School(key="b", name="Gymnasium am Hellweg"),
               pe.School(key="c", name="Marie-Curie-Gesamtschule"),
               pe.School(key="d", name="Städtische Gesamtschule")]
    assert pe.short_names(schools) == {"c": "Curie"}


async def test_evenings_command_with_school_and_unknown_school(chat):
    await chat.say("/evenings park")
    assert "Grundschule am Park" in chat.last().text
    assert "Goethe-Gymnasium" not in chat.last().text
    await chat.say("/evenings hogwarts")
    assert "kenne ich nicht" in chat.last().text
    await chat.say("/evenings 9b")  # a class: its sessions and the whole-school ones
    assert "Realschule am Hellweg" in chat.last().text
    assert "Grundschule am Park" not in chat.last().text
    await chat.say("/evenings Klasse 1")
    assert "Grundschule am Park" in chat.last().text
    assert "Realschule am Hellweg" not in chat.last().text


async def test_register_gives_link_ics_and_reminders(app, chat):
    await chat.say("/evenings goethe")
    register = next(b.payload for b in chat.last().buttons if b.label == "1 Anmelden")
    await chat.press("1 Anmelden")
    reply = chat.last()
    assert "Du bist angemeldet" in reply.text and "https://meet.example.org/goethe-5" in reply.text
    event = _ics(reply).walk("VEVENT")[0]
    assert str(event["URL"]) == "https://meet.example.org/goethe-5"
    async with app.sessions() as db:
        registration = await db.scalar(select(pe.Registration).where(
            pe.Registration.user_id.is_not(None)))
        pending = await reminders.pending_of(db, registration.user_id)
    assert [r.ref for r in pending] == [f"evening-reg:{registration.id}"] * 2
    await chat.say("/evenings goethe")  # the list says so and offers the calendar instead
    assert chat.labels()[0] == "1 Kalender" and "du bist angemeldet ✓" in chat.last().text
    await chat.press("1 Kalender")
    assert chat.last().file is not None
    replies = await app.dispatcher.handle(Incoming(  # the old list's button once more
        platform="console", chat_id="anna", user_id="anna", event_id="again",
        kind="button", payload=signed(app, "anna", register)))
    assert "schon angemeldet" in replies[0].text, "registering twice changes nothing"


async def test_join_by_class_registers_the_one_matching_session(chat):
    await chat.say("ich möchte am elternabend der 4b teilnehmen")
    assert "Du bist angemeldet" in chat.last().text
    assert "Elternabend Klasse 4" in chat.last().text


async def test_join_with_several_matches_asks_which(chat_en):
    await chat_en.say("sign me up for the parent evening")
    reply = chat_en.last()
    assert reply.text.startswith("Which parent evening?")
    assert reply.buttons[0].label == "1 Register"


async def test_full_session_offers_waiting_list_and_promotes_on_give_back(app, chat, chat_en):
    session_id = await _small_session(app, capacity=1)
    await chat.say("/evenings park")
    labels = chat.labels()
    number = next(i for i, b in enumerate(chat.turns[-1][0].buttons, 1)
                  if b.payload.startswith(f"ev.reg:{session_id}:"))
    await chat.press(labels[number - 1])
    assert "Du bist angemeldet" in chat.last().text
    await chat_en.say("/evenings park")
    await chat_en.press(f"{number} Waiting list")
    assert "is full" in chat_en.last().text
    await chat_en.press("Yes, join the waiting list")
    assert "position 1" in chat_en.last().text
    assert chat_en.labels() == ["Leave the waiting list"]  # no place to give back yet
    await chat_en.say("/evenings park")
    assert "Elternabend 3a – full (waiting list) · you are on the waiting list" in chat_en.text()
    await chat_en.say("/appointments")
    assert chat_en.labels() == ["1 Leave waiting list"]
    await chat.say("ich kann doch nicht zum elternabend kommen")
    assert "zurückgegeben" in chat.last().text
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
        assert session.taken == 1 == await pe.count_registered(db, session_id)
        rows = list(await db.scalars(select(outbox.OutboxMessage)))
    [told] = [r for r in rows if r.recipient == "ben"]
    assert "you are now registered" in told.payload[0]["text"]
    assert told.payload[0]["file"]["mime_type"] == "text/calendar"
    await chat_en.say("/appointments")
    assert "Elternabend 3a" in chat_en.last().text
    assert "https://meet.example.org/park-3a" in chat_en.last().text


async def test_cancel_without_registration_and_with_several(chat):
    await chat.say("/cancel_evening")
    assert "keine Anmeldung" in chat.last().text
    for school in ("goethe", "brunnen"):
        await chat.say(f"/evenings {school}")
        await chat.press("1 Anmelden")
    await chat.say("/cancel_evening")
    assert "mehrere Anmeldungen" in chat.last().text
    assert chat.labels() == ["1 Absagen", "2 Absagen"]
    await chat.press("2 Absagen")
    assert "zurückgegeben" in chat.last().text
    await chat.say("was habe ich für termine")
    assert "Termine (1)" in chat.last().text


async def test_my_appointments_in_english(chat_en):
    await chat_en.say("show my appointments")
    assert "no parent-evening appointments" in chat_en.last().text
    await chat_en.say("/evenings brunnen")
    await chat_en.press("1 Register")
    await chat_en.say("show my appointments")
    assert "appointments (1)" in chat_en.last().text
    await chat_en.press("1 Calendar")
    assert chat_en.last().file is not None
    assert re.fullmatch(r"parent-evening-\d+\.ics", chat_en.last().file.filename)
    assert chat_en.last().text.startswith("The appointment for your calendar (attached): ")
    assert "already registered" not in chat_en.last().text


async def test_stale_button_of_a_moved_session_changes_nothing(app, chat):
    session_id = await _small_session(app, capacity=5)
    await chat.say("/evenings park")
    async with app.sessions() as db, db.begin():
        session = await pe.get_session(db, session_id)
        await pe.move_session(db, session, session.starts_at + timedelta(days=1), 60)
    event = Incoming(platform="console", chat_id="anna", user_id="anna", event_id="stale-1",
                     kind="button", payload=signed(app, "anna", f"ev.reg:{session_id}:0"))
    replies = await app.dispatcher.handle(event)
    assert "geändert" in replies[0].text
    async with app.sessions() as db:
        assert (await pe.get_session(db, session_id)).taken == 0


async def test_citizen_cannot_create_sessions(chat):
    await chat.say("/newevening")
    assert "/claim" in chat.last().text


async def test_staff_create_session_with_bad_input_first(app, staff):
    await staff.say("/newevening")
    assert "Wie heißt" in staff.last().text
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a, 9z")
    assert "9z" in staff.turns[-1][0].text, "unknown class of this school"
    await staff.say("2a, 2b")
    await staff.say("01.01.2020 19:00")
    assert "Vergangenheit" in staff.turns[-1][0].text
    start = (utcnow() + timedelta(days=20)).strftime("%d.%m.%Y") + " 19:00"
    await staff.say(start)
    await staff.say("90")
    await staff.say("0")
    assert "1 bis" in staff.turns[-1][0].text
    await staff.say("25")
    await staff.say("http://meet.example.org/x")
    assert "https" in staff.turns[-1][0].text
    await staff.say("https://meet.example.org/park-2")
    assert "Veröffentlichen?" in staff.last().text
    await staff.press("Bestätigen")
    assert staff.last().text.startswith("Veröffentlicht: „Elternabend 2. Klassen“, ")
    assert " 19:00. Eltern können" in staff.last().text and "Nr." not in staff.last().text
    session = await _session(app, "Elternabend 2. Klassen")
    assert session.classes == ["2a", "2b"] and session.capacity == 25


async def test_staff_move_notifies_with_new_calendar(app, staff, chat):
    session_id = await _small_session(app, capacity=5)
    await chat.say("/evenings park")
    number = next(i for i, b in enumerate(chat.turns[-1][0].buttons, 1)
                  if b.payload.startswith(f"ev.reg:{session_id}:"))
    await chat.press(f"{number} Anmelden")
    first_uid = str(_ics(chat.last()).walk("VEVENT")[0]["UID"])
    await staff.say("/schoolevenings")
    await staff.say("/schoolevenings")
    buttons = staff.turns[-1][0].buttons
    idx = next(i for i, b in enumerate(buttons, 1) if b.payload == f"ev.manage:{session_id}")
    await staff.press(f"{idx} Verwalten")
    await staff.press("Verschieben")
    new_start = (utcnow() + timedelta(days=4)).strftime("%d.%m.%Y") + " 20:00"
    await staff.say(new_start)
    await staff.press("Bestätigen")
    assert "Informiert: 1" in staff.last().text
    async with app.sessions() as db:
        rows = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == "anna")))
    moved = outbox.deserialise(rows[-1].payload)[0]
    event = Calendar.from_ical(moved.file.content).walk("VEVENT")[0]
    assert str(event["UID"]) == first_uid and int(event["SEQUENCE"]) == 1
    assert "verschoben" in moved.text


async def test_a_new_title_is_told_with_the_old_one_and_a_new_calendar_entry(app, staff, chat):
    session_id = await _small_session(app, capacity=5, title="Elternabend 3a")
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="anna", user_id="anna", event_id="reg-anna",
        kind="button", payload=signed(app, "anna", f"ev.reg:{session_id}:0")))
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="edit",
        kind="button", payload=signed(app, "lehrerin", f"ev.edit:{session_id}")))
    await staff.say("Titel")
    await staff.say("Elternabend 3a und 3b")
    assert "Neu – Titel: Elternabend 3a und 3b" in staff.last().text
    await staff.press("Bestätigen")
    async with app.sessions() as db:
        rows = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == "anna")))
    renamed = outbox.deserialise(rows[-1].payload)[0]
    assert renamed.text.startswith(
        "Der Elternabend „Elternabend 3a“ heißt jetzt „Elternabend 3a und 3b“ (")
    event = Calendar.from_ical(renamed.file.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Elternabend 3a und 3b")
    assert int(event["SEQUENCE"]) == 1  # calendars replace the old entry


async def test_staff_cancel_tells_registered_and_waiting(app, staff, chat, chat_en):
    session_id = await _small_session(app, capacity=1)
    for person, label in ((chat, "Anmelden"), (chat_en, "Waiting list")):
        event = Incoming(platform="console", chat_id=person.transport.user,
                         user_id=person.transport.user, event_id=f"reg-{label}",
                         kind="button",
                         payload=signed(app, person.transport.user, f"ev.reg:{session_id}:0"))
        await app.dispatcher.handle(event)
    await chat_en.say("/evenings park")
    number = next(i for i, b in enumerate(chat_en.turns[-1][0].buttons, 1)
                  if b.payload.startswith(f"ev.reg:{session_id}:"))
    await chat_en.press(f"{number} Waiting list")
    await chat_en.press("Yes, join the waiting list")
    event = Incoming(platform="console", chat_id="lehrerin", user_id="lehrerin",
                     event_id="cancel-1", kind="button",
                     payload=signed(app, "lehrerin", f"ev.cancel:{session_id}"))
    replies = await app.dispatcher.handle(event)
    assert "wirklich absagen" in replies[-1].text
    await staff.say("ja")
    assert "Informiert: 2" in staff.last().text
    async with app.sessions() as db:
        texts = {r.recipient: r.payload[0]["text"]
                 for r in await db.scalars(select(outbox.OutboxMessage))}
    assert "abgesagt" in texts["anna"] and "cancelled" in texts["ben"]
    await chat.say("/appointments")
    assert "keine Elternabend-Termine" in chat.last().text


async def test_staff_message_all_attendees_with_preview(app, staff, chat):
    session_id = await _small_session(app, capacity=3)
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="anna", user_id="anna", event_id="r1", kind="button",
        payload=signed(app, "anna", f"ev.reg:{session_id}:0")))
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="m1",
        kind="button", payload=signed(app, "lehrerin", f"ev.msg:{session_id}")))
    await staff.say("Bitte Zeugnisse bereithalten.")
    assert "Vorschau – an 1" in staff.last().text
    await staff.press("Bestätigen")
    assert "an 1 Eltern" in staff.last().text
    async with app.sessions() as db:
        [row] = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == "anna")))
    assert row.priority == outbox.BROADCAST and "Zeugnisse" in row.payload[0]["text"]


async def test_staff_of_another_school_is_refused(app, chat_factory):
    other = chat_factory("goethe-lehrer", "en")
    await other.say("/language en")
    await other.say(f"/claim {await _code(app, 'goethe-gymnasium')}")
    session_id = await _small_session(app)
    replies = await app.dispatcher.handle(Incoming(
        platform="console", chat_id="goethe-lehrer", user_id="goethe-lehrer", event_id="x1",
        kind="button", payload=signed(app, "goethe-lehrer", f"ev.cancel:{session_id}")))
    assert "school staff" in replies[0].text.lower()
    async with app.sessions() as db:
        assert (await pe.get_session(db, session_id)).status == pe.SCHEDULED


async def test_staff_attendee_list_and_edit_capacity_promotes(app, staff, chat, chat_en):
    session_id = await _small_session(app, capacity=1)
    for user, eid in (("anna", "a"), ("ben", "b")):
        await app.dispatcher.handle(Incoming(
            platform="console", chat_id=user, user_id=user, event_id=f"reg-{eid}",
            kind="button", payload=signed(app, user, f"ev.reg:{session_id}:0")))
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="ben", user_id="ben", event_id="wait-b",
        kind="button", payload=signed(app, "ben", f"ev.wait:{session_id}:0")))
    replies = await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="att",
        kind="button", payload=signed(app, "lehrerin", f"ev.att:{session_id}")))
    assert "Warteliste (1)" in replies[0].text
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="edit",
        kind="button", payload=signed(app, "lehrerin", f"ev.edit:{session_id}")))
    await staff.say("Plätze")
    await staff.say("0")
    assert "1 bis" in staff.turns[-1][0].text
    await staff.say("2")
    await staff.press("Bestätigen")
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
        assert session.taken == 2 and session.capacity == 2
        assert not await pe.registrations_for(db, session_id, pe.WAITING)


async def test_fewer_places_than_taken_are_refused_when_typed_and_asked_again(app, staff):
    session_id = await _small_session(app, capacity=2)
    for user in ("anna", "ben"):
        await app.dispatcher.handle(Incoming(
            platform="console", chat_id=user, user_id=user, event_id=f"reg-{user}",
            kind="button", payload=signed(app, user, f"ev.reg:{session_id}:0")))
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrerin", user_id="lehrerin", event_id="edit",
        kind="button", payload=signed(app, "lehrerin", f"ev.edit:{session_id}")))
    await staff.say("Plätze")
    await staff.say("1")
    assert "schon 2 Plätze vergeben" in staff.turns[-1][0].text
    assert "Bestätigen" not in staff.labels()  # still the question, no summary to confirm
    await staff.say("3")
    assert "Bestätigen" in staff.labels()
    await staff.press("Bestätigen")
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
        assert session.taken == 2 and session.capacity == 3


async def test_erasing_a_parent_frees_the_place_for_the_waiting_list(app, chat, chat_en):
    session_id = await _small_session(app, capacity=1)
    for person, kind in ((chat, "ev.reg"), (chat_en, "ev.wait")):
        user = person.transport.user
        await app.dispatcher.handle(Incoming(
            platform="console", chat_id=user, user_id=user, event_id=f"{kind}-{user}",
            kind="button", payload=signed(app, user, f"{kind}:{session_id}:0")))
    await chat.say("welche daten habt ihr über mich")
    assert b"Elternabend 3a" in chat.last().file.content
    await chat.say("/deletedata")
    await chat.press("Ja, alles löschen")
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
        assert session.taken == 1 == await pe.count_registered(db, session_id)
        [row] = await pe.registrations_for(db, session_id)
        texts = [r.payload[0]["text"] for r in await db.scalars(select(outbox.OutboxMessage))]
    assert row.status == pe.REGISTERED
    assert any("you are now registered" in text for text in texts)


async def test_list_next_week_shows_only_that_week(app, chat):
    await chat.say("welche elternabende gibt es nächste woche")
    parse = await app.nlu.parse("welche elternabende gibt es nächste woche", "de")
    monday = next(e["value"] for e in parse["entities"] if e["entity"] == "time")
    start, end = pe.day_range(date.fromisoformat(monday), app.config.city.tz, 7)
    async with app.sessions() as db:
        expected = await pe.upcoming(db, pe.SessionQuery(start=start, end=end), utcnow())
    reply = chat.last()
    if expected:
        assert len(reply.buttons) == len(expected)
        assert all(s.title in reply.text for s in expected)
    else:
        assert "keinen kommenden Elternabend" in reply.text


async def test_staff_create_session_in_english_for_the_whole_school(app, chat_factory):
    teacher = chat_factory("teacher", "en")
    await teacher.say("/language en")
    await teacher.say(f"/claim {await _code(app, 'brunnen-grundschule')}")
    await teacher.say("/newevening")
    assert "What is the parent evening called" in teacher.last().text
    await teacher.say("School conference")
    await teacher.say("all")
    await teacher.say("tomorrow evening")
    assert "Please add the time" in teacher.turns[-1][0].text  # a day without its time
    start = (utcnow() + timedelta(days=9)).strftime("%Y-%m-%d") + " 18:00"
    await teacher.say(start)
    await teacher.say("120")
    await teacher.say("40")
    await teacher.say("https://meet.example.org/brunnen-sk")
    summary = teacher.last().text
    assert "whole school" in summary and "Publish?" in summary
    await teacher.press("Confirm")
    assert "Published" in teacher.last().text
    session = await _session(app, "School conference")
    assert session.classes == [] and session.duration_minutes == 120
    await teacher.say("/schoolevenings")
    assert "School conference" in teacher.last().text
    assert "1 Manage" in teacher.labels()


async def test_list_by_district(chat):
    await chat.say("welche elternabende gibt es in hombruch")
    text = chat.last().text
    assert "Grundschule am Park" in text and "Goethe-Gymnasium" not in text


async def test_ja_to_the_waiting_list_question_puts_one_on_it(app, chat):
    session_id = await _small_session(app, capacity=1)
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id="ben", user_id="ben", event_id="reg-ben",
        kind="button", payload=signed(app, "ben", f"ev.reg:{session_id}:0")))
    await chat.say("/evenings park")
    number = next(i for i, b in enumerate(chat.last().buttons, 1)
                  if b.payload.startswith(f"ev.reg:{session_id}:"))
    await chat.press(f"{number} Warteliste")
    assert "ausgebucht" in chat.last().text and chat.labels() == ["Ja, auf die Warteliste"]
    await chat.say("ja")
    assert "Warteliste" in chat.last().text
    async with app.sessions() as db:
        [waiting] = await pe.registrations_for(db, session_id, pe.WAITING)
    assert waiting.user_id is not None
