"""Parent evenings: schools and their classes, online sessions, registrations, waiting lists.

A session's `taken` counts its registered places; it only grows through one conditional
UPDATE (`taken < capacity`), so two parents taking the last place at the same moment never
both get it (PostgreSQL row lock, SQLite write lock), and a CHECK keeps it within capacity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, UTCDateTime, utcnow
from storage.demo import catalogue, seeder
from storage.privacy import exporter, rows_linked_to

SCHEDULED, CANCELLED = "scheduled", "cancelled"
REGISTERED, WAITING = "registered", "waiting"
MAX_DURATION = 600
MAX_CAPACITY = 2000
CLASS_PREFIX = re.compile(
    r"^(?:klasse|class|jahrgangsstufe|jahrgang|stufe|year|grade|form)\s*", re.IGNORECASE
)
# words of a school's name that say what kind of school, not which one (see short_names)
SCHOOL_TYPE_WORDS = frozenset({
    "schule", "grundschule", "gymnasium", "realschule", "gesamtschule", "hauptschule",
    "sekundarschule", "förderschule", "berufskolleg", "school", "primary", "grammar",
    "comprehensive", "städtisches", "städtische",
})
MIN_SHORT_NAME = 4  # shorter words of a name ("am", "an", "der") are no short name
WHOLE_SCHOOL_WORDS = {"alle", "all", "*", "ganze schule", "whole school", "schule", "school"}
DATE_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
                "%d/%m/%Y %H:%M")  # "17/12/2026 19:00": day first, as in Britain
CSV_COLUMNS = ["title", "classes", "start", "duration_minutes", "capacity", "room_url"]
# a room link's answer asking for a BigBlueButton room (compared in lower case)
AUTOMATIC_ROOM = ("-", "bbb", "auto", "automatisch", "automatic")


class EveningError(ValueError):
    """Input that does not fit; key names the message explaining why (values fill it)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class School(Base):
    """A school of the city, with its classes; the catalogue behind the `school` entity."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    district: Mapped[str | None] = mapped_column(String(100))
    classes: Mapped[list[str]] = mapped_column(JSON, default=list)


class EveningSession(Base):
    """An online parent evening of one school for some classes (none listed: whole school)."""

    __tablename__ = "evening_sessions"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    room_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=SCHEDULED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    school: Mapped[School] = relationship(lazy="joined")

    @property
    def ends_at(self) -> datetime:
        """When the session ends."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def free(self) -> int:
        """Places still free."""
        return max(self.capacity - self.taken, 0)


class Registration(Base):
    """A parent's place in a session (registered) or on its waiting list (waiting).

    user_id is NULL for places the school office booked outside the bot (demo data).
    """

    __tablename__ = "evening_registrations"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evening_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=REGISTERED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[EveningSession] = relationship(lazy="joined")


# ---------------------------------------------------------------- schools


async def all_schools(db: AsyncSession) -> list[School]:
    """Every school, by name."""
    return list(await db.scalars(select(School).order_by(School.name)))


async def school_by_key(db: AsyncSession, key: str) -> School | None:
    """The school with that catalogue key."""
    return await db.scalar(select(School).where(School.key == key))


async def schools_by_keys(db: AsyncSession, keys: list[str]) -> list[School]:
    """The schools with those keys, by name."""
    if not keys:
        return []
    return list(await db.scalars(select(School).where(School.key.in_(keys)).order_by(School.name)))


def short_names(schools: list[School]) -> dict[str, str]:
    """School key -> the last own word of its name, where no other school's name has it:
    'Hellweg' for 'Realschule am Hellweg', 'Curie' for 'Marie-Curie-Gesamtschule'."""
    own = {
        s.key: [w for w in re.split(r"[\s\-]+", s.name)
                if len(w) >= MIN_SHORT_NAME and w.lower() not in SCHOOL_TYPE_WORDS]
        for s in schools
    }
    counts: dict[str, int] = {}
    for words in own.values():
        for word in {w.lower() for w in words}:
            counts[word] = counts.get(word, 0) + 1
    return {key: words[-1] for key, words in own.items()
            if words and counts[words[-1].lower()] == 1}


