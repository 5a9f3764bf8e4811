"""Parent evenings for school staff: create, edit, move, cancel sessions; attendees; messages.

```mermaid
stateDiagram-v2
    [*] --> creating: /newevening, "elternabend für die 9a erstellen" (school_staff)
    creating --> published: (school), title, classes, start, duration, capacity, room, confirm
    [*] --> sessions: /schoolevenings
    sessions --> manage: "N Manage"
    manage --> attendees: Attendees (and waiting list)
    manage --> editing: Edit: field, value (not the one it has), confirm --> parents told
    manage --> moving: Move: new start (not the one it has), confirm --> parents told,
    new .ics (SEQUENCE+1); the waiting list told the new time (a new title too)
    manage --> cancelling: Cancel: confirm --> parents and waiting list told
    manage --> messaging: Message (somebody registered): text, preview, confirm --> outbox
```
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot import listing
from bot.context import Context
from bot.forms import HELD, Choice, Form, Invalid, Slot, form_args, free_text
from bot.i18n import Translate
from bot.listing import Item
from bot.messages import Button, Reply
from bot.notify import broadcast, cancel_reminders, notify
from bot.registry import button, command, org_name, payload
from handlers import bigbluebutton as bbb
from handlers.evenings_ics import calendar_file
from handlers.parent_evenings import (
    DAY_PATTERN,
    classes_text,
    give_back_payload,
    join_link,
    reminder_ref,
    schedule_reminders,
    tell_promoted,
    when,
)
from nlu.normalize import tokenize
from nlu.numbers import german_number_word, number_words
from nlu.timeparse import find_times, impossible_date
from storage import parent_evenings as pe
from storage.base import utcnow
from storage.parent_evenings import EveningError, EveningSession
from storage.users import User

ROLE = "school_staff"
# words after a number that only say what it counts ("fünfzig Plätze", "90 Minuten")
UNIT_WORDS = frozenset({"platz", "plaetze", "places", "seats", "personen", "people", "eltern",
                        "parents", "minuten", "minutes", "min", "mins"})


async def staff_schools(ctx: Context) -> list[pe.School]:
    """The schools the user may manage (admins without a school grant: all)."""
    keys = ctx.orgs(ROLE)
    if not keys and ctx.has_role("admin"):
        return await pe.all_schools(ctx.db)
    return await pe.schools_by_keys(ctx.db, keys)


async def own_session(ctx: Context, session_id: int) -> EveningSession | None:
    """The session if it belongs to one of the user's schools."""
    session = await pe.get_session(ctx.db, session_id)
    if session is None:
        return None
    if session.school.key not in {s.key for s in await staff_schools(ctx)}:
        return None
    return session


def _bbb(ctx: Context) -> bool:
    return ctx.config.evenings.bigbluebutton is not None


def _wrap(parse: Any) -> Any:
    """Turn an EveningError of a storage validator into the form's Invalid."""

    def wrapped(ctx: Context, text: str) -> Any:
        try:
            return parse(ctx, text)
        except EveningError as error:
            raise Invalid(error.key, **error.values) from None

    return wrapped


async def _form_school(ctx: Context) -> pe.School:
    values = ctx.state.get("form", {}).get("values", {})
    schools = await staff_schools(ctx)
    key = values.get("school") or (schools[0].key if schools else "")
    school = next((s for s in schools if s.key == key), None)
    if school is None:
        raise Invalid("evenings.no_school")
    return school


async def _parse_classes(ctx: Context, text: str) -> list[str]:
    school = await _form_school(ctx)
    try:
        return pe.parse_classes(text, school)
    except EveningError as error:
        raise Invalid(error.key, **error.values) from None


def _parse_title(_ctx: Context, text: str) -> str:
    return free_text(200, min_length=3)(_ctx, text)


