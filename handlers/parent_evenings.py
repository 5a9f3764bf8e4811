"""Parent evenings for parents: list sessions, register (link + .ics + reminders), give back.

```mermaid
stateDiagram-v2
    [*] --> list: list_parent_evenings, /evenings [school]
    list --> registered: "N Register" (a place is free)
    list --> full: "N Register" (no place left)
    full --> waiting: Waiting list
    waiting --> registered: a place frees up (told with link + .ics)
    [*] --> registered: join_parent_evening (one match)
    [*] --> list: join_parent_evening (several matches, or one only guessed: which?)
    [*] --> creating: "elternabend erstellen" (school staff: /newevening; others: a hint)
    registered --> [*]: cancel_parent_evening, /cancel_evening, Give back
    waiting --> [*]: Give back
    registered --> reminded: 24 h / 1 h before (evenings.reminders)
```
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import format_date, format_datetime
from rapidfuzz import fuzz, process

from bot import listing
from bot.config import REMINDER_OFFSET, Config
from bot.context import Context
from bot.i18n import Translate
from bot.listing import Item
from bot.messages import Button, Reply
from bot.notify import cancel_reminders, notify, remind
from bot.registry import button, command, intent, menu_entry, payload, split_payload
from bot.scheduler import recurring, runtime
from handlers import bigbluebutton as bbb
from handlers.evenings_ics import calendar_file
from nlu.normalize import tokenize
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.parent_evenings import EveningSession, Registration
from storage.privacy import eraser
from storage.users import User

logger = logging.getLogger(__name__)
WEEK_WORDS = re.compile(r"\b(woche|week)\b", re.IGNORECASE)
WEEKEND_WORDS = re.compile(r"\b(wochenende|weekend)\b", re.IGNORECASE)  # Saturday and Sunday
# a kind of school, not one school: "grundschule", "Gymnasien", "primary schools"
SCHOOL_KIND = re.compile(
    r"\b(?:(grundschul|gymnasi|realschul|gesamtschul)\w*|(primary|grammar|comprehensive)"
    r"\s+schools?)\b",
    re.IGNORECASE,
)
KIND_OF_STEM = {"grundschul": "grundschule", "gymnasi": "gymnasium", "realschul": "realschule",
                "gesamtschul": "gesamtschule", "primary": "grundschule", "grammar": "gymnasium",
                "comprehensive": "gesamtschule"}
ARTICLES = re.compile(r"^(?:(?:alle|die|der|den|an|all|the|at)\s+)*", re.IGNORECASE)
# a request to create a session, not to join or list one ("elternabend für die 9a erstellen",
# "lege einen elternabend an", "set up a parent evening"): school staff's /newevening
# a bare "neuer elternabend" / "new parent evening": for school staff a request to create one
NEW_ONE = re.compile(
    r"\W*(?:(?:einen|ein)\s+)?neue[rnms]?\s+elternabend\w*\W*|\W*(?:a\s+)?new\s+parent"
    r"\s+evening\W*",
    re.IGNORECASE,
)
STAFF = "school_staff"
CREATE_WORDS = re.compile(
    r"\b(?:erstell\w*|anleg\w*|anzuleg\w*|einricht\w*|einzuricht\w*|abend\w*\s+plan(?:e|en)|"
    r"organisier\w*|veranstalten|ansetz\w*|anzusetz\w*|hinzufüg\w*|"
    r"create[sd]?|creating|set(?:ting)?\s+up|setup|organi[sz](?:e|es|ed|ing)|arrang\w*|"
    r"(?:schedul(?:e|ing)|plan(?:ning)?|add|host)\s+(?:a|an|new|another|one|our|parent))\b"
    r"|\b(?:leg|richt|setz)e?\b.*\b(?:an|ein)\s*[.!?]*$",
    re.IGNORECASE,
)
# a month without a day ("elternabende im januar"): the time parser has no entity for it
MONTH_NAMES = (
    ("januar", "jänner", "january"), ("februar", "february"), ("märz", "maerz", "march"),
    ("april",), ("mai", "may"), ("juni", "june"), ("juli", "july"), ("august",),
    ("september",), ("oktober", "october"), ("november",), ("dezember", "december"),
)
MONTH = re.compile(
    r"\b(?:(im|in|for|during|of|next|this|nächsten|kommenden|diesen)\s+)?("
    + "|".join(name for names in MONTH_NAMES for name in names) + r")\b",
    re.IGNORECASE,
)
MONTH_ONLY_AFTER_A_WORD = {"may", "march"}  # "may I …", "march": a month only after "in"
LEAVING = "waiting"  # the give-back button's argument when it leaves a waiting list
LIST_MEMORY = timedelta(minutes=30)  # how long "the list I just saw" keeps its filter
ROOM_LEAD = timedelta(minutes=15)
SATURDAY = 5  # date.weekday()
NEXT_AFTER_EMPTY = 3  # sessions shown after a day or week that has none
CLASS_NAME = re.compile(r"\d{1,2}[a-z]?|ef|q[12]")  # a class or grade once normalised:
# "4b", "7", and the Oberstufe's "ef", "q1", "q2"
DATE_PATTERN = {"de": "EEE dd.MM. HH:mm", "en": "EEE d MMM, HH:mm"}
YEAR_PATTERN = {"de": "EEE dd.MM.yyyy HH:mm", "en": "EEE d MMM yyyy, HH:mm"}  # another year
DAY_PATTERN = {"de": "EEE dd.MM.", "en": "EEE d MMM"}
# "und nächste woche?", "what about tomorrow?": the list just shown, for another time
FOLLOW_UP = re.compile(r"^\s*(?:und|and|what\s+about|how\s+about|was\s+ist\s+mit)\b",
                       re.IGNORECASE)
# words of a title that name no session of their own ("Elternabend Klasse 4")
GENERIC_TITLE_WORDS = frozenset({"elternabend", "elternabende", "elternabends", "klasse",
                                 "klassen", "parent", "parents", "evening", "evenings",
                                 "class", "classes", "schule", "school", "termin"})


# ---------------------------------------------------------------- shared helpers


def when(t: Translate, moment: datetime, config: Config) -> str:
    """A time in the city zone, short, in the reader's language ('Do 10.12. 19:00'); with the
    year when it is not this year's ('Mo 11.01.2027 19:00')."""
    language = t("locale")
    local = moment.astimezone(config.city.tz)
    this_year = utcnow().astimezone(config.city.tz).year
    patterns = DATE_PATTERN if local.year == this_year else YEAR_PATTERN
    return format_datetime(local, patterns.get(language, patterns["de"]), locale=language)


