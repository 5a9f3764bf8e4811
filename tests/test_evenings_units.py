"""Parent evenings below the chat: BigBlueButton checksum and fake server, the .ics file,
the CSV import, capacity under concurrency (SQLite and PostgreSQL), reminders on a clock."""

from __future__ import annotations

import asyncio
import hashlib
import re
import xml.sax.saxutils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from icalendar import Calendar
from sqlalchemy import select

import bot.scheduled
from bot import scheduler as scheduling
from bot.cli import main
from bot.config import BigBlueButtonConfig, ConfigError, config_from_mapping
from bot.i18n import catalog_keys, translator
from bot.messages import Incoming
from bot.scheduled import release_reminders
from handlers import bigbluebutton as bbb
from handlers.evenings_ics import calendar_file
from handlers.evenings_staff import start_time
from handlers.parent_evenings import when
from storage import outbox, reminders
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.demo import load_demo
from storage.migrate import upgrade
from storage.users import get_or_create_user
from tests.conftest import make_config
from tests.personas import signed

ROOT = Path(__file__).resolve().parent.parent
DOC_QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
DOC_SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"


# ---------------------------------------------------------------- BigBlueButton


def test_checksum_matches_the_documentation_example():
    """The API documentation's worked example: SHA-1 1fcbb0c4…, and SHA-256 of the same."""
    assert bbb.checksum("create", DOC_QUERY, DOC_SECRET, "sha1") == (
        "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
    )
    raw = ("create" + DOC_QUERY + DOC_SECRET).encode()
    assert bbb.checksum("create", DOC_QUERY, DOC_SECRET) == hashlib.sha256(raw).hexdigest()


def test_signed_url_carries_the_query_it_hashed():
    config = BigBlueButtonConfig(url="https://bbb.example.org/bigbluebutton/", secret=DOC_SECRET,
                                 checksum="sha1")
    url = bbb.api_url(config, "create", {"name": "Test Meeting", "meetingID": "abc123",
                                          "attendeePW": "111222", "moderatorPW": "333444"})
    assert url == ("https://bbb.example.org/bigbluebutton/api/create?" + DOC_QUERY
                   + "&checksum=1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17")


class FakeBigBlueButton:
    """A loopback BigBlueButton: checks the checksum, answers the documented XML."""

    def __init__(self, secret: str, algorithm: str = "sha256") -> None:
        self.secret, self.algorithm = secret, algorithm
        self.meetings: dict[str, str] = {}
        self.calls: list[str] = []

    def _valid(self, request: web.Request, call: str) -> bool:
        query = request.rel_url.raw_query_string
        head, _, digest = query.rpartition("&checksum=")
        return bbb.checksum(call, head, self.secret, self.algorithm) == digest

    async def create(self, request: web.Request) -> web.Response:
        self.calls.append("create")
        if not self._valid(request, "create"):
            return self._xml("<returncode>FAILED</returncode><messageKey>checksumError"
                             "</messageKey><message>Checksums do not match</message>")
        meeting = request.query["meetingID"]
        duplicate = meeting in self.meetings
        self.meetings.setdefault(meeting, request.query["name"])
        extra = ("<messageKey>duplicateWarning</messageKey><message>This conference was "
                 "already in existence and may currently be in progress.</message>"
                 if duplicate else "<messageKey></messageKey><message></message>")
        return self._xml(
            f"<returncode>SUCCESS</returncode><meetingID>{xml.sax.saxutils.escape(meeting)}"
            "</meetingID><internalMeetingID>x-1</internalMeetingID><attendeePW>ap</attendeePW>"
            "<moderatorPW>mp</moderatorPW><hasBeenForciblyEnded>false</hasBeenForciblyEnded>"
            + extra
        )

    @staticmethod
    def _xml(body: str) -> web.Response:
        return web.Response(text=f"<response>{body}</response>", content_type="text/xml")


@pytest.fixture
async def fake_bbb():
    server = FakeBigBlueButton("s3cret-for-tests")
    app = web.Application()
    app.router.add_get("/bigbluebutton/api/create", server.create)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/bigbluebutton/"  # type: ignore[attr-defined]
    yield server
    await runner.cleanup()