def start_time(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A session's start: '24.02.2027 19:00', or in words with a clock time ('morgen 19 uhr',
    '18.12. 19:30', 'next thursday 7 pm', 'übermorgen um halb acht', '19 uhr 30', '7 uhr
    abends': clock_in_words), city time; in the future (EveningError if not; with 'clock' for
    a time without its day, 'no_such_day' for '29.02.2027').
    A lead-in is left out: 'auf den 17.12. um 20 uhr', 'verschieb es auf freitag 19 uhr',
    'to 17 December 8pm'."""
    text = dot_clock(clock_in_words(LEAD_IN.sub("", text, count=1)))
    try:
        return pe.parse_start(text, tz, now)
    except EveningError as error:
        if error.key != "evenings.bad_start":
            raise
    no_such_day = impossible_date(text, now.astimezone(tz).date())  # "29.02.2027 19:00"
    if no_such_day is not None:
        raise EveningError("evenings.bad_start", no_such_day=no_such_day)
    found = find_times(text, tokenize(text), tz.key, lambda zone: now.astimezone(zone))
    said = [e for e in found if "T" in e["value"]]  # a day and a clock time, not a day alone
    if _said_in_the_past(text, said):  # "gestern 19 uhr": the parser has no past days
        raise EveningError("evenings.in_past")
    if len(said) == 1 and BARE_CLOCK.fullmatch(text):  # "19.30 Uhr": the time, without its day
        raise EveningError("evenings.bad_start", clock=said[0]["value"][11:16])
    if len(said) != 1 or not _all_of(text, said[0]):
        # "Dec 17, 2026, 7 PM": not tonight at seven; "am 15.12.": the day, without its time
        raise EveningError("evenings.bad_start", **_day_alone(text, found))
    moment = datetime.fromisoformat(said[0]["value"])
    if not _weekday_fits(text, said[0], moment):  # "Fri 17 Dec, 19:00": 17 Dec is a Thursday
        raise EveningError("evenings.bad_start", weekday_of=moment)
    if moment <= now:
        raise EveningError("evenings.in_past")
    return moment.astimezone(now.tzinfo)


LEAD_IN = re.compile(  # "auf den …", "verschieb es auf …", "move it to …": words before a start
    r"^\s*(?:(?:verschieb\w*|verleg\w*|move|reschedule|shift|postpone)\b"
    r"(?:\s+(?:es|ihn|sie|den|die|das|termin|elternabend|bitte|it|the|session|evening|"
    r"meeting|please))*\s+)?(?:auf|to)\b\s*",
    re.IGNORECASE,
)
DAYTIME = re.compile(  # a part of the day said without a clock time: "morgen abend"
    r"\b(?:abends?|morgens|vormittags?|nachmittags?|mittags?|evening|morning|afternoon|"
    r"night|tonight)\b", re.IGNORECASE)
BARE_CLOCK = re.compile(r"\s*(?:um|at)?\s*\d{1,2}(?:[:.]\d{2})?\s*(?:uhr|h|am|pm)?\s*",
                        re.IGNORECASE)  # a time without a day
WEEKDAY_WORDS = (  # a weekday written before the date, as the bot shows one ("Thu 17 Dec")
    ("mo", "mon", "montag", "monday"), ("di", "tue", "tues", "dienstag", "tuesday"),
    ("mi", "wed", "mittwoch", "wednesday"), ("do", "thu", "thur", "thurs", "donnerstag",
    "thursday"), ("fr", "fri", "freitag", "friday"), ("sa", "sat", "samstag", "saturday"),
    ("so", "sun", "sonntag", "sunday"),
)
WEEKDAY = re.compile(r"\b(?:" + "|".join(w for day in WEEKDAY_WORDS for w in day) + r")\b",
                     re.IGNORECASE)
FILLER = re.compile(r"(?:[\W_]|\b(?:am|um|at|on|den|the)\b)*", re.IGNORECASE)
PAST_DAY = re.compile(  # days before today, which the time parser leaves out
    r"\b(?:vorgestern|gestern|yesterday|(?:letzte[nrs]?|vergangene[nrs]?|last)\s+(?:"
    + "|".join(w for day in WEEKDAY_WORDS for w in day if len(w) > 3)
    + r"|woche|week))\b",
    re.IGNORECASE,
)


HOUR_WORDS_DE = ("ein|eins|zwei|drei|vier|fünf|fuenf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
                 "zwoelf")
WORD_CLOCK = re.compile(  # "halb acht", "viertel nach 7", "dreiviertel neun uhr"
    r"\b(?P<part>halb|viertel\s+nach|viertel\s+vor|dreiviertel)\s+"
    r"(?P<hour>\d{1,2}|" + HOUR_WORDS_DE + r")\b(?:\s*uhr\b)?",
    re.IGNORECASE,
)
WORD_CLOCK_MINUTES = {"halb": (-1, 30), "viertel nach": (0, 15), "viertel vor": (-1, 45),
                      "dreiviertel": (-1, 45)}  # (to the hour named, minutes)
UHR_MINUTES = re.compile(  # "19 Uhr 30": 19:30
    r"(?<![\d.:/])(?P<h>[01]?\d|2[0-3])\s*uhr\s+(?P<m>[0-5]\d)(?![\d.:/])", re.IGNORECASE)
NUMBER_CLOCK = re.compile(  # "um 7", "7 uhr", "7.30": a clock time when the text names a daytime
    r"(?P<lead>\b(?:um|gegen|ab|at)\s+)?(?<![\d.:/])(?P<h>[01]?\d|2[0-3])"
    r"(?:[:.](?P<m>[0-5]\d))?(?P<uhr>\s*uhr\b)?(?![\d.:/])",
    re.IGNORECASE,
)
EVENING = re.compile(r"\b(?:abends?|nachmittags?|in\s+the\s+(?:evening|afternoon))\b",
                     re.IGNORECASE)
MORNING = re.compile(r"\b(?:morgens|vormittags?|früh|frueh|in\s+the\s+morning)\b",
                     re.IGNORECASE)


DOT_CLOCK = re.compile(r"(?<![\d.:/])(?P<h>[01]?\d|2[0-3])\.(?P<m>[0-5]\d)(?![\d.:/])")
CLOCK_BEFORE_DAY = re.compile(  # "19:30 am freitag": the clock before its weekday
    r"(?P<clock>\b\d{1,2}:\d{2})\s+(?:am|on)\s+(?=" + WEEKDAY.pattern + ")",
    re.IGNORECASE)
CLOCK_LEAD = re.compile(r"\b(?:um|at|gegen|ab)\s+$", re.IGNORECASE)
NEAR_DAY = re.compile(  # a day named in words, next to which a dot-time is a clock time
    WEEKDAY.pattern + r"|\b(?:heute|morgen|übermorgen|uebermorgen|today|tomorrow)\b",
    re.IGNORECASE)


def dot_clock(text: str) -> str:
    """A clock time written with a dot as one with a colon where it cannot be a date: after
    'um' ('freitag um 19.30'), before 'uhr', or as the only number next to a weekday or
    'morgen' ('19.30 freitag', 'übermorgen 19.30'); '19.12.' stays a date. A clock before
    'am <weekday>' loses the 'am' ('19:30 am freitag' -> '19:30 freitag'), which the time
    parser would read as a.m."""
    only_number = len(re.findall(r"\d+", text)) == 2

    def colon(said: re.Match[str]) -> str:
        before, after = text[: said.start()], text[said.end() :]
        weekday = NEAR_DAY.search(before[-12:] + " " + after[:16]) is not None
        if CLOCK_LEAD.search(before) or re.match(r"\s*uhr\b", after, re.IGNORECASE) or (
                weekday and only_number):
            return f"{said['h']}:{said['m']}"
        return said.group()

    return CLOCK_BEFORE_DAY.sub(r"\g<clock> ", DOT_CLOCK.sub(colon, text))


def clock_in_words(text: str) -> str:
    """A start's clock time said in words as digits for the time parser: 'halb acht' ->
    '19:30' (an evening's, unless the text says 'morgens'), '19 uhr 30' -> '19:30', '7 uhr
    abends' -> '19:00'; the word for the daytime left out once the clock time carries it."""
    evening, morning = EVENING.search(text), MORNING.search(text)
    text = UHR_MINUTES.sub(lambda said: f"{said['h']}:{said['m']}", text)
    text = WORD_CLOCK.sub(lambda said: _word_clock(said, pm=morning is None), text)
    if evening or morning:
        clocks = list(NUMBER_CLOCK.finditer(text))
        if any(c["lead"] or c["m"] or c["uhr"] for c in clocks):
            text = NUMBER_CLOCK.sub(lambda said: _daytime_clock(said, pm=bool(evening)), text)
            text = MORNING.sub(" ", EVENING.sub(" ", text))
    return " ".join(text.split())


def _word_clock(said: re.Match[str], *, pm: bool) -> str:
    """'halb acht' as '19:30' (pm) or '07:30'."""
    word = said["hour"].lower()
    hour = int(word) if word.isdigit() else german_number_word(_fold_umlauts(word)) or 1
    to_hour, minutes = WORD_CLOCK_MINUTES[" ".join(said["part"].lower().split())]
    hour = (hour + to_hour) % 12 if hour <= 12 else hour + to_hour  # "halb eins": 0:30
    if pm and hour < 12:
        hour += 12
    return f"{hour:02d}:{minutes:02d}"


def _daytime_clock(said: re.Match[str], *, pm: bool) -> str:
    """A clock time said with its daytime ('um 7' of 'um 7 abends') as 'um 19:00'; a number
    that is no clock time (no 'um', 'uhr' or minutes) as it is."""
    if not (said["lead"] or said["m"] or said["uhr"]):
        return said.group()
    hour = int(said["h"])
    if pm and hour < 12:
        hour += 12
    return f"{said['lead'] or ''}{hour:02d}:{said['m'] or '00'}"


def _said_in_the_past(text: str, said: list[dict[str, Any]]) -> bool:
    """Whether the text is a past day ('gestern', 'letzten Montag') with at most one clock
    time and nothing else."""
    past = PAST_DAY.search(text)
    if past is None:
        return False
    blanked = text[: past.start()] + " " * len(past.group()) + text[past.end() :]
    if FILLER.fullmatch(blanked):
        return True
    return len(said) == 1 and _all_of(blanked, said[0])


def _day_alone(text: str, found: list[dict[str, Any]]) -> dict[str, str]:
    """{'day': the day as written} when the text is a day without a clock time ('am 15.12.',
    'morgen'); else {}."""
    blanked = DAYTIME.sub(lambda said: " " * len(said.group()), text)  # "tomorrow evening"
    if len(found) == 1 and "T" not in found[0]["value"] and _all_of(blanked, found[0]):
        return {"day": text[found[0]["start"] : found[0]["end"]]}
    return {}


def _around(text: str, entity: dict[str, Any]) -> str:
    """The text without the time entity's span."""
    return text[: entity["start"]] + " " + text[entity["end"] :]


def _all_of(text: str, entity: dict[str, Any]) -> bool:
    """Whether the time entity is all the text says (around it only "am", "um", "at" …)."""
    return FILLER.fullmatch(WEEKDAY.sub(" ", _around(text, entity), count=1)) is not None


def _weekday_fits(text: str, entity: dict[str, Any], moment: datetime) -> bool:
    """Whether a weekday written around the time entity is the day's own."""
    said = WEEKDAY.search(_around(text, entity))
    return said is None or said.group().lower() in WEEKDAY_WORDS[moment.weekday()]


HELD_CLOCK = "start_clock"  # the form's argument keeping a clock time said without its day


def _start_with_held_clock(ctx: Context, text: str) -> datetime:
    """start_time; a day said alone ('freitag') after a clock time without its day ('19.30
    Uhr') is read with that clock time ('freitag 19:30'), which is kept until then."""
    tz, now, args = ctx.config.city.tz, utcnow(), form_args(ctx)
    try:
        starts = start_time(text, tz, now)
    except EveningError as error:
        if "day" not in error.values or HELD_CLOCK not in args:
            if "clock" in error.values and "form" in ctx.state:
                args[HELD_CLOCK] = error.values["clock"]
            raise
        starts = start_time(f"{text} {args[HELD_CLOCK]}", tz, now)
    args.pop(HELD_CLOCK, None)
    return starts


def _parse_start(ctx: Context, text: str) -> datetime:
    """A form's start step: start_time, with a hint when only the clock time is missing or
    the weekday is not the date's ('Mo. 17.12.': the 17.12. is a Thursday)."""
    try:
        return _start_with_held_clock(ctx, text)
    except EveningError as error:
        if "weekday_of" in error.values:
            raise Invalid("evenings.weekday_mismatch",
                          **_weekday_of(ctx, error.values["weekday_of"])) from None
        if "no_such_day" in error.values:  # "29.02.2027 19:00"
            raise Invalid("evenings.no_such_day", day=error.values["no_such_day"]) from None
        if "clock" in error.values:  # "19.30 Uhr": which day? tomorrow's date as the example
            tomorrow = utcnow() + timedelta(days=1)
            raise Invalid("evenings.start_needs_day", clock=error.values["clock"],
                          day=_weekday_of(ctx, tomorrow)["day"]) from None
        key = "evenings.start_needs_time" if "day" in error.values else error.key
        raise Invalid(key, **error.values) from None


def _weekday_of(ctx: Context, moment: Any) -> dict[str, str]:
    """{'day': '17.12.', 'weekday': 'Donnerstag'} of a moment, in the reader's language."""
    language = ctx.t("locale")
    local = moment.astimezone(ctx.config.city.tz)
    pattern = DAY_PATTERN.get(language, DAY_PATTERN["de"]).removeprefix("EEE ")
    return {"day": format_date(local, pattern, locale=language),
            "weekday": format_date(local, "EEEE", locale=language)}


def number_in_words(text: str) -> str:
    """A count as digits when it is written in words or with its unit ('zwei', 'fünfzig
    Plätze', '90 Minuten' -> '2', '50', '90'); any other text as it is."""
    words = [token for token in tokenize(text) if token.norm not in UNIT_WORDS]
    if not words or re.search(r"[^\w\s]", text):  # "-5", "2,5": as typed, refused as such
        return text
    if len(words) == 1 and words[0].norm.isdigit():
        return words[0].norm
    said = number_words(words, 0)
    return str(said[0]) if said is not None and said[1] == len(words) else text


APPROXIMATELY = re.compile(  # "ca. 30", "etwa dreißig", "about 30": the count all the same
    r"^\s*(?:ca\.?|circa|zirka|etwa|ungefähr|ungefaehr|rund|maximal|max\.?|bis\s+zu|about|"
    r"around|approx\.?|approximately|roughly|up\s+to)(?=[\s\d])\s*", re.IGNORECASE)
ONE_WORDS = frozenset({"ein", "eine", "einen", "einer", "einem", "eins", "a", "an", "one"})


def places_text(text: str) -> str:
    """A number of places as digits: 'ca. 30' -> '30', 'einen' / 'einer' / 'einen Platz' ->
    '1', else as number_in_words reads it."""
    said = APPROXIMATELY.sub("", text, count=1)
    words = [token.norm for token in tokenize(said) if token.norm not in UNIT_WORDS]
    if len(words) == 1 and words[0] in ONE_WORDS:
        return "1"
    return number_in_words(said)


HOUR_WORDS = frozenset({"h", "std", "stunde", "stunden", "hour", "hours", "hr", "hrs"})
MINUTE_WORDS = frozenset({"m", "min", "mins", "minute", "minuten", "minutes"})
HALF_WORDS = frozenset({"half", "halb", "halbe", "halben"})
ARTICLES = frozenset({"a", "an", "ein", "eine", "einer", "einen"})
DURATION_WORD = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def _count_of(word: str) -> float | None:
    """The number a word of a duration says: '2', '1,5', 'zwei', 'anderthalb', 'zweieinhalb'."""
    if word[0].isdigit():
        return float(word.replace(",", "."))
    if word == "anderthalb":
        return 1.5
    whole, half = (word.removesuffix("einhalb"), 0.5) if word.endswith("einhalb") else (word, 0)
    if whole == "ein":  # "eineinhalb"
        return 1 + half
    said = number_words(tokenize(whole), 0) if whole else None
    return said[0] + half if said is not None and said[1] == 1 else None


def duration_minutes(text: str) -> int | None:
    """The minutes of a duration said with its unit ('2 hours', 'an hour and a half',
    '1,5 std', '1h30', '1 hour 30 minutes', 'anderthalb stunden', '90 min.'); None when no
    unit is said."""
    words = [_fold_umlauts(w) for w in DURATION_WORD.findall(text.lower())]
    if not any(w in HOUR_WORDS or w in MINUTE_WORDS or w in HALF_WORDS or w.endswith("halb")
               for w in words):
        return None
    total, count, from_article, unit = 0.0, None, False, None
    for word in words:
        if word in ("and", "und"):
            continue
        if word in ARTICLES:
            count, from_article = (1.0, True) if count is None else (count, from_article)
        elif word in HALF_WORDS:  # "half an hour", "eine halbe stunde", "one and a half"
            count = 0.5 if count is None or from_article else count + 0.5
            from_article = False
        elif word in HOUR_WORDS or word in MINUTE_WORDS:
            unit = 60 if word in HOUR_WORDS else 1
            total, count, from_article = total + (1 if count is None else count) * unit, None, False
        elif count is None and (value := _count_of(word)) is not None:
            count, from_article = value, False
        else:
            return None
    if count is not None:  # "1h30": minutes; "an hour and a half": half of the hour
        total += count * (unit if unit is not None and count < 1 else 1)
    return round(total) if total == int(total) else None


def _fold_umlauts(word: str) -> str:
    return word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


BARE_HOURS = (1, 8)  # a bare count in this range is hours: "2" -> 120, "1,5" -> 90
BARE_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*")


def bare_hours(text: str) -> int | None:
    """The minutes of a count said without a unit that is too small for minutes ('2',
    '1,5', 'zwei' -> 120, 90, 120): hours when it is 1-8; None otherwise ('90', '10')."""
    number = BARE_NUMBER.fullmatch(text)
    said = number.group(1).replace(",", ".") if number else number_in_words(text)
    try:
        count = float(said)
    except ValueError:
        return None
    low, high = BARE_HOURS
    minutes = count * 60
    return round(minutes) if low <= count <= high and minutes == int(minutes) else None


def _duration_text(text: str) -> str:
    """A duration's answer as minutes in digits (hours, words, a unit, a bare count of hours)
    or as typed."""
    minutes = duration_minutes(text)
    if minutes is None:
        minutes = bare_hours(text)
    return str(minutes) if minutes is not None else number_in_words(text)


_parse_duration = _wrap(lambda _c, text: pe.parse_positive(
    _duration_text(text), "evenings.bad_duration", pe.MAX_DURATION))
_parse_capacity = _wrap(lambda _c, text: pe.parse_positive(
    places_text(text), "evenings.bad_capacity", pe.MAX_CAPACITY))
_parse_room = _wrap(lambda ctx, text: pe.parse_room(text, required=not _bbb(ctx)) or "")


CORRECTION = re.compile(  # words that only say an answer is changed: "nein, doch lieber …"
    r"^\s*(?:(?:nein|nee|doch|lieber|besser|eher|stattdessen|sondern|ich\s+meinte|"
    r"korrektur|sorry|no|nope|actually|rather|instead|i\s+meant|make\s+it)\b[\s,.!:;-]*)+",
    re.IGNORECASE)


async def revised_start(ctx: Context, values: dict[str, Any], parse: Any) -> bool:
    """A new start said at a form's confirmation ('lieber sonntag um 18 uhr', 'nein, doch
    übermorgen 19 uhr', 'lieber 20 uhr': the day so far at 20:00) taken into values, read
    by the start step's parser; False when the text is no start."""
    said = CORRECTION.sub("", ctx.incoming.text, count=1).strip()
    if not said:
        return False
    try:
        values["start"] = await parse(ctx, said)
    except Invalid as invalid:
        if "clock" not in invalid.values:
            return False
        day = datetime.fromisoformat(values["start"]).astimezone(ctx.config.city.tz)
        form_args(ctx).pop(HELD_CLOCK, None)
        try:
            values["start"] = await parse(ctx, f"{day:%d.%m.%Y} {invalid.values['clock']}")
        except Invalid:
            return False
    return True


async def _parse_first_start(ctx: Context, text: str) -> str:
    """A new session's start (ISO form)."""
    return _parse_start(ctx, text).isoformat()


async def school_choices(ctx: Context) -> list[Choice]:
    """The user's schools as choices (labels are the names)."""
    return [Choice(s.key, s.name) for s in await staff_schools(ctx)]


def _summary_values(ctx: Context, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": values["title"],
        "classes": ", ".join(values["classes"]) or ctx.t("evenings.whole_school"),
        "when": when(ctx.t, datetime.fromisoformat(values["start"]), ctx.config),
        "duration": values["duration"],
        "capacity": values["capacity"],
        "room": values.get("room") or ctx.t("evenings.room_bbb"),
    }


class CreateEveningForm(Form):
    """School staff publish a session."""

    name = "ev.create"
    slots: ClassVar[list[Slot]] = [
        Slot(
            "school",
            "evenings.ask_school",
            choices=school_choices,
            ask_if=lambda ctx, _v: len(ctx.orgs(ROLE)) != 1,
        ),
        Slot("title", "evenings.ask_title", parse=_parse_title),
        Slot("classes", "evenings.ask_classes", parse=_parse_classes),
        Slot("start", "evenings.ask_start", parse=_parse_first_start),
        Slot("duration", "evenings.ask_duration", parse=_parse_duration),
        Slot("capacity", "evenings.ask_capacity", parse=_parse_capacity),
        Slot("room", "evenings.ask_room", parse=_parse_room),
    ]

    @classmethod
    def question_text(
        cls, ctx: Context, slot: Slot, values: dict[str, Any], args: dict[str, Any]
    ) -> str:
        """The room step offers "-" for an automatic room only with BigBlueButton set up."""
        if slot.name == "room" and not _bbb(ctx):
            return ctx.t("evenings.ask_room_link")
        return super().question_text(ctx, slot, values, args)

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The session as it will be published."""
        return ctx.t("evenings.create_summary", **_summary_values(ctx, values))

    @classmethod
    async def revise(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> bool:
        """A new start said at the confirmation ('doch lieber freitag 19 uhr'): taken, and
        the summary shown again (bot/forms.py calls it); False when the text is no start."""
        return await revised_start(ctx, values, _parse_first_start)

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Publish the session (the start is checked again: time has passed)."""
        school = await _form_school(ctx)
        starts = datetime.fromisoformat(values["start"])
        if starts <= utcnow():
            return [Reply(ctx.t("evenings.in_past"))]
        session = await pe.create_session(
            ctx.db,
            school,
            title=values["title"],
            classes=values["classes"],
            starts_at=starts,
            duration_minutes=values["duration"],
            capacity=values["capacity"],
            room_url=values.get("room") or None,
            created_by=ctx.user.id,
        )
        return [
            Reply(
                ctx.t("evenings.created", title=session.title,
                      when=when(ctx.t, session.starts_at, ctx.config)),
                [Button(ctx.t("evenings.btn_manage"), payload("ev.manage", session.id))],
            )
        ]


@command("newevening", help_key="help.cmd.newevening", role=ROLE)
async def new_evening(ctx: Context, _args: str = "") -> list[Reply]:
    """Begin creating a session (school staff)."""
    if not await staff_schools(ctx):
        return ctx.refuse(ROLE)
    return await ctx.start_form(CreateEveningForm)


async def create_from_message(ctx: Context) -> list[Reply]:
    """A request in words to create a session ("elternabend für die 9a erstellen"): school
    staff get the /newevening form, the class it names held for the classes step; anybody
    else is told that creating is for school staff (and registers for nothing)."""
    if not ctx.has_role(ROLE):
        return [Reply(ctx.t("evenings.create_staff_only"),
                      [Button(ctx.t("evenings.btn_all_evenings"), "ev.list")])]
    if not await staff_schools(ctx):
        return ctx.refuse(ROLE)
    school_class = ctx.entity("school_class")
    held = {"classes": pe.normalise_class(str(school_class))} if school_class else {}
    return await ctx.start_form(CreateEveningForm, **{HELD: held})


@command("schoolevenings", help_key="help.cmd.schoolevenings", role=ROLE)
async def school_evenings(ctx: Context, _args: str = "") -> list[Reply]:
    """My schools' sessions, one message, a manage button each."""
    schools = await staff_schools(ctx)
    if not schools:
        return ctx.refuse(ROLE)
    sessions = await pe.sessions_of_schools(ctx.db, [s.id for s in schools], utcnow())
    if not sessions:
        return [Reply(ctx.t("evenings.staff_none"))]
    items = [
        Item(
            _staff_line(ctx.t, ctx, session),
            [Button(ctx.t("evenings.button_manage"), payload("ev.manage", session.id))],
        )
        for session in sessions
    ]
    return [listing.page(ctx.t("evenings.staff_list", count=len(sessions)), items)]


def _staff_line(t: Translate, ctx: Context, session: EveningSession) -> str:
    state = t("evenings.state_cancelled") if session.status == pe.CANCELLED else t(
        "evenings.state_counts", taken=session.taken, capacity=session.capacity
    )
    return (
        f"{when(t, session.starts_at, ctx.config)} · {session.school.name} · "
        f"{classes_text(t, session)}\n{session.title} – {state}"
    )


@button("ev.manage", role=ROLE, private=True)
async def manage(ctx: Context, session_id: int) -> list[Reply]:
    """One session for staff: details, counts, moderator link, and what can be done."""
    session = await own_session(ctx, session_id)
    if session is None:
        return ctx.refuse(ROLE)
    if session.status != pe.SCHEDULED:  # its waiting list has lapsed, its room is closed
        return [Reply(ctx.t("evenings.manage_cancelled", line=_staff_line(ctx.t, ctx, session),
                            minutes=session.duration_minutes))]
    waiting = len(await pe.registrations_for(ctx.db, session.id, pe.WAITING))
    text = ctx.t(
        "evenings.manage",
        line=_staff_line(ctx.t, ctx, session),
        minutes=session.duration_minutes,
        waiting=waiting,
        room=_moderator_link(ctx, session),
    )
    buttons = [
        Button(ctx.t("evenings.btn_attendees"), payload("ev.att", session.id)),
        Button(ctx.t("evenings.btn_message_all"), payload("ev.msg", session.id)),
        Button(ctx.t("evenings.btn_edit"), payload("ev.edit", session.id)),
        Button(ctx.t("evenings.btn_move"), payload("ev.move", session.id)),
        Button(ctx.t("evenings.btn_cancel_session"), payload("ev.cancel", session.id)),
    ]
    return [Reply(text, buttons)]


def _moderator_link(ctx: Context, session: EveningSession) -> str:
    server = ctx.config.evenings.bigbluebutton
    if server is None:
        return session.room_url or "-"
    name = ctx.user.display_name or ctx.t("evenings.staff_name")
    return bbb.join_url(server, session.id, name, moderator=True, user_id=f"s{ctx.user.id}")


@button("ev.att", role=ROLE, private=True)
async def attendees(ctx: Context, session_id: int) -> list[Reply]:
    """The attendee list and the waiting list of a session."""
    session = await own_session(ctx, session_id)
    if session is None:
        return ctx.refuse(ROLE)
    registered: list[str] = []
    waiting: list[str] = []
    for registration in await pe.registrations_for(ctx.db, session.id):
        user = await ctx.db.get(User, registration.user_id) if registration.user_id else None
        if registration.user_id is None:
            name = ctx.t("evenings.office_booking")
        else:
            name = user.display_name if user and user.display_name else (
                f"Elternteil {registration.id}"
            )
        target = registered if registration.status == pe.REGISTERED else waiting
        target.append(f"{len(target) + 1}. {name}")
    lines = [ctx.t("evenings.attendees", title=session.title, taken=session.taken,
                   capacity=session.capacity), *registered]
    if waiting and session.status == pe.SCHEDULED:  # a cancelled session's list has lapsed
        lines += ["", ctx.t("evenings.waiting_list_head", count=len(waiting)), *waiting]
    back = [Button(ctx.t("evenings.btn_manage"), payload("ev.manage", session.id))]
    return [Reply("\n".join(lines), back)]


# ---------------------------------------------------------------- edit, move, cancel


EDIT_FIELDS = ("title", "capacity", "room", "classes")  # each: evenings.field_*, ask_value_*


async def edit_field_choices(_ctx: Context) -> list[Choice]:
    """What can be edited."""
    return [Choice(field, f"evenings.field_{field}") for field in EDIT_FIELDS]


async def _parse_edit_value(ctx: Context, text: str) -> Any:
    """The new value of the chosen field; the value it already has is no change (said, and
    asked again)."""
    field = ctx.state.get("form", {}).get("values", {}).get("field")
    session = await pe.get_session(ctx.db, ctx.state["form"]["args"]["session_id"])
    if session is None:
        raise Invalid("evenings.gone")
    value = _new_value(ctx, session, field, text)
    if unchanged(session, field, value):
        raise Invalid("evenings.edit_unchanged", value=value_text(ctx, value))
    return value


def _new_value(ctx: Context, session: EveningSession, field: str | None, text: str) -> Any:
    if field == "title":
        return _parse_title(ctx, text)
    if field == "room":
        return _parse_room(ctx, text)
    try:
        if field == "capacity":  # not below the places taken: said now and asked again
            capacity = _parse_capacity(ctx, text)
            pe.check_capacity(session, capacity)
            return capacity
        return pe.parse_classes(text, session.school)
    except EveningError as error:
        raise Invalid(error.key, **error.values) from None


def unchanged(session: EveningSession, field: str, value: Any) -> bool:
    """Whether an edit's value is what the session already has (classes in any order)."""
    if field == "classes":
        return sorted(value) == sorted(session.classes)
    if field == "room":
        return (value or None) == session.room_url
    current = {"title": session.title, "capacity": session.capacity}.get(field)
    return value == current


def value_text(ctx: Context, value: Any) -> str:
    """An edit's value as shown: classes joined ('ganze Schule' for none), no room link: the
    automatic room."""
    if isinstance(value, list):
        return ", ".join(value) or ctx.t("evenings.whole_school")
    return str(value) if value else ctx.t("evenings.room_bbb")


async def _registered_users(ctx: Context, session: EveningSession, *statuses: str) -> list[Any]:
    rows = await pe.registrations_for(ctx.db, session.id)
    return [r for r in rows if r.user_id is not None and r.status in statuses]


class EditEveningForm(Form):
    """Change a session's title, capacity, room link or classes."""

    name = "ev.edit"
    slots: ClassVar[list[Slot]] = [
        Slot("field", "evenings.ask_field", choices=edit_field_choices),
        Slot("value", "evenings.ask_value", parse=_parse_edit_value),
    ]

    @classmethod
    def question_text(
        cls, ctx: Context, slot: Slot, values: dict[str, Any], args: dict[str, Any]
    ) -> str:
        """The value step asks for the chosen field ("Wie viele Plätze soll es geben?")."""
        field = values.get("field")
        if slot.name == "value" and field == "room" and not _bbb(ctx):
            return ctx.t("evenings.ask_value_room_link")  # no "-" for an automatic room
        if slot.name == "value" and field in EDIT_FIELDS:
            return ctx.t(f"evenings.ask_value_{field}", title=args.get("title", ""))
        return super().question_text(ctx, slot, values, args)

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The change as it will be made."""
        key = "evenings.edit_summary"
        if values["field"] == "capacity":  # only those moving up from the waiting list are told
            key = "evenings.edit_summary_capacity"
        return ctx.t(
            key,
            field=ctx.t(f"evenings.field_{values['field']}"),
            value=value_text(ctx, values["value"]),
        )

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Apply the change and tell the registered parents (more places: those moving up
        from the waiting list); a new title or room link goes into their reminders and, with
        a higher SEQUENCE, into a new calendar file."""
        session = await own_session(ctx, args["session_id"])
        if session is None or session.status != pe.SCHEDULED:
            return [Reply(ctx.t("evenings.gone"))]
        field, value = values["field"], values["value"]
        if unchanged(session, field, value):  # as it is by now: nobody is told anything
            return [Reply(ctx.t("evenings.nothing_changed", title=session.title))]
        old_title = session.title
        if field == "capacity":
            try:
                await pe.set_capacity(ctx.db, session, value)
            except EveningError as error:
                return [Reply(ctx.t(error.key, **error.values))]
            promoted = await pe.promote_waiting(ctx.db, session)
            told = await tell_promoted(ctx.db, ctx.config, promoted)
            return [Reply(ctx.t("evenings.edited", title=session.title, told=told))]
        renamed = field == "title" and value != old_title
        moved_room = False
        if renamed:
            await pe.rename_session(ctx.db, session, value)
        elif field == "room":
            moved_room = await pe.change_room(ctx.db, session, value or None)
        elif field == "classes":
            session.classes = value
        await ctx.db.flush()
        told = 0
        if renamed:  # the waiting list hears the new name too (no calendar entry to renew)
            told = await _tell_waiting_list(ctx, session, "evenings.renamed_waiting_notice",
                                            old=old_title)
        for registration in await _registered_users(ctx, session, pe.REGISTERED):
            if renamed or moved_room:  # the reminders carry the title and the link
                await _renew_reminders(ctx, session, registration)
            if renamed:  # says the old name; the calendar entry gets the new one
                told += await _tell_change(ctx, session, registration,
                                           "evenings.renamed_notice", new_calendar=True,
                                           old=old_title)
            elif moved_room:
                told += await _tell_change(ctx, session, registration,
                                           "evenings.room_notice", new_calendar=True)
            else:  # the classes: the notice names them
                told += await _tell_change(ctx, session, registration, *_classes_notice(session))
        return [Reply(ctx.t("evenings.edited", title=session.title, told=told))]


def _classes_notice(session: EveningSession) -> tuple[str, str]:
    """The notice of new classes and the text of its placeholder ('1a, 1b'; none for the
    whole school)."""
    if not session.classes:
        return "evenings.classes_notice_whole_school", ""
    return "evenings.classes_notice", ", ".join(session.classes)


async def _renew_reminders(ctx: Context, session: EveningSession,
                           registration: pe.Registration) -> None:
    """Replace a parent's pending reminders with ones of the session as it is now (time,
    title, link)."""
    await cancel_reminders(ctx.db, reminder_ref(registration.id))
    user = await ctx.db.get(User, registration.user_id)
    await schedule_reminders(ctx.db, ctx.config, registration,
                             join_link(ctx.config, session, registration, user))


async def _tell_waiting_list(ctx: Context, session: EveningSession, key: str,
                             **values: str) -> int:
    """Tell the parents on a session's waiting list of its new time or title (no calendar
    file: a waiting place has no calendar entry); returns how many were told."""
    told = 0
    for registration in await _registered_users(ctx, session, pe.WAITING):
        told += await _tell_change(ctx, session, registration, key, **values)
    return told


async def _tell_change(ctx: Context, session: EveningSession, registration: pe.Registration,
                       key: str, classes: str = "", *, new_calendar: bool = False,
                       **values: str) -> int:
    """Tell one parent about a change (with a new calendar file when the time or title
    changed); classes: the new classes ('1a, 1b'); values: the text's own placeholders (the
    old title)."""
    user = await ctx.db.get(User, registration.user_id)
    link = join_link(ctx.config, session, registration, user)
    config = ctx.config

    def compose(t: Translate) -> list[Reply]:
        text = t(key, title=session.title, school=session.school.name, classes=classes,
                 when=when(t, session.starts_at, config), link=link or "-", **values)
        if not new_calendar:
            return [Reply(text, _leave_waiting_button(t, session, registration))]
        ics = calendar_file(
            session, registration.id, link, config.city.tz,
            description=t("evenings.ics_description", school=session.school.name),
            alarm_text=t("evenings.ics_alarm", title=session.title),
            name=t("evenings.ics_name"),
        )
        return [Reply(text, file=ics)]

    stamp = f"{session.sequence}:{secrets.token_hex(4)}"
    return int(await notify(ctx.db, registration.user_id, compose,
                            dedup_key=f"evening-change:{registration.id}:{stamp}"))


def _leave_waiting_button(t: Translate, session: EveningSession,
                          registration: pe.Registration) -> list[Button]:
    """A waiting parent's button to leave the list of a session still on (a new time may not
    suit); none for a place or a cancelled session."""
    if registration.status != pe.WAITING or session.status != pe.SCHEDULED:
        return []
    return [Button(t("evenings.btn_leave_waiting"), give_back_payload(registration))]


async def _parse_new_start(ctx: Context, text: str) -> str:
    """A moved session's start; the time it already has is no move (said, asked again)."""
    starts = _parse_start(ctx, text)
    session = await pe.get_session(ctx.db, ctx.state["form"]["args"]["session_id"])
    if session is not None and starts == session.starts_at:
        raise Invalid("evenings.move_unchanged", when=when(ctx.t, starts, ctx.config))
    return starts.isoformat()


class MoveEveningForm(Form):
    """Give a session a new start time."""

    name = "ev.move"
    slots: ClassVar[list[Slot]] = [
        Slot("start", "evenings.ask_new_start", parse=_parse_new_start),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The move as it will be made."""
        return ctx.t("evenings.move_summary",
                     when=when(ctx.t, datetime.fromisoformat(values["start"]), ctx.config))

    @classmethod
    async def revise(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> bool:
        """A new time said at the confirmation ('lieber sonntag um 18 uhr'): taken, and the
        summary shown again (bot/forms.py calls it); False when the text is no start."""
        return await revised_start(ctx, values, _parse_new_start)

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Move it; registered parents get the new time, a new .ics and new reminders."""
        session = await own_session(ctx, args["session_id"])
        if session is None or session.status != pe.SCHEDULED:
            return [Reply(ctx.t("evenings.gone"))]
        starts = datetime.fromisoformat(values["start"])
        if starts == session.starts_at:  # its own time: nothing to move, nobody to tell
            return [Reply(ctx.t("evenings.nothing_changed", title=session.title))]
        if starts <= utcnow():
            return [Reply(ctx.t("evenings.in_past"))]
        await pe.move_session(ctx.db, session, starts, session.duration_minutes)
        told = await _tell_waiting_list(ctx, session, "evenings.moved_waiting_notice")
        for registration in await _registered_users(ctx, session, pe.REGISTERED):
            await _renew_reminders(ctx, session, registration)
            told += await _tell_change(ctx, session, registration, "evenings.moved_notice",
                                       new_calendar=True)
        return [Reply(ctx.t("evenings.moved", title=session.title, told=told,
                            when=when(ctx.t, session.starts_at, ctx.config)))]


class CancelEveningForm(Form):
    """Call a session off."""

    name = "ev.cancel"
    slots: ClassVar[list[Slot]] = []
    confirm_label = "evenings.button.cancel_yes"  # "Ja, absagen": "yes, cancel it" confirms
    leave_label = "evenings.button.cancel_keep"  # "Nein, nicht absagen", not a second "Cancel"

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """What will happen."""
        return ctx.t("evenings.cancel_summary", title=args["title"])

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Cancel it; registered parents and the waiting list are told, reminders dropped."""
        session = await own_session(ctx, args["session_id"])
        if session is None or session.status != pe.SCHEDULED:
            return [Reply(ctx.t("evenings.gone"))]
        await pe.cancel_session(ctx.db, session)
        told = 0
        for registration in await _registered_users(ctx, session, pe.REGISTERED, pe.WAITING):
            await cancel_reminders(ctx.db, reminder_ref(registration.id))
            if registration.status == pe.REGISTERED:
                told += await _tell_change(ctx, session, registration,
                                           "evenings.cancelled_notice", new_calendar=True)
            else:  # only on the waiting list: that place lapses, no calendar entry to drop
                told += await _tell_change(ctx, session, registration,
                                           "evenings.cancelled_waiting_notice")
        return [Reply(ctx.t("evenings.cancelled", title=session.title, told=told))]


class MessageAttendeesForm(Form):
    """A message to everyone registered: text, preview, confirm, outbox."""

    name = "ev.message"
    slots: ClassVar[list[Slot]] = [
        Slot("message", "evenings.ask_message", parse=free_text(1000, min_length=5)),
    ]

    @classmethod
    def summary(cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]) -> str:
        """The preview."""
        return ctx.t("evenings.message_preview", title=args["title"], message=values["message"],
                     count=args["count"])

    @classmethod
    async def submit(
        cls, ctx: Context, values: dict[str, Any], args: dict[str, Any]
    ) -> list[Reply]:
        """Queue the message for every registered parent at broadcast priority."""
        session = await own_session(ctx, args["session_id"])
        if session is None or session.status != pe.SCHEDULED:
            return [Reply(ctx.t("evenings.gone"))]
        users = [r.user_id for r in await _registered_users(ctx, session, pe.REGISTERED)]
        title, school, message = session.title, session.school.name, values["message"]
        count = await broadcast(
            ctx.db,
            users,
            lambda t: [Reply(t("evenings.message_from_school", title=title, school=school,
                               message=message))],
            dedup_prefix=f"evening-msg:{session.id}:{secrets.token_hex(6)}",
        )
        return [Reply(ctx.t("evenings.message_sent", count=count))]


async def _staff_form(ctx: Context, session_id: int, form: type[Form], **extra: Any
                      ) -> list[Reply]:
    session = await own_session(ctx, session_id)
    if session is None:
        return ctx.refuse(ROLE)
    if session.status != pe.SCHEDULED:
        return [Reply(ctx.t("evenings.gone"))]
    return await ctx.start_form(form, session_id=session.id, title=session.title, **extra)


@button("ev.edit", role=ROLE)
async def edit_session(ctx: Context, session_id: int) -> list[Reply]:
    """Begin editing a session."""
    return await _staff_form(ctx, session_id, EditEveningForm)


@button("ev.move", role=ROLE)
async def move_session(ctx: Context, session_id: int) -> list[Reply]:
    """Begin moving a session."""
    return await _staff_form(ctx, session_id, MoveEveningForm)


@button("ev.cancel", role=ROLE)
async def cancel_session(ctx: Context, session_id: int) -> list[Reply]:
    """Begin cancelling a session."""
    return await _staff_form(ctx, session_id, CancelEveningForm)


@button("ev.msg", role=ROLE)
async def message_attendees(ctx: Context, session_id: int) -> list[Reply]:
    """Begin a message to all registered parents."""
    session = await own_session(ctx, session_id)
    count = len(await _registered_users(ctx, session, pe.REGISTERED)) if session else 0
    if session is not None and session.status == pe.SCHEDULED and count == 0:
        return [Reply(ctx.t("evenings.message_nobody", title=session.title),
                      [Button(ctx.t("evenings.btn_manage"), payload("ev.manage", session.id))])]
    return await _staff_form(ctx, session_id, MessageAttendeesForm, count=count)


@org_name("school_staff")
async def school_name(db: Any, key: str) -> str | None:
    """School staff's organisation is the school's key: its name (None: no such school)."""
    school = await pe.school_by_key(db, key)
    return school.name if school else None