def classes_text(t: Translate, session: EveningSession) -> str:
    """'5a, 5b' or 'whole school'."""
    return ", ".join(session.classes) if session.classes else t("evenings.whole_school")


def session_line(t: Translate, session: EveningSession, config: Config) -> str:
    """One session in two lines: time · school · classes; title and free places."""
    if session.free:
        places = t("evenings.free", count=session.free, capacity=session.capacity)
    else:
        places = t("evenings.full_short")
    return (
        f"{when(t, session.starts_at, config)} · {session.school.name} · "
        f"{classes_text(t, session)}\n{session.title} – {places}"
    )


def reminder_offsets(config: Config) -> list[timedelta]:
    """The configured reminder offsets ('24h', '1h', '30m', '2d') as timedeltas."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    offsets = []
    for item in config.evenings.reminders:
        match = REMINDER_OFFSET.match(item.strip())
        if match:
            offsets.append(timedelta(**{units[match.group(2)]: int(match.group(1))}))
    return offsets


def parent_name(user: User | None, registration: Registration) -> str:
    """The name a parent shows in the video room."""
    if user is not None and user.display_name:
        return user.display_name
    return f"Elternteil {registration.id}"


def join_link(config: Config, session: EveningSession, registration: Registration,
              user: User | None) -> str:
    """The parent's link: a personal BigBlueButton join URL, or the session's fixed room."""
    server = config.evenings.bigbluebutton
    if server is not None:
        return bbb.join_url(
            server, session.id, parent_name(user, registration), user_id=f"r{registration.id}"
        )
    return session.room_url or ""


async def ensure_room(config: Config, session: EveningSession) -> None:
    """Create the BigBlueButton meeting if a server is configured (best effort, idempotent)."""
    server = config.evenings.bigbluebutton
    if server is None:
        return
    try:
        await bbb.create_meeting(server, session.id, session.title, session.duration_minutes)
    except bbb.BigBlueButtonError as error:
        logger.warning("bbb create failed session=%d error=%s", session.id, error)


async def schedule_reminders(db: Any, config: Config, registration: Registration,
                             link: str) -> int:
    """Reminders before the session (none for a time already past); returns how many."""
    session, now = registration.session, utcnow()
    count = 0
    for offset in reminder_offsets(config):
        due = session.starts_at - offset
        if due <= now or registration.user_id is None:
            continue
        await remind(
            db,
            registration.user_id,
            due,
            "evenings.reminder",
            {
                "title": session.title,
                "school": session.school.name,
                "starts_at": session.starts_at.isoformat(),
                "link": link,
            },
            valid_until=session.starts_at,
            ref=reminder_ref(registration.id),
        )
        count += 1
    return count


def reminder_ref(registration_id: int) -> str:
    """The ref of a registration's reminders."""
    return f"evening-reg:{registration_id}"