@catalogue("school")
async def school_catalogue(db: AsyncSession) -> dict[str, list[str]]:
    """School key -> its surface forms (name, aliases and short name), for the NLU catalogue."""
    schools = await all_schools(db)
    short = short_names(schools)
    return {s.key: [s.name, *s.aliases, *([short[s.key]] if s.key in short else [])]
            for s in schools}


async def upsert_school(db: AsyncSession, row: dict[str, Any]) -> School:
    """Create a school or update its name, aliases, district and classes."""
    school = await school_by_key(db, row["key"])
    if school is None:
        school = School(key=row["key"])
        db.add(school)
    school.name = row["name"]
    school.aliases = list(row.get("aliases") or [])
    school.district = row.get("district")
    school.classes = [str(c) for c in row.get("classes") or []]
    await db.flush()
    return school


# ---------------------------------------------------------------- validation


def normalise_class(text: str) -> str:
    """'Klasse 7', 'year 9', ' 4B ' -> '7', '9', '4b'."""
    return CLASS_PREFIX.sub("", text.strip()).replace(" ", "").casefold()


def class_matches(session_classes: list[str], wanted: str | None) -> bool:
    """Whether a session is for the wanted class ('4b', 'Q1') or grade ('4'); [] is the whole
    school (see for_class: only of a school that has that class)."""
    if not wanted or not session_classes:
        return True
    return has_class(session_classes, wanted)


def has_class(classes: list[str], wanted: str) -> bool:
    """Whether the list holds the wanted class ('4b', 'q1') or a class of that grade ('4')."""
    wanted = normalise_class(wanted)
    for cls in classes:
        folded = cls.casefold()
        if folded == wanted or (wanted.isdigit() and re.match(rf"^{wanted}(?!\d)", folded)):
            return True
    return False


async def school_classes(db: AsyncSession, school: School) -> list[str]:
    """The school's classes; a school without a class list: the classes of its sessions."""
    if school.classes:
        return list(school.classes)
    rows = await db.scalars(
        select(EveningSession.classes).where(EveningSession.school_id == school.id)
    )
    return sorted({cls for classes in rows for cls in classes or []})


async def for_class(db: AsyncSession, session: EveningSession, wanted: str | None) -> bool:
    """Whether a session is for the wanted class or grade: one of its classes, or the whole
    school of a school that has that class."""
    if not wanted:
        return True
    if session.classes:
        return has_class(session.classes, wanted)
    return has_class(await school_classes(db, session.school), wanted)


async def class_exists(db: AsyncSession, wanted: str) -> bool:
    """Whether any school has the class or grade ('99z', 'Klasse 99': no)."""
    return bool(await schools_with_class(db, wanted))


async def schools_with_class(db: AsyncSession, wanted: str) -> list[School]:
    """The schools that have the class or grade ('9a': every school with a 9a)."""
    return [school for school in await all_schools(db)
            if has_class(await school_classes(db, school), wanted)]


def parse_classes(text: str, school: School) -> list[str]:
    """'4a, 4b' -> ['4a', '4b'] (the school's spelling); 'alle'/'all' -> [] (whole school)."""
    if text.strip().casefold() in WHOLE_SCHOOL_WORDS:
        return []
    known = {c.casefold(): c for c in school.classes}
    found: list[str] = []
    for part in re.split(r"[,;/|\s]+(?:und\s+|and\s+)?", text.strip()):
        if not part or part.casefold() in ("und", "and"):
            continue
        cls = known.get(normalise_class(part))
        if cls is None:
            raise EveningError("evenings.bad_class", cls=part, school=school.name)
        if cls not in found:
            found.append(cls)
    if not found:
        raise EveningError("evenings.bad_class", cls=text.strip(), school=school.name)
    return found


