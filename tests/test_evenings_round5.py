"""Parent evenings, testers' round 5: create requests in words, guessed single matches, edits
and moves that change nothing, the classes notice, a message to nobody, the room step without
BigBlueButton, a wrong weekday, number words, a month, the chooser after a filtered list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.messages import Incoming
from storage import outbox
from storage import parent_evenings as pe
from storage.base import utcnow
from tests.conftest import page_items
from tests.personas import role_chat, signed

ROOM = "https://meet.example.org/park-3a"
TZ = ZoneInfo("Europe/Berlin")
MONTHS = ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "dezember")


async def _session(app, *, starts_at: datetime | None = None, classes: list[str] | None = None,
                   title: str = "Elternabend 3a") -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "grundschule-am-park")
        session = await pe.create_session(
            db, school, title=title, classes=["3a"] if classes is None else classes,
            starts_at=starts_at or utcnow() + timedelta(days=2), duration_minutes=60,
            capacity=5, room_url=ROOM,
        )
        return session.id


async def _press(app, user: str, data: str, event_id: str) -> list:
    return await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=event_id, kind="button",
        payload=signed(app, user, data)))


async def _registrations(app) -> int:
    """Registrations made in the bot (not the school offices' demo bookings)."""
    async with app.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(pe.Registration).where(
            pe.Registration.user_id.is_not(None))))


async def _outbox_count(app) -> int:
    async with app.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(outbox.OutboxMessage)))


async def _registered_anna(app, session_id: int) -> None:
    await _press(app, "anna", f"ev.reg:{session_id}:0", f"reg-anna-{session_id}")


# ---------------------------------------------------------------- 1: create requests in words


async def test_staff_asking_to_create_an_evening_gets_the_form_with_the_class_held(
        app, chat_factory):
    teacher = await role_chat(app, chat_factory, "lehrer", "de", "school_staff",
                              "goethe-gymnasium")
    await teacher.say("ich möchte einen elternabend für die 9a erstellen")
    assert teacher.last().text.startswith("Wie heißt der Elternabend?"), teacher.last().text
    assert await _registrations(app) == 0
    await teacher.say("Elternabend 9a")
    assert teacher.last().text.startswith("Wann beginnt er?"), "the 9a is held for the classes"


@pytest.mark.parametrize("text", ["neuen elternabend anlegen", "create a parent evening"])
async def test_staff_saying_create_in_a_list_request_gets_the_form(staff, text):
    await staff.say(text)
    assert staff.last().text.startswith("Wie heißt der Elternabend?"), staff.last().text


@pytest.mark.parametrize("text", ["I want to set up a parent evening for class 5b",
                                  "create a parent evening"])
async def test_a_parent_asking_to_create_an_evening_is_told_it_is_for_staff(app, chat_en, text):
    await chat_en.say(text)
    assert chat_en.last().text.startswith("Only school staff can create parent evenings")
    assert "registered" not in chat_en.text()
    assert await _registrations(app) == 0


async def test_a_parent_saying_anlegen_in_german_gets_the_hint(app, chat):
    await chat.say("neuen elternabend anlegen")
    assert chat.last().text.startswith("Elternabende anlegen kann nur das Schulpersonal")
    assert await _registrations(app) == 0


async def test_a_single_match_found_by_a_kind_of_school_is_asked_not_registered(app, chat):
    await chat.say("melde mich zum elternabend der realschule an")
    assert chat.last().text.startswith("Meinst du diesen Elternabend?"), chat.last().text
    assert "Realschule am Hellweg" in chat.last().text
    assert await _registrations(app) == 0


# ---------------------------------------------------------------- 2: nothing changed


async def test_moving_to_the_time_it_has_changes_nothing_and_tells_nobody(app, staff, chat):
    starts = (utcnow() + timedelta(days=3)).astimezone(TZ).replace(hour=19, minute=0, second=0,
                                                                    microsecond=0)
    session_id = await _session(app, starts_at=starts)
    await _registered_anna(app, session_id)
    before = await _outbox_count(app)
    await _press(app, "lehrerin", f"ev.move:{session_id}", "move-same")
    await staff.say(starts.strftime("%d.%m.%Y %H:%M"))
    assert "da ändert sich nichts" in staff.turns[-1][0].text, staff.text()
    assert "Verschieben auf" not in staff.text()
    await staff.say("abbrechen")
    async with app.sessions() as db:
        session = await pe.get_session(db, session_id)
    assert session.sequence == 0 and await _outbox_count(app) == before


@pytest.mark.parametrize(("field", "value"), [("Klassen", "3a"), ("Titel", "Elternabend 3a"),
                                              ("Plätze", "5"), ("Raum-Link", ROOM)])
async def test_an_edit_to_the_value_it_has_changes_nothing_and_tells_nobody(
        app, staff, chat, field, value):
    session_id = await _session(app)
    await _registered_anna(app, session_id)
    before = await _outbox_count(app)
    await _press(app, "lehrerin", f"ev.edit:{session_id}", f"edit-same-{field}")
    await staff.say(field)
    await staff.say(value)
    assert "da ändert sich nichts" in staff.turns[-1][0].text, staff.text()
    assert "Bestätigen" not in staff.labels()
    assert await _outbox_count(app) == before


# ---------------------------------------------------------------- 3: the classes notice


async def test_parents_are_told_the_new_classes(app, staff, chat):
    session_id = await _session(app)
    await _registered_anna(app, session_id)
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-classes")
    await staff.say("Klassen")
    await staff.say("3a, 3b")
    await staff.press("Bestätigen")
    assert "Informiert: 1" in staff.last().text
    async with app.sessions() as db:
        rows = list(await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == "anna").order_by(outbox.OutboxMessage.id)))
    notice = outbox.deserialise(rows[-1].payload)[0].text
    assert "jetzt für: 3a, 3b" in notice, notice