def confirmation(t: Translate, config: Config, registration: Registration, link: str,
                 key: str = "evenings.registered") -> Reply:
    """The registration answer: time, link, the .ics file and a give-back button."""
    session = registration.session
    text = t(
        key,
        title=session.title,
        school=session.school.name,
        when=when(t, session.starts_at, config),
        link=link or t("evenings.link_follows"),
    )
    ics = calendar_file(
        session,
        registration.id,
        link,
        config.city.tz,
        description=t("evenings.ics_description", school=session.school.name),
        alarm_text=t("evenings.ics_alarm", title=session.title),
        name=t("evenings.ics_name"),
    )
    return Reply(
        text, [Button(t("evenings.btn_give_back"), payload("ev.give", registration.id))], file=ics
    )


async def tell_promoted(ctx_db: Any, config: Config, promoted: list[Registration]) -> int:
    """Tell parents who got a place from the waiting list (link, .ics) and set reminders;
    returns how many were told."""
    told = 0
    for registration in promoted:
        if registration.user_id is None:
            continue
        user = await ctx_db.get(User, registration.user_id)
        link = join_link(config, registration.session, registration, user)
        await schedule_reminders(ctx_db, config, registration, link)
        told += await notify(
            ctx_db,
            registration.user_id,
            lambda t, r=registration, link=link: [
                confirmation(t, config, r, link, "evenings.promoted")
            ],
            dedup_key=f"evening-promoted:{registration.id}",
        )
    return told


def school_from_text(text: str, schools: list[pe.School]) -> pe.School | None:
    """The school a free text names (name, alias or key, fuzzy)."""
    forms = {}
    for school in schools:
        for form in (school.key, school.name, *school.aliases):
            forms[form.casefold()] = school
    best = process.extractOne(
        text.casefold().strip(), list(forms), scorer=fuzz.WRatio, score_cutoff=80
    )
    return forms[best[0]] if best else None


def school_kind(text: str, *, whole: bool = False) -> str | None:
    """The kind of school a text names ('grundschule' for 'Grundschulen' or 'primary schools');
    whole: only when that is all it says ('/evenings grundschule', not 'Grundschule am Park')."""
    if whole:
        found = SCHOOL_KIND.fullmatch(ARTICLES.sub("", text.strip()))
    else:
        found = SCHOOL_KIND.search(text)
    if found is None:
        return None
    return KIND_OF_STEM[(found.group(1) or found.group(2)).casefold()]


def schools_of_kind(schools: list[pe.School], kind: str) -> list[pe.School]:
    """The schools whose name (or an alias) says they are of that kind."""
    return [s for s in schools
            if any(kind in form.casefold() for form in (s.name, *s.aliases))]


def schools_named(text: str, schools: list[pe.School]) -> list[pe.School] | None:
    """The schools a typed name means: all of a kind ('grundschule'; [] when the city has
    none), or the one school it names; None when it names no school."""
    kind = school_kind(text, whole=True)
    if kind is not None:
        return schools_of_kind(schools, kind)
    school = school_from_text(text, schools)
    return [school] if school else None


def title_words(title: str) -> set[str]:
    """The words of a session's title that tell it apart ('einschulung' of 'Elternabend
    Einschulung'): five letters or more, not 'Elternabend', 'Klasse' …"""
    return {t.norm for t in tokenize(title)
            if len(t.norm) >= 5 and t.norm not in GENERIC_TITLE_WORDS}


def title_score(text: str, title: str) -> int:
    """How many of a title's title_words a text says ('… zum informationsabend oberstufe
    anmelden': 2, '/evenings einschulung': 1)."""
    said = [t.norm for t in tokenize(text)]
    return sum(any(w.startswith(word) for w in said) for word in title_words(title))


def part_of_title(text: str, title: str) -> bool:
    """Whether a typed text (3 letters or more) is part of the title ('/cancel_evening
    einschulung')."""
    words = text.casefold().strip()
    return len(words) >= 3 and words in title.casefold()


async def titled_sessions(ctx: Context, text: str, query: pe.SessionQuery,
                          ) -> list[EveningSession]:
    """The upcoming sessions of the query whose title the text names best ([] if none)."""
    found = await pe.upcoming(ctx.db, query, utcnow())
    scores = {s.id: title_score(text, s.title) for s in found}
    best = max(scores.values(), default=0)
    return [s for s in found if best and scores[s.id] == best]


def month_of(text: str) -> int | None:
    """The month a text names without a day ('im januar', 'in March'), 1–12, or None."""
    for found in MONTH.finditer(text):
        name = found.group(2).casefold()
        if name in MONTH_ONLY_AFTER_A_WORD and not found.group(1):
            continue
        return next(number for number, names in enumerate(MONTH_NAMES, 1) if name in names)
    return None