def parse_start(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """'24.12.2026 19:00' or '2026-12-24 19:00' (city time) -> UTC; must be in the future."""
    text = " ".join(text.split())
    for fmt in DATE_FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        moment = local.replace(tzinfo=tz)
        if moment <= now:
            raise EveningError("evenings.in_past")
        return moment.astimezone(now.tzinfo)
    raise EveningError("evenings.bad_start")


def parse_positive(text: str, key: str, maximum: int) -> int:
    """A whole number 1..maximum, else EveningError(key)."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise EveningError(key, max=maximum) from None
    if not 0 < value <= maximum:
        raise EveningError(key, max=maximum)
    return value


def parse_room(text: str | None, *, required: bool) -> str | None:
    """An https room link; empty is allowed when the rooms come from BigBlueButton."""
    text = (text or "").strip()
    if not text or text.casefold() in AUTOMATIC_ROOM:
        if required:  # "-" without BigBlueButton: no automatic room to give
            raise EveningError("evenings.no_auto_room" if text else "evenings.bad_room")
        return None
    if not re.fullmatch(r"https://[^\s/$.?#][^\s]*\.[^\s]+", text) or len(text) > 500:
        raise EveningError("evenings.bad_room")
    return text


# ---------------------------------------------------------------- sessions


@dataclass
class SessionQuery:
    """Which upcoming sessions to list."""

    school_ids: list[int] | None = None
    school_class: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    session_ids: list[int] | None = None  # sessions named by their title


async def upcoming(
    db: AsyncSession, query: SessionQuery, now: datetime, limit: int = 50
) -> list[EveningSession]:
    """Scheduled sessions not yet begun that fit the query, soonest first."""
    stmt = select(EveningSession).where(
        EveningSession.status == SCHEDULED,
        EveningSession.starts_at > max(now, query.start or now),
    )
    if query.end is not None:
        stmt = stmt.where(EveningSession.starts_at < query.end)
    if query.school_ids is not None:
        stmt = stmt.where(EveningSession.school_id.in_(query.school_ids))
    if query.session_ids is not None:
        stmt = stmt.where(EveningSession.id.in_(query.session_ids))
    stmt = stmt.order_by(EveningSession.starts_at, EveningSession.id)
    found = [s for s in await db.scalars(stmt) if await for_class(db, s, query.school_class)]
    return found[:limit]


async def get_session(db: AsyncSession, session_id: int) -> EveningSession | None:
    """One session by id."""
    return await db.get(EveningSession, session_id)


async def create_session(
    db: AsyncSession,
    school: School,
    *,
    title: str,
    classes: list[str],
    starts_at: datetime,
    duration_minutes: int,
    capacity: int,
    room_url: str | None,
    created_by: int | None = None,
) -> EveningSession:
    """Publish a new session."""
    session = EveningSession(
        school_id=school.id,
        school=school,
        title=title,
        classes=classes,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        capacity=capacity,
        taken=0,
        room_url=room_url,
        status=SCHEDULED,
        sequence=0,
        created_by=created_by,
    )
    db.add(session)
    await db.flush()
    return session


async def sessions_of_schools(
    db: AsyncSession, school_ids: list[int], now: datetime
) -> list[EveningSession]:
    """A school's sessions that have not ended (cancelled ones included), soonest first."""
    if not school_ids:
        return []
    stmt = (
        select(EveningSession)
        .where(
            EveningSession.school_id.in_(school_ids),
            EveningSession.starts_at > now - timedelta(minutes=MAX_DURATION),
        )
        .order_by(EveningSession.starts_at, EveningSession.id)
    )
    return [s for s in await db.scalars(stmt) if s.ends_at > now]


async def move_session(
    db: AsyncSession, session: EveningSession, starts_at: datetime, duration_minutes: int
) -> None:
    """Give a session a new time (the calendar SEQUENCE goes up)."""
    session.starts_at = starts_at
    session.duration_minutes = duration_minutes
    session.sequence += 1
    await db.flush()


async def rename_session(db: AsyncSession, session: EveningSession, title: str) -> None:
    """Give a session a new title (the calendar SEQUENCE goes up: calendars take the new one)."""
    session.title = title
    session.sequence += 1
    await db.flush()


async def change_room(db: AsyncSession, session: EveningSession, room_url: str | None) -> bool:
    """Give a session a new room link (the calendar SEQUENCE goes up: calendars take the new
    URL); False when it is the link it has."""
    if (room_url or None) == session.room_url:
        return False
    session.room_url = room_url or None
    session.sequence += 1
    await db.flush()
    return True


async def cancel_session(db: AsyncSession, session: EveningSession) -> None:
    """Call a session off (registrations stay, so everybody can be told)."""
    session.status = CANCELLED
    session.sequence += 1
    await db.flush()


def check_capacity(session: EveningSession, capacity: int) -> None:
    """EveningError when the capacity is below the places the session has taken."""
    if capacity < session.taken:
        raise EveningError("evenings.capacity_below_taken", taken=session.taken)


async def set_capacity(db: AsyncSession, session: EveningSession, capacity: int) -> None:
    """Change the capacity; not below the places already taken (read again here)."""
    await db.refresh(session, ["taken"])
    check_capacity(session, capacity)
    session.capacity = capacity
    await db.flush()


# ---------------------------------------------------------------- registrations


async def registration_of(
    db: AsyncSession, session_id: int, user_id: int
) -> Registration | None:
    """The user's registration or waiting-list entry for a session."""
    return await db.scalar(
        select(Registration).where(
            Registration.session_id == session_id, Registration.user_id == user_id
        )
    )


async def get_registration(db: AsyncSession, registration_id: int) -> Registration | None:
    """One registration by id."""
    return await db.get(Registration, registration_id)


async def _take_place(db: AsyncSession, session_id: int) -> bool:
    """Atomically take one free place of a scheduled session; False when there is none."""
    result = await db.execute(
        update(EveningSession)
        .where(
            EveningSession.id == session_id,
            EveningSession.status == SCHEDULED,
            EveningSession.taken < EveningSession.capacity,
        )
        .values(taken=EveningSession.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1


async def _give_place(db: AsyncSession, session_id: int) -> None:
    await db.execute(
        update(EveningSession)
        .where(EveningSession.id == session_id, EveningSession.taken > 0)
        .values(taken=EveningSession.taken - 1)
        .execution_options(synchronize_session=False)
    )


@dataclass
class Outcome:
    """What became of a registration attempt: registered, full, waiting, already_*, closed."""

    status: str
    registration: Registration | None = None
    promoted: list[Registration] = field(default_factory=list)


async def register(
    db: AsyncSession, session: EveningSession, user_id: int | None, now: datetime
) -> Outcome:
    """Take a place for the user if one is free (never beyond the capacity)."""
    if user_id is not None:
        existing = await registration_of(db, session.id, user_id)
        if existing is not None:
            return Outcome(f"already_{existing.status}", existing)
    if session.status != SCHEDULED or session.starts_at <= now:
        return Outcome("closed")
    if not await _take_place(db, session.id):
        return Outcome("full")
    registration = Registration(session_id=session.id, user_id=user_id, status=REGISTERED)
    db.add(registration)
    await db.flush()
    await db.refresh(session, ["taken"])
    return Outcome(REGISTERED, registration)


async def join_waiting_list(
    db: AsyncSession, session: EveningSession, user_id: int | None, now: datetime
) -> Outcome:
    """Put the user on the waiting list (or give them a place if one is free by now)."""
    outcome = await register(db, session, user_id, now)
    if outcome.status != "full":
        return outcome
    registration = Registration(session_id=session.id, user_id=user_id, status=WAITING)
    db.add(registration)
    await db.flush()
    return Outcome(WAITING, registration)


async def promote_waiting(db: AsyncSession, session: EveningSession) -> list[Registration]:
    """Give free places to the waiting list, first come first served; returns the promoted."""
    promoted = []
    while True:
        if not await _take_place(db, session.id):  # also locks the session row (PostgreSQL)
            break
        first = await db.scalar(
            select(Registration)
            .where(Registration.session_id == session.id, Registration.status == WAITING)
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if first is None:
            await _give_place(db, session.id)
            break
        first.status = REGISTERED
        promoted.append(first)
        await db.flush()
    await db.refresh(session, ["taken"])
    return promoted


async def give_back(db: AsyncSession, registration: Registration) -> list[Registration]:
    """Cancel a registration or waiting-list entry; a freed place goes to the waiting list."""
    session = registration.session
    was_registered = registration.status == REGISTERED
    await db.execute(delete(Registration).where(Registration.id == registration.id))
    db.expunge(registration)
    if not was_registered:
        return []
    await _give_place(db, session.id)
    if session.status != SCHEDULED:
        return []
    return await promote_waiting(db, session)


async def registrations_of(
    db: AsyncSession, user_id: int, now: datetime
) -> list[Registration]:
    """The user's registrations and waiting-list entries for sessions not yet over."""
    stmt = (
        select(Registration)
        .join(EveningSession, Registration.session_id == EveningSession.id)
        .where(
            Registration.user_id == user_id,
            EveningSession.status == SCHEDULED,
            EveningSession.starts_at > now - timedelta(minutes=MAX_DURATION),
        )
        .order_by(EveningSession.starts_at, Registration.id)
    )
    return [r for r in await db.scalars(stmt) if r.session.ends_at > now]


async def registrations_for_user(db: AsyncSession, user_id: int) -> list[Registration]:
    """Every registration and waiting-list entry of a user (for erasure)."""
    stmt = select(Registration).where(Registration.user_id == user_id)
    return list(await db.scalars(stmt.order_by(Registration.id)))


async def registrations_for(
    db: AsyncSession, session_id: int, status: str | None = None
) -> list[Registration]:
    """A session's registrations (or one status of them), in the order they came."""
    stmt = select(Registration).where(Registration.session_id == session_id)
    if status is not None:
        stmt = stmt.where(Registration.status == status)
    return list(await db.scalars(stmt.order_by(Registration.created_at, Registration.id)))


async def count_registered(db: AsyncSession, session_id: int) -> int:
    """How many registered rows a session has (equals `taken`)."""
    return int(
        await db.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.session_id == session_id, Registration.status == REGISTERED)
        )
        or 0
    )


# ---------------------------------------------------------------- CSV import


@dataclass
class ImportRow:
    """One validated row of a term schedule."""

    title: str
    classes: list[str]
    starts_at: datetime
    duration_minutes: int
    capacity: int
    room_url: str | None


def validate_rows(
    header: list[str],
    rows: list[tuple[int, dict[str, str]]],
    school: School,
    tz: ZoneInfo,
    now: datetime,
    *,
    room_required: bool,
) -> tuple[list[ImportRow], list[tuple[int, EveningError]]]:
    """Check a schedule row by row: the valid rows and (line, error) for every wrong one."""
    if [h.strip() for h in header] != CSV_COLUMNS:
        return [], [(1, EveningError("evenings.csv_columns", columns=", ".join(CSV_COLUMNS)))]
    good: list[ImportRow] = []
    errors: list[tuple[int, EveningError]] = []
    for line, row in rows:
        try:
            title = (row.get("title") or "").strip()
            if not 3 <= len(title) <= 200:
                raise EveningError("evenings.bad_title")
            good.append(
                ImportRow(
                    title=title,
                    classes=parse_classes(row.get("classes") or "", school),
                    starts_at=parse_start(row.get("start") or "", tz, now),
                    duration_minutes=parse_positive(
                        row.get("duration_minutes") or "", "evenings.bad_duration", MAX_DURATION
                    ),
                    capacity=parse_positive(
                        row.get("capacity") or "", "evenings.bad_capacity", MAX_CAPACITY
                    ),
                    room_url=parse_room(row.get("room_url"), required=room_required),
                )
            )
        except EveningError as error:
            errors.append((line, error))
    return good, errors


async def import_rows(db: AsyncSession, school: School, rows: list[ImportRow]) -> int:
    """Create a session for each validated row."""
    for row in rows:
        await create_session(
            db,
            school,
            title=row.title,
            classes=row.classes,
            starts_at=row.starts_at,
            duration_minutes=row.duration_minutes,
            capacity=row.capacity,
            room_url=row.room_url,
        )
    return len(rows)


# ---------------------------------------------------------------- demo data, privacy


@seeder("schools", order=15)
async def seed_schools(db: AsyncSession, read: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """The demo schools with their classes."""
    rows = read("schools").get("schools", [])
    for row in rows:
        await upsert_school(db, row)
    return {"schools": len(rows)}


@seeder("parent_evenings", order=60)
async def seed_sessions(db: AsyncSession, read: Callable[[str], dict[str, Any]]) -> dict[str, int]:
    """Demo sessions relative to today (once): places booked by the school offices."""
    if await db.scalar(select(func.count()).select_from(EveningSession)):
        return {"evening_sessions": 0}
    data = read("parent_evenings")
    tz = ZoneInfo(data.get("timezone", "Europe/Berlin"))
    today = utcnow().astimezone(tz).date()
    count = 0
    for row in data.get("sessions", []):
        school = await school_by_key(db, row["school"])
        if school is None:
            continue
        day = today + timedelta(days=int(row["in_days"]))
        hour, minute = (int(x) for x in str(row["time"]).split(":"))
        starts = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        session = await create_session(
            db,
            school,
            title=row["title"],
            classes=list(row.get("classes") or []),
            starts_at=starts.astimezone(utcnow().tzinfo),
            duration_minutes=int(row.get("duration_minutes", 90)),
            capacity=int(row["capacity"]),
            room_url=row.get("room_url"),
        )
        now = utcnow()
        for _ in range(int(row.get("booked", 0))):
            await register(db, session, None, now)
        for _ in range(int(row.get("waiting", 0))):
            await join_waiting_list(db, session, None, now)
        count += 1
    return {"evening_sessions": count}


def day_range(day: date, tz: ZoneInfo, days: int) -> tuple[datetime, datetime]:
    """Start and end (UTC) of `days` city days from `day`."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=days)).astimezone(
        ZoneInfo("UTC")
    )


def month_range(month: int, tz: ZoneInfo, today: date) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the month's city days: this year's, or next year's when the
    month is over ('januar' in December: next January)."""
    year = today.year + (1 if month < today.month else 0)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


@exporter("evening_sessions_created")
async def export_created_sessions(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The parent evenings the user created for a school (the school's when the user goes)."""
    sessions = await rows_linked_to(db, EveningSession.created_by, user_id)
    return [
        {
            "id": s.id,
            "school": s.school.name,
            "title": s.title,
            "starts_at": s.starts_at.isoformat(),
            "status": s.status,
            "created_at": s.created_at.isoformat(),
        }
        for s in sessions
    ]


@exporter("parent_evenings")
async def export_registrations(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The user's registrations and waiting-list entries."""
    stmt = select(Registration).where(Registration.user_id == user_id)
    return [
        {
            "session": r.session.title,
            "school": r.session.school.name,
            "starts_at": r.session.starts_at.isoformat(),
            "status": r.status,
            "registered_at": r.created_at.isoformat(),
        }
        for r in await db.scalars(stmt)
    ]