async def test_create_is_accepted_by_the_server_and_idempotent(fake_bbb):
    config = BigBlueButtonConfig(url=fake_bbb.url, secret="s3cret-for-tests")
    assert await bbb.create_meeting(config, 7, "Elternabend 4b", 90) == "citybot-evening-7"
    assert await bbb.create_meeting(config, 7, "Elternabend 4b", 90) == "citybot-evening-7"
    assert list(fake_bbb.meetings) == ["citybot-evening-7"]


async def test_a_wrong_secret_is_refused(fake_bbb):
    config = BigBlueButtonConfig(url=fake_bbb.url, secret="wrong")
    with pytest.raises(bbb.BigBlueButtonError, match="checksumError"):
        await bbb.create_meeting(config, 7, "x", 30)


async def test_registration_with_bigbluebutton_gives_a_personal_viewer_link(
    tmp_path, nlu_model, fake_bbb
):
    from bot.app import create_app

    config = make_config(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'bbb.db'}",
        evenings={"bigbluebutton": {"url": fake_bbb.url, "secret": "s3cret-for-tests"}},
    )
    app = await create_app(config, nlu=nlu_model)
    try:
        async with app.sessions() as db:
            session = (await pe.upcoming(db, pe.SessionQuery(), utcnow()))[0]
        replies = await app.dispatcher.handle(Incoming(
            platform="console", chat_id="anna", user_id="anna", event_id="e1", kind="button",
            payload=signed(app, "anna", f"ev.reg:{session.id}:0"), display_name="Anna Beispiel"))
        link = re.search(r"https?://\S+", replies[0].text).group()
        query = dict(parse_qsl(urlsplit(link).query))
        assert query["fullName"] == "Anna Beispiel" and query["role"] == "VIEWER"
        assert query["meetingID"] == f"citybot-evening-{session.id}"
        head = urlsplit(link).query.rpartition("&checksum=")[0]
        assert bbb.checksum("join", head, "s3cret-for-tests") == query["checksum"]
        assert f"citybot-evening-{session.id}" in fake_bbb.meetings
    finally:
        await app.close()


def test_config_validates_reminder_offsets_and_checksum():
    with pytest.raises(ConfigError, match=r"evenings\.reminders"):
        config_from_mapping({"evenings": {"reminders": ["1 week"]}})
    with pytest.raises(ConfigError, match="checksum"):
        config_from_mapping({"evenings": {"bigbluebutton": {
            "url": "https://b.example", "secret": "x", "checksum": "md5"}}})


# ---------------------------------------------------------------- calendar file


def _session(sequence: int = 0, status: str = pe.SCHEDULED) -> pe.EveningSession:
    school = pe.School(key="grundschule-am-park", name="Grundschule am Park", classes=["4b"])
    return pe.EveningSession(
        id=5, title="Elternabend 4b", school=school, classes=["4b"],
        starts_at=datetime(2027, 3, 2, 17, 30, tzinfo=UTC), duration_minutes=90,
        capacity=20, taken=0, status=status, sequence=sequence,
    )


def test_ics_parses_back_with_zone_link_alarm_and_stable_uid():
    tz = ZoneInfo("Europe/Berlin")
    link = "https://meet.example.org/park-4b"
    first = calendar_file(_session(), 42, link, tz, description="Link:", alarm_text="bald")
    moved = calendar_file(_session(sequence=1), 42, link, tz, description="Link:",
                          alarm_text="bald")
    event = Calendar.from_ical(first.content).walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert start == datetime(2027, 3, 2, 18, 30, tzinfo=tz) and str(start.tzinfo) == str(tz)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTEND") - start == timedelta(minutes=90)
    assert str(event["URL"]) == link and link in str(event["DESCRIPTION"])
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)
    again = Calendar.from_ical(moved.content).walk("VEVENT")[0]
    assert str(again["UID"]) == str(event["UID"]) and int(again["SEQUENCE"]) == 1
    cancelled = calendar_file(_session(2, pe.CANCELLED), 42, link, tz, description="",
                              alarm_text="")
    assert Calendar.from_ical(cancelled.content)["METHOD"] == "CANCEL"