def time_window(ctx: Context) -> tuple[datetime | None, datetime | None]:
    """The time entity as a window: a day, or a week when the text speaks of a week (the
    time parser gives its Monday: "übernächste woche" is the Monday two weeks ahead), or a
    month named without a day ('im januar')."""
    tz = ctx.config.city.tz
    today = utcnow().astimezone(tz).date()
    value = ctx.entity("time")
    month = month_of(ctx.incoming.text)
    if month is not None and not (value and re.search(r"\d", ctx.incoming.text)):
        return pe.month_range(month, tz, today)  # "im januar"; "am 15. januar" is a day
    if not value:
        return None, None
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None, None
    days = 7 if WEEK_WORDS.search(ctx.incoming.text) else 1
    if WEEKEND_WORDS.search(ctx.incoming.text) and day.weekday() == SATURDAY:
        days = 2  # "am wochenende": the parser gives its Saturday, the Sunday belongs to it
    return pe.day_range(day, tz, days)


async def query_from_message(ctx: Context) -> pe.SessionQuery:
    """The filters of the message: school (or kind of school), class, time."""
    query = pe.SessionQuery(school_class=ctx.entity("school_class"))
    key = ctx.entity("school")
    district = ctx.entity("location", any_intent=True)
    kind = school_kind(ctx.incoming.text)  # "elternabende der realschule": all Realschulen
    if key:
        school = await pe.school_by_key(ctx.db, key)
        query.school_ids = [school.id] if school else []
    elif district or kind:  # "elternabende in hörde": the schools of that district (and kind)
        schools = await pe.all_schools(ctx.db)
        if kind:
            schools = schools_of_kind(schools, kind)
        query.school_ids = [s.id for s in schools if not district or s.district == district]
    query.start, query.end = time_window(ctx)
    return query


def session_list(ctx: Context, sessions: list[EveningSession], intro: str,
                 total: int | None = None, mine: dict[int, Registration] | None = None) -> Reply:
    """Sessions as one message: numbered items and one keyboard ('1 Register', ...).

    mine: the reader's registrations by session: such a session says so and offers its
    calendar file (registered) or nothing (on the waiting list) instead of registering.
    """
    items = []
    for session in sessions:
        line = session_line(ctx.t, session, ctx.config)
        registration = (mine or {}).get(session.id)
        if registration is None:
            action = "evenings.button_register" if session.free else "evenings.button_waiting"
            actions = [Button(ctx.t(action), payload("ev.reg", session.id, session.sequence))]
        elif registration.status == pe.REGISTERED:
            line += " · " + ctx.t("evenings.you_are_registered")
            actions = [Button(ctx.t("evenings.button_calendar"),
                              payload("ev.ics", registration.id))]
        else:
            line += " · " + ctx.t("evenings.you_are_waiting")
            actions = []
        items.append(Item(line, actions))
    more = ""
    if total is not None and total > len(sessions):
        more = ctx.t("evenings.more", shown=len(sessions), total=total)
    return listing.page(intro, items, footer=more)


# ---------------------------------------------------------------- listing


async def _list(ctx: Context, query: pe.SessionQuery) -> list[Reply]:
    found = await pe.upcoming(ctx.db, query, utcnow())
    if not found and query.school_class and not await pe.class_exists(ctx.db,
                                                                      query.school_class):
        return [Reply(ctx.t("evenings.unknown_class", cls=query.school_class))]
    if not found and query.end is not None:  # none that day, week or month: the next ones
        later_query = await _after_window(ctx, query)
        if later_query is not None:
            later = await pe.upcoming(ctx.db, later_query, utcnow(), limit=NEXT_AFTER_EMPTY)
            remember_list(ctx, later_query)
            return [session_list(ctx, later, _empty_window(ctx, query), len(later),
                                 await _mine(ctx))]
    if not found:
        filtered = bool(query.school_ids is not None or query.school_class or query.start)
        return [Reply(ctx.t("evenings.none_filtered" if filtered else "evenings.none"))]
    remember_list(ctx, query)
    shown = found[: ctx.config.evenings.list_size]
    intro = ctx.t("evenings.list", count=len(found))
    return [session_list(ctx, shown, intro, len(found), await _mine(ctx))]


def _is_month(query: pe.SessionQuery) -> bool:
    """Whether the query's window is a month (longer than a week)."""
    assert query.start is not None and query.end is not None
    return query.end - query.start > timedelta(days=7)


async def _after_window(ctx: Context, query: pe.SessionQuery) -> pe.SessionQuery | None:
    """The query of the sessions to show when a window has none: those after it, or (a month
    with none after it) the next ones from now; None when there are none."""
    candidates = [replace(query, start=query.end, end=None)]
    if _is_month(query):
        candidates.append(replace(query, start=None, end=None))
    for candidate in candidates:
        if await pe.upcoming(ctx.db, candidate, utcnow(), limit=1):
            return candidate
    return None