# ---------------------------------------------------------------- 4: a message to nobody


async def test_a_message_to_a_session_without_registrations_says_so_first(app, staff):
    session_id = await _session(app)
    replies = await _press(app, "lehrerin", f"ev.msg:{session_id}", "msg-nobody")
    assert "noch niemand angemeldet" in replies[-1].text, replies[-1].text
    await staff.say("Bitte Zeugnisse mitbringen")
    assert "Vorschau" not in staff.text()


# ---------------------------------------------------------------- 5: room step without BBB


async def _to_room_step(staff) -> None:
    await staff.say("/newevening")
    await staff.say("Elternabend 2. Klassen")
    await staff.say("2a")
    await staff.say((utcnow() + timedelta(days=20)).strftime("%d.%m.%Y") + " 19:00")
    await staff.say("90")
    await staff.say("25")


async def test_the_room_step_without_bigbluebutton_offers_no_automatic_room(staff):
    await _to_room_step(staff)
    assert staff.last().text == "Der Link zum Videoraum (https://…)?"
    await staff.say("automatisch")
    assert staff.turns[-1][0].text.startswith("Automatische Videoräume (BigBlueButton) sind hier "
                                              "nicht eingerichtet")


def test_an_automatic_room_without_bigbluebutton_is_said_to_be_missing():
    with pytest.raises(pe.EveningError) as raised:
        pe.parse_room("-", required=True)
    assert raised.value.key == "evenings.no_auto_room"
    assert pe.parse_room("-", required=False) is None


# ---------------------------------------------------------------- 6: a weekday not the date's


async def test_a_weekday_that_is_not_the_dates_is_said(app, staff):
    session_id = await _session(app)
    day = utcnow().astimezone(TZ).date() + timedelta(days=10)
    wrong = ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."][(day.weekday() + 1) % 7]
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag",
               "Sonntag"][day.weekday()]
    await _press(app, "lehrerin", f"ev.move:{session_id}", "move-weekday")
    await staff.say(f"{wrong} {day:%d.%m.} 19:00")
    said = staff.turns[-1][0].text
    assert said.startswith("Wochentag und Datum passen nicht zusammen"), said
    assert f"Der {day:%d.%m.} ist ein {weekday}." in said


# ---------------------------------------------------------------- 7: number words


async def test_places_in_words_are_read(app, staff):
    session_id = await _session(app)
    await _press(app, "lehrerin", f"ev.edit:{session_id}", "edit-words")
    await staff.say("Plätze")
    await staff.say("zwei")
    assert "Plätze: 2" in staff.last().text, staff.last().text


@pytest.mark.parametrize(("text", "expected"), [
    ("zwei", "2"), ("fünfzig Plätze", "50"), ("90 Minuten", "90"), ("twenty five", "25"),
    ("-5", "-5"), ("2,5", "2,5"), ("viele", "viele"),
])
def test_number_in_words(text, expected):
    from handlers.evenings_staff import number_in_words

    assert number_in_words(text) == expected


# ---------------------------------------------------------------- 8: a month


def _month_ahead(months: int) -> tuple[int, int]:
    today = utcnow().astimezone(TZ).date()
    index = today.month - 1 + months
    return today.year + index // 12, index % 12 + 1


async def test_a_month_without_sessions_is_said_and_the_next_ones_shown(chat):
    year, month = _month_ahead(2)
    name = MONTHS[month - 1]
    await chat.say(f"elternabende im {name}")
    text = chat.last().text
    assert text.startswith(f"Im {name.capitalize()} {year} habe ich keinen Elternabend"), text
    assert page_items(chat.last())


async def test_a_month_lists_only_its_sessions(app, chat):
    year, month = _month_ahead(2)
    await _session(app, starts_at=datetime(year, month, 10, 19, tzinfo=TZ), title="Im Monat")
    await chat.say(f"elternabende im {MONTHS[month - 1]}")
    assert chat.last().text.startswith("Kommende Elternabende (1)"), chat.last().text
    assert "Im Monat" in chat.last().text


@pytest.mark.parametrize(("text", "month"), [
    ("elternabende im januar", 1), ("any parent evenings in March?", 3), ("may I join", None),
    ("elternabende im mai", 5), ("welche elternabende gibt es", None),
])
def test_month_of(text, month):
    from handlers.parent_evenings import month_of

    assert month_of(text) == month


def test_a_month_already_over_is_next_years():
    start, end = pe.month_range(1, TZ, date(2026, 12, 7))
    assert start == datetime(2027, 1, 1, tzinfo=TZ).astimezone(UTC)
    assert end == datetime(2027, 2, 1, tzinfo=TZ).astimezone(UTC)


# ---------------------------------------------------------------- 9: the chooser keeps the filter


async def test_signing_up_without_naming_one_chooses_from_the_list_just_shown(chat_en):
    await chat_en.say("parent evenings at goethe school")
    assert len(page_items(chat_en.last())) == 2
    await chat_en.say("sign me up")
    items = page_items(chat_en.last())
    assert chat_en.last().text.startswith("Which parent evening?")
    assert len(items) == 2 and all("Goethe" in text for text in items.values()), items



async def test_a_parent_planning_to_come_is_no_request_to_create(chat) -> None:
    await chat.say("ich plane, am elternabend vom goethe-gymnasium teilzunehmen")
    assert "Schulpersonal" not in chat.text()