# ---------------------------------------------------------------- validation, CSV import


def test_class_and_room_validation():
    school = pe.School(key="k", name="Schule", classes=["4a", "4b", "Q1"])
    assert pe.parse_classes("4A, 4b", school) == ["4a", "4b"]
    assert pe.parse_classes("alle", school) == []
    assert pe.parse_classes("q1", school) == ["Q1"]
    with pytest.raises(pe.EveningError, match="bad_class"):
        pe.parse_classes("5c", school)
    with pytest.raises(pe.EveningError, match="bad_room"):
        pe.parse_room("http://x.example", required=True)
    assert pe.class_matches(["7a", "7b"], "Klasse 7") and not pe.class_matches(["17a"], "7")


def test_every_storage_error_key_is_translated():
    source = (ROOT / "storage" / "parent_evenings.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'EveningError\(\s*"([a-z_.]+)"', source))
    assert keys and keys <= catalog_keys("de") and keys <= catalog_keys("en")


CSV_HEADER = "title,classes,start,duration_minutes,capacity,room_url\n"


def _db_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage:\n  url: sqlite+aiosqlite:///{tmp_path / 'cli.db'}\n"
        "nlu:\n  cache_dir: null\n", encoding="utf-8")
    return path


async def _count_sessions(tmp_path: Path) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        async with session_factory(engine)() as db:
            school = await pe.school_by_key(db, "grundschule-am-park")
            return len(await pe.sessions_of_schools(db, [school.id], utcnow()))
    finally:
        await engine.dispose()