def _empty_window(ctx: Context, query: pe.SessionQuery) -> str:
    """'Am Di. 08.12. habe ich keinen Elternabend gefunden – die nächsten danach:' (or the week
    from its Monday, or 'Im Januar 2027 …')."""
    assert query.start is not None and query.end is not None
    start = query.start.astimezone(ctx.config.city.tz)
    language = ctx.t("locale")
    if _is_month(query):
        month = format_date(start, "LLLL yyyy", locale=language)
        return ctx.t("evenings.none_month_then_next", month=month)
    day = format_date(start, DAY_PATTERN.get(language, DAY_PATTERN["de"]), locale=language)
    span = query.end - query.start
    key = ("evenings.none_week_then_next" if span > timedelta(days=2)
           else "evenings.none_weekend_then_next" if span > timedelta(days=1)
           else "evenings.none_day_then_next")
    return ctx.t(key, day=day)


def remember_list(ctx: Context, query: pe.SessionQuery) -> None:
    """Keep the filter of the list the user is shown: 'register me' without naming a session
    then chooses from that list, not from every school's."""
    ctx.state["evening_list"] = {
        "at": utcnow().isoformat(),
        "school_ids": query.school_ids,
        "school_class": query.school_class,
        "start": query.start.isoformat() if query.start else None,
        "end": query.end.isoformat() if query.end else None,
    }


def remembered_list(ctx: Context) -> pe.SessionQuery | None:
    """The filter of the list shown within the last half hour, if any."""
    kept = ctx.state.get("evening_list")
    if not kept or utcnow() - datetime.fromisoformat(kept["at"]) > LIST_MEMORY:
        return None
    return pe.SessionQuery(
        school_ids=kept["school_ids"],
        school_class=kept["school_class"],
        start=datetime.fromisoformat(kept["start"]) if kept["start"] else None,
        end=datetime.fromisoformat(kept["end"]) if kept["end"] else None,
    )


def _list_follow_up(ctx: Context) -> pe.SessionQuery | None:
    """The list shown last, for the time a follow-up names ("und nächste woche?" after
    "welche elternabende gibt es diese woche"); None when the message is no such follow-up."""
    kept = remembered_list(ctx)
    if kept is None or not FOLLOW_UP.match(ctx.incoming.text) or not ctx.entity("time"):
        return None
    start, end = time_window(ctx)
    return replace(kept, start=start, end=end)


async def _mine(ctx: Context) -> dict[int, Registration]:
    """The reader's registrations and waiting-list entries, by session."""
    return {r.session_id: r for r in await pe.registrations_of(ctx.db, ctx.user.id, utcnow())}


async def create_request(ctx: Context) -> list[Reply]:
    """A request to create a session: school staff get the /newevening form, others a hint
    that creating is for school staff."""
    from handlers.evenings_staff import create_from_message  # it imports this module

    return await create_from_message(ctx)


@intent("list_parent_evenings", follow_ups=True)
async def list_parent_evenings(ctx: Context) -> list[Reply]:
    """Upcoming sessions, filtered by the school, class and time the message names (a request
    to create one: /newevening)."""
    text = ctx.incoming.text
    if CREATE_WORDS.search(text) or (NEW_ONE.fullmatch(text) and ctx.has_role(STAFF)):
        return await create_request(ctx)  # staff's bare "neuer elternabend": the form
    return await _list(ctx, await query_from_message(ctx))


@button("ev.list")
@command("evenings", help_key="help.cmd.evenings")
async def evenings_command(ctx: Context, args: str = "") -> list[Reply]:
    """/evenings [school or class]: upcoming sessions, of one school or class if named."""
    query = pe.SessionQuery()
    if args.strip():
        wanted = pe.normalise_class(args)
        if CLASS_NAME.fullmatch(wanted):  # "/evenings 4b", "Klasse 7", "Q1"
            if not await pe.class_exists(ctx.db, wanted):
                named = pe.CLASS_PREFIX.sub("", args.strip())  # "Klasse 99": "99"
                return [Reply(ctx.t("evenings.unknown_class", cls=named))]
            query.school_class = wanted
        else:  # a school, or a kind of school ("/evenings grundschule": all Grundschulen)
            schools = schools_named(args, await pe.all_schools(ctx.db))
            titled = [] if schools else await titled_sessions(ctx, args, query)
            if schools is None and not titled:
                return [Reply(ctx.t("evenings.unknown_school", name=args.strip()))]
            if titled:  # "/evenings einschulung": the sessions of that title
                query.session_ids = [s.id for s in titled]
            else:
                query.school_ids = [s.id for s in schools or []]
    return await _list(ctx, query)


# ---------------------------------------------------------------- registering


async def _register(ctx: Context, session: EveningSession) -> list[Reply]:
    outcome = await pe.register(ctx.db, session, ctx.user.id, utcnow())
    if outcome.status == "closed":
        return [Reply(ctx.t("evenings.closed"))]
    if outcome.status == "full":
        return [
            Reply(
                ctx.t("evenings.full", title=session.title),
                [Button(ctx.t("evenings.btn_waiting_list"), payload("ev.wait", session.id,
                                                                session.sequence))],
            )
        ]
    registration = outcome.registration
    assert registration is not None
    if outcome.status == "already_waiting":
        return await _waiting_answer(ctx, session, registration, "evenings.already_waiting")
    link = join_link(ctx.config, session, registration, ctx.user)
    if outcome.status == "already_registered":
        return [confirmation(ctx.t, ctx.config, registration, link, "evenings.already")]
    await ensure_room(ctx.config, session)
    await schedule_reminders(ctx.db, ctx.config, registration, link)
    return [confirmation(ctx.t, ctx.config, registration, link)]


async def _current(ctx: Context, session_id: int, sequence: int) -> EveningSession | list[Reply]:
    """The session if the button still describes it, else the answer for a stale button."""
    session = await pe.get_session(ctx.db, session_id)
    if session is not None and session.status == pe.CANCELLED:
        return [cancelled_answer(ctx, session)]
    if session is None or session.status != pe.SCHEDULED:
        return [Reply(ctx.t("evenings.gone"))]
    if session.sequence != sequence:
        return [session_list(ctx, [session], ctx.t("evenings.changed"))]
    return session


@button("ev.reg", private=True)
async def register_button(ctx: Context, session_id: int, sequence: int) -> list[Reply]:
    """Take a place in the session (or offer the waiting list when it is full)."""
    session = await _current(ctx, session_id, sequence)
    if isinstance(session, list):
        return session
    return await _register(ctx, session)


@button("ev.wait", private=True)
async def waiting_button(ctx: Context, session_id: int, sequence: int) -> list[Reply]:
    """Go on the waiting list of a full session."""
    session = await _current(ctx, session_id, sequence)
    if isinstance(session, list):
        return session
    outcome = await pe.join_waiting_list(ctx.db, session, ctx.user.id, utcnow())
    if outcome.status in (pe.REGISTERED, "already_registered"):
        return await _register(ctx, session)
    if outcome.status == "closed":
        return [Reply(ctx.t("evenings.closed"))]
    assert outcome.registration is not None
    key = "evenings.waiting" if outcome.status == pe.WAITING else "evenings.already_waiting"
    return await _waiting_answer(ctx, session, outcome.registration, key)


async def _waiting_answer(ctx: Context, session: EveningSession, registration: Registration,
                          key: str) -> list[Reply]:
    waiting = await pe.registrations_for(ctx.db, session.id, pe.WAITING)
    position = next((i for i, r in enumerate(waiting, 1) if r.id == registration.id), 1)
    return [
        Reply(
            ctx.t(key, title=session.title, position=position),
            [Button(ctx.t("evenings.btn_leave_waiting"), give_back_payload(registration))],
        )
    ]


def names_a_session(ctx: Context, query: pe.SessionQuery) -> bool:
    """Whether the message itself names the session by school, class, day or district – not
    only by a kind of school or a place the NLU merely guessed."""
    return bool(ctx.entity("school") or query.school_class or query.start
                or ctx.entity("location"))


TYPED_ITEM = re.compile(r"\s*(\d{1,3})\s+[^\W\d_].*")  # "7 anmelden", "7 register me"


def typed_item(ctx: Context) -> tuple[int, int] | None:
    """The session and version of the list item a message names by its number ('7 anmelden'
    under the list just shown, whose item 7 offers 'Warteliste' as it is full); else None."""
    said = TYPED_ITEM.fullmatch(ctx.incoming.text)
    if said is None:
        return None
    shown = listing.stored_buttons(ctx.state.get("buttons"))
    item = listing.item_button(shown, int(said.group(1)))
    if item is None:
        return None
    action, args = split_payload(item.payload)
    return (int(args[0]), int(args[1])) if action == "ev.reg" else None