def test_csv_import_is_all_or_nothing_with_line_numbers(tmp_path, capsys):
    config = _db_config(tmp_path)
    future = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        CSV_HEADER
        + f"Elternabend 1a,1a,{future} 19:00,90,20,https://meet.example.org/1a\n"
        + f"Elternabend 9z,9z,{future} 19:00,90,20,https://meet.example.org/9z\n"
        + f"Elternabend 2a,2a,{future} 19:00,0,20,https://meet.example.org/2a\n",
        encoding="utf-8")
    assert main(["evenings", "import", str(bad), "--school", "grundschule-am-park",
                 "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "line 3: There is no class \"9z\"" in err and "line 4: The duration" in err
    assert "nothing imported" in err
    base = asyncio.run(_count_sessions(tmp_path))
    good = tmp_path / "good.csv"
    good.write_text(
        CSV_HEADER
        + f"Elternabend 1a,1a 1b,{future} 19:00,90,20,https://meet.example.org/1a\n"
        + f"Schulkonferenz,alle,{future} 20:00,60,30,https://meet.example.org/sk\n",
        encoding="utf-8")
    assert main(["evenings", "import", str(good), "--school", "grundschule-am-park",
                 "--config", str(config)]) == 0
    assert "imported 2 sessions" in capsys.readouterr().out
    assert asyncio.run(_count_sessions(tmp_path)) == base + 2


def test_csv_with_a_wrong_column_is_refused(tmp_path, capsys):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("title,klassen,start,duration_minutes,capacity,room_url\n", encoding="utf-8")
    assert main(["evenings", "import", str(wrong), "--school", "grundschule-am-park",
                 "--config", str(_db_config(tmp_path))]) == 1
    assert "line 1: The columns must be exactly" in capsys.readouterr().err


# ---------------------------------------------------------------- capacity under concurrency


async def test_two_parents_taking_the_last_place_at_once(database_url):
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            await load_demo(db)
            school = await pe.school_by_key(db, "goethe-gymnasium")
            evening = await pe.create_session(
                db, school, title="Letzter Platz", classes=[], duration_minutes=60,
                starts_at=utcnow() + timedelta(days=3), capacity=2, room_url=None)
            await pe.register(db, evening, None, utcnow())
            users = [(await get_or_create_user(db, "console", n, language="de"))[0].id
                     for n in ("p1", "p2")]
        ready = asyncio.Barrier(2)

        postgres = database_url.startswith("postgresql")

        async def take(user_id: int) -> str:
            async with sessions() as db, db.begin():
                current = await pe.get_session(db, evening.id)
                if postgres:  # both have read one free place before either writes
                    assert current.free == 1
                    await ready.wait()
                return (await pe.register(db, current, user_id, utcnow())).status

        results = await asyncio.wait_for(asyncio.gather(*(take(u) for u in users)), 30)
        assert sorted(results) == ["full", "registered"]
        async with sessions() as db:
            current = await pe.get_session(db, evening.id)
            assert current.taken == current.capacity == 2
            assert await pe.count_registered(db, evening.id) == 2
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- reminders on a clock


@pytest.fixture
async def bound(app):
    scheduling.bind(app)
    yield app
    scheduling.bind(None)  # type: ignore[arg-type]


class Clock:
    """A controllable utcnow for the reminder release job."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _register(app, session_id: int, user: str = "anna", event: str = "r") -> None:
    await app.dispatcher.handle(Incoming(
        platform="console", chat_id=user, user_id=user, event_id=f"{event}-{user}",
        kind="button", payload=signed(app, user, f"ev.reg:{session_id}:0")))


async def _new_session(app, hours: float) -> int:
    async with app.sessions() as db, db.begin():
        school = await pe.school_by_key(db, "brunnen-grundschule")
        evening = await pe.create_session(
            db, school, title="Uhr-Test", classes=["2a"], duration_minutes=60, capacity=5,
            starts_at=utcnow() + timedelta(hours=hours), room_url="https://meet.example.org/u")
        return evening.id


async def _reminder_texts(app, user: str = "anna") -> list[str]:
    async with app.sessions() as db:
        rows = await db.scalars(select(outbox.OutboxMessage).where(
            outbox.OutboxMessage.recipient == user).order_by(outbox.OutboxMessage.id))
        return [r.payload[0]["text"] for r in rows if r.payload[0]["text"].startswith(
            "Erinnerung")]


async def test_reminders_fire_24h_and_1h_before_with_the_link(bound, monkeypatch):
    session_id = await _new_session(bound, hours=48)
    await _register(bound, session_id)
    start = utcnow() + timedelta(hours=48)
    clock = Clock(start - timedelta(hours=30))
    monkeypatch.setattr(bot.scheduled, "utcnow", clock)
    assert await release_reminders() == (0, 0)
    clock.now = start - timedelta(hours=23, minutes=59)
    assert await release_reminders() == (1, 0)
    clock.now = start - timedelta(minutes=59)
    assert await release_reminders() == (1, 0)
    texts = await _reminder_texts(bound)
    assert len(texts) == 2 and all("https://meet.example.org/u" in t for t in texts)


async def test_no_reminder_for_a_time_already_past(bound):
    session_id = await _new_session(bound, hours=5)
    await _register(bound, session_id)
    async with bound.sessions() as db:
        due = [r for r in await db.scalars(select(reminders.Reminder))]
    assert len(due) == 1, "the 24-hour reminder would be in the past"


async def test_given_back_and_cancelled_sessions_send_no_reminder(bound, monkeypatch):
    first = await _new_session(bound, hours=48)
    second = await _new_session(bound, hours=48)
    await _register(bound, first)
    await _register(bound, second, "ben")
    await bound.dispatcher.handle(Incoming(
        platform="console", chat_id="anna", user_id="anna", event_id="give",
        kind="text", text="/cancel_evening"))
    async with bound.sessions() as db, db.begin():
        from handlers.evenings_staff import CancelEveningForm  # noqa: F401  (registers routes)

        evening = await pe.get_session(db, second)
        await pe.cancel_session(db, evening)
        for registration in await pe.registrations_for(db, second):
            await reminders.cancel(db, f"evening-reg:{registration.id}")
    monkeypatch.setattr(bot.scheduled, "utcnow", Clock(utcnow() + timedelta(hours=47.5)))
    assert await release_reminders() == (0, 0)


async def test_moved_session_reminds_at_the_new_time(bound, monkeypatch, chat_factory):
    session_id = await _new_session(bound, hours=48)
    await _register(bound, session_id)
    staff = chat_factory("lehrer", "de")
    async with bound.sessions() as db, db.begin():
        from storage.users import create_invite

        code = (await create_invite(db, "school_staff", "brunnen-grundschule")).code
    await staff.say(f"/claim {code}")
    await bound.dispatcher.handle(Incoming(
        platform="console", chat_id="lehrer", user_id="lehrer", event_id="mv",
        kind="button", payload=signed(bound, "lehrer", f"ev.move:{session_id}")))
    new_start = (utcnow() + timedelta(days=5)).astimezone(ZoneInfo("Europe/Berlin"))
    await staff.say(new_start.strftime("%d.%m.%Y %H:%M"))
    await staff.say("ja")
    assert "Verschoben" in staff.last().text
    moved = new_start.replace(second=0, microsecond=0).astimezone(UTC)
    monkeypatch.setattr(bot.scheduled, "utcnow", Clock(utcnow() + timedelta(hours=47.5)))
    assert await release_reminders() == (0, 0), "the old times are cancelled"
    monkeypatch.setattr(bot.scheduled, "utcnow", Clock(moved - timedelta(minutes=30)))
    assert await release_reminders() == (2, 0)


async def test_rooms_are_opened_shortly_before_the_start(tmp_path, nlu_model, fake_bbb):
    from bot.app import create_app
    from handlers.parent_evenings import open_rooms

    config = make_config(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rooms.db'}",
        evenings={"bigbluebutton": {"url": fake_bbb.url, "secret": "s3cret-for-tests"}},
    )
    app = await create_app(config, nlu=nlu_model)
    scheduling.bind(app)
    try:
        soon = await _new_session(app, hours=0.2)
        await _new_session(app, hours=3)
        assert await open_rooms() == 1
        assert list(fake_bbb.meetings) == [f"citybot-evening-{soon}"]
    finally:
        scheduling.bind(None)  # type: ignore[arg-type]
        await app.close()


def test_a_time_names_its_year_only_when_it_is_not_this_year():
    config = config_from_mapping({})
    tz = config.city.tz
    this_year = datetime.now(tz).year
    june = datetime(this_year, 6, 10, 19, 0, tzinfo=tz)
    january = datetime(this_year + 1, 1, 11, 19, 30, tzinfo=tz)
    assert when(translator("de"), june, config).endswith(" 10.06. 19:00")
    assert when(translator("de"), january, config).endswith(f" 11.01.{this_year + 1} 19:30")
    assert when(translator("en"), january, config).endswith(f" 11 Jan {this_year + 1}, 19:30")
    assert str(this_year) not in when(translator("en"), june, config)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.02.2027 19:00", "2027-02-24T19:00:00+01:00"),
        ("morgen 19 uhr", "2026-11-27T19:00:00+01:00"),
        ("18.12. 19:30", "2026-12-18T19:30:00+01:00"),
        ("Donnerstag 19 Uhr", "2026-11-26T19:00:00+01:00"),  # today, later on
        ("next friday 7 pm", "2026-11-27T19:00:00+01:00"),
        ("morgen", "evenings.bad_start"),  # a day without a time
        ("heute 9 uhr", "evenings.in_past"),
        ("irgendwann", "evenings.bad_start"),
        ("am 18.12. um 19:30", "2026-12-18T19:30:00+01:00"),
        ("17 December 7pm", "2026-12-17T19:00:00+01:00"),
        ("Dec 17, 2026, 7:00 PM", "2026-12-17T19:00:00+01:00"),  # the year is read
        ("Thu 17 Dec, 19:00", "2026-12-17T19:00:00+01:00"),  # as the bot shows a session
        ("Do. 17.12. 19:00", "2026-12-17T19:00:00+01:00"),
        ("Fri 17 Dec, 19:00", "evenings.bad_start"),  # 17 December 2026 is a Thursday
        ("19 uhr", "evenings.bad_start"),  # a time without a day
        ("7pm", "evenings.bad_start"),
    ],
)
def test_a_sessions_start_is_read_from_a_date_or_words_with_a_clock_time(text, expected):
    tz = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 26, 10, 0, tzinfo=tz).astimezone(UTC)  # a Thursday morning
    try:
        moment = start_time(text, tz, now)
    except pe.EveningError as error:
        assert error.key == expected
    else:
        assert moment.astimezone(tz).isoformat() == expected and moment.tzinfo == UTC