@intent("join_parent_evening", private=True)
async def join_parent_evening(ctx: Context) -> list[Reply]:
    """Register for the session the message names; several fit, or one only guessed: ask
    which (from the list just shown when the message names none); a request to create one:
    /newevening, never a registration."""
    if CREATE_WORDS.search(ctx.incoming.text):
        return await create_request(ctx)
    item = typed_item(ctx)
    if item is not None:  # "7 anmelden" under a list: as item 7's button, full or not
        return await register_button(ctx, *item)
    query = await query_from_message(ctx)
    named = names_a_session(ctx, query)
    found = await titled_sessions(ctx, ctx.incoming.text, query)
    if found:  # "melde mich für den elternabend der einschulung an"
        named = True
    elif not named and query.school_ids is None:
        query = remembered_list(ctx) or query
    found = found or await pe.upcoming(ctx.db, query, utcnow())
    if not found:
        return [Reply(ctx.t("evenings.no_match"), [Button(ctx.t("evenings.btn_all_evenings"),
                                                          "ev.list")])]
    if query.school_class:  # a class named: sessions for that class before whole-school ones
        found = [s for s in found if s.classes] or found
    if len(found) == 1 and named:
        return await _register(ctx, found[0])
    shown = found[: ctx.config.evenings.list_size]
    intro = ctx.t("evenings.which_one" if len(found) == 1 else "evenings.which")
    return [session_list(ctx, shown, intro, len(found), await _mine(ctx))]


# ---------------------------------------------------------------- giving back


def cancelled_answer(ctx: Context, session: EveningSession) -> Reply:
    """The answer to a button of a session the school has called off: nothing changes."""
    return Reply(ctx.t("evenings.session_cancelled", title=session.title,
                       when=when(ctx.t, session.starts_at, ctx.config)))


def give_back_payload(registration: Registration) -> str:
    """The payload of a registration's give-back button as it is now: a waiting-list entry's
    says so ('ev.give:7:waiting'), so that the button, pressed after the entry has become a
    place, leaves that place alone."""
    if registration.status == pe.WAITING:
        return payload("ev.give", registration.id, LEAVING)
    return payload("ev.give", registration.id)


def moved_up_answer(ctx: Context, registration: Registration) -> Reply:
    """A waiting-list button pressed after the entry became a place: that it is a place now,
    and the give-back button of its own."""
    session = registration.session
    text = ctx.t("evenings.no_longer_waiting", title=session.title,
                 when=when(ctx.t, session.starts_at, ctx.config))
    return Reply(text, [Button(ctx.t("evenings.btn_give_back"),
                               give_back_payload(registration))])


async def _give_back(ctx: Context, registration: Registration) -> list[Reply]:
    session = registration.session
    if session.status == pe.CANCELLED:  # an old button: the place has lapsed with the session
        return [cancelled_answer(ctx, session)]
    await cancel_reminders(ctx.db, reminder_ref(registration.id))
    was_waiting = registration.status == pe.WAITING
    promoted = await pe.give_back(ctx.db, registration)
    await tell_promoted(ctx.db, ctx.config, promoted)
    key = "evenings.left_waiting" if was_waiting else "evenings.given_back"
    return [Reply(ctx.t(key, title=session.title, when=when(ctx.t, session.starts_at,
                                                                ctx.config)))]


@button("ev.give", private=True, by_number=False)
async def give_back_button(ctx: Context, registration_id: int, meant: str = "") -> list[Reply]:
    """Give one of my places back, or leave a waiting list (meant='waiting'); a waiting-list
    entry that has meanwhile become a place is kept, and its own give-back button offered."""
    registration = await pe.get_registration(ctx.db, registration_id)
    if registration is None or registration.user_id != ctx.user.id:
        return [Reply(ctx.t("evenings.not_registered"))]
    moved_up = registration.status == pe.REGISTERED and registration.session.status == pe.SCHEDULED
    if meant == LEAVING and moved_up:
        return [moved_up_answer(ctx, registration)]
    return await _give_back(ctx, registration)


async def _named_by_text(ctx: Context, mine: list[Registration],
                         text: str) -> list[Registration]:
    """My registrations a text names: a class ('4b', 'Q1'), a school (or kind of school) or
    words of the title."""
    wanted = pe.normalise_class(text)
    if CLASS_NAME.fullmatch(wanted):
        return [r for r in mine if await pe.for_class(ctx.db, r.session, wanted)]
    school_ids = {s.id for s in schools_named(text, await pe.all_schools(ctx.db)) or []}
    return [r for r in mine
            if r.session.school_id in school_ids or part_of_title(text, r.session.title)]


async def _named(ctx: Context, mine: list[Registration],
                 args: str) -> tuple[str | None, list[Registration]]:
    """What the message names (the command's text, or the school and class it mentions) and
    my registrations that fit it; (None, mine) when it names nothing."""
    if args.strip():
        return args.strip(), await _named_by_text(ctx, mine, args)
    key, school_class = ctx.entity("school"), ctx.entity("school_class")
    names = []
    if key:
        school = await pe.school_by_key(ctx.db, key)
        names.append(school.name if school else str(key))
        mine = [r for r in mine if r.session.school.key == key]
    if school_class:
        names.append(str(school_class))
        mine = [r for r in mine if await pe.for_class(ctx.db, r.session, school_class)]
    return (" ".join(names) or None), mine


@intent("cancel_parent_evening", private=True)
@command("cancel_evening", help_key="help.cmd.cancel_evening", private=True)
async def cancel_parent_evening(ctx: Context, args: str = "") -> list[Reply]:
    """Give a place back (/cancel_evening [school, class or title]); with several ask which,
    with a name that fits none of mine say so and change nothing."""
    name, mine = await _named(ctx, await pe.registrations_of(ctx.db, ctx.user.id, utcnow()),
                              args)
    if not mine and name is not None:
        return [Reply(ctx.t("evenings.not_registered_for", name=name))]
    if not mine:
        return [Reply(ctx.t("evenings.not_registered"))]
    if len(mine) == 1:
        return await _give_back(ctx, mine[0])
    items = [
        Item(
            session_line(ctx.t, registration.session, ctx.config),
            [Button(ctx.t(_give_back_label(registration)), give_back_payload(registration))],
        )
        for registration in mine
    ]
    return [listing.page(ctx.t("evenings.which_give_back"), items)]


def _give_back_label(registration: Registration) -> str:
    """The list button's label key: leave the waiting list, or give the place back."""
    if registration.status == pe.WAITING:
        return "evenings.button_leave_waiting"
    return "evenings.button_give_back"


# ---------------------------------------------------------------- my appointments


@intent("my_appointments", private=True)
@command("appointments", help_key="help.cmd.appointments", private=True)
async def my_appointments(ctx: Context, _args: str = "") -> list[Reply]:
    """My registrations with their links (and waiting-list entries), one message ("und
    nächste woche?" after a list of sessions: that list for next week)."""
    if (follow_up := _list_follow_up(ctx)) is not None:
        return await _list(ctx, follow_up)
    mine = await pe.registrations_of(ctx.db, ctx.user.id, utcnow())
    if not mine:
        return [Reply(ctx.t("evenings.no_appointments"), [Button(ctx.t("evenings.btn_all_evenings"),
                                                                 "ev.list")])]
    items = []
    for registration in mine:
        session = registration.session
        head = f"{when(ctx.t, session.starts_at, ctx.config)} · {session.school.name}"
        actions = []
        if registration.status == pe.WAITING:
            detail = ctx.t("evenings.on_waiting_list")
        else:
            link = join_link(ctx.config, session, registration, ctx.user)
            detail = link or ctx.t("evenings.link_follows")
            actions.append(
                Button(ctx.t("evenings.button_calendar"), payload("ev.ics", registration.id))
            )
        actions.append(Button(ctx.t(_give_back_label(registration)),
                              give_back_payload(registration)))
        items.append(Item(f"{head}\n{session.title}\n{detail}", actions))
    return [listing.page(ctx.t("evenings.appointments", count=len(mine)), items)]


@button("ev.ics", private=True)
async def calendar_button(ctx: Context, registration_id: int) -> list[Reply]:
    """The calendar file of one of my registrations again."""
    registration = await pe.get_registration(ctx.db, registration_id)
    if registration is None or registration.user_id != ctx.user.id:
        return [Reply(ctx.t("evenings.not_registered"))]
    if registration.session.status == pe.CANCELLED:
        return [cancelled_answer(ctx, registration.session)]
    if registration.status != pe.REGISTERED or registration.session.status != pe.SCHEDULED:
        return [Reply(ctx.t("evenings.not_registered"))]
    link = join_link(ctx.config, registration.session, registration, ctx.user)
    return [confirmation(ctx.t, ctx.config, registration, link, "evenings.calendar_again")]


@eraser("parent_evenings")
async def free_places_of(db: Any, user_id: int) -> None:
    """Before a user is erased: their places go back (and to the waiting list)."""
    for registration in await pe.registrations_for_user(db, user_id):
        promoted = await pe.give_back(db, registration)
        await tell_promoted(db, runtime_config(db), promoted)


def runtime_config(_db: Any) -> Config:
    """The running app's config (the defaults outside a running app)."""
    try:
        return runtime().config
    except RuntimeError:
        return Config()


@recurring("evenings_open_rooms", lambda c: IntervalTrigger(minutes=1))
async def open_rooms() -> int:
    """Create the BigBlueButton meetings of sessions starting within 15 minutes (idempotent)."""
    app = runtime()
    if app.config.evenings.bigbluebutton is None:
        return 0
    now = utcnow()
    async with app.sessions() as db:
        soon = await pe.upcoming(db, pe.SessionQuery(end=now + ROOM_LEAD), now)
    for session in soon:
        await ensure_room(app.config, session)
    return len(soon)


menu_entry("menu.evenings", "ev.list", order=40)
