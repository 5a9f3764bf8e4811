"""The time entity: dates and times in German and English, resolved in the city's time zone.

Values are ISO 8601 strings: "2026-11-27" for a day ("morgen", "next thursday", "12.3."),
"2026-11-27T18:00:00+01:00" when a clock time is given ("morgen um 18 uhr", "6 pm"). A clock
time without a day means today. Only what is written is resolved: "morgens" or "guten morgen"
are no dates, a bare "7" is a number, not a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nlu.normalize import Token

EXTRACTOR = "TimeParser"
DEFAULT_TIMEZONE = "Europe/Berlin"

_DAY_OFFSETS = {"heute": 0, "today": 0, "tonight": 0, "morgen": 1, "tomorrow": 1,
                "uebermorgen": 2}
_WEEKDAYS = {
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonnabend": 5, "sonntag": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}
_NEXT = {"naechsten", "naechste", "naechstes", "kommenden", "kommende", "next", "coming"}
_WEEK = {"woche", "week"}
# "bis Montag" said on a Monday is a week ahead: a deadline of today is said "bis heute"
_UNTIL = {"bis", "until", "till", "by"}
# "guten morgen", "am morgen", "jeden morgen", "good morning" are no dates
_NOT_A_DAY_AFTER = {"guten", "am", "jeden", "heute", "den", "der", "zu"}

_GERMAN_AFTER_AM = {"montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag",
                    "sonntag", "wochenende", "ende", "anfang", "morgen", "abend", "mittag",
                    "nachmittag", "vormittag", "tag", "elternabend", "bahnhof", "eingang"}
_FILLERS = {"um", "at", "ab", "gegen", "around", "am", "on", "by", "abend", "abends",
            "morgens", "früh", "frueh", "mittag", "mittags", "nachmittag", "nachmittags",
            "vormittag", "vormittags", "in", "the", "evening", "morning", "afternoon", "night"}
_CLOCK = re.compile(
    r"(?<![\w.:,])(?P<h>[01]?\d|2[0-3])(?:[:.](?P<m>[0-5]\d))?\s?"
    r"(?P<suffix>uhr\b|h\b|am\b|pm\b|a\.m\.|p\.m\.)"
    r"|(?<![\w.:,])(?P<h2>[01]?\d|2[0-3]):(?P<m2>[0-5]\d)(?![\w:])",
    re.IGNORECASE,
)
_DATE = re.compile(r"(?<![\w.])(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>(?:20)?\d\d)?(?![\w])")


def _entity(value: str, start: int, end: int) -> dict:
    return {"entity": "time", "value": value, "start": start, "end": end,
            "extractor": EXTRACTOR}


def _days(tokens: Sequence[Token], today: date) -> list[tuple[date, int, int]]:
    """(day, start, end) for relative days, weekdays and "next week"."""
    found = []
    for i, tok in enumerate(tokens):
        word = tok.norm
        before = tokens[i - 1].norm if i else ""
        start = tokens[i - 1].start if before in _NEXT else tok.start
        if word in _DAY_OFFSETS:
            if word == "morgen" and before in _NOT_A_DAY_AFTER:
                continue
            offset, begin = _DAY_OFFSETS[word], tok.start
            if word == "tomorrow" and i >= 2 and (tokens[i - 2].norm, before) == ("day",
                                                                                   "after"):
                offset, begin = 2, tokens[i - 2].start
            found.append((today + timedelta(days=offset), begin, tok.end))
        elif word in _WEEKDAYS:
            ahead = (_WEEKDAYS[word] - today.weekday()) % 7
            if ahead == 0 and (before in _NEXT or before in _UNTIL):
                ahead = 7
            found.append((today + timedelta(days=ahead), start, tok.end))
        elif word in _WEEK and before in _NEXT:
            monday = today + timedelta(days=7 - today.weekday())
            found.append((monday, start, tok.end))
    return found


RECENT_PAST_DAYS = 60  # a date said without a year this many days back is this year's


def yearless_date(day: int, month: int, today: date) -> date | None:
    """The date of a day and month said without a year (None if there is no such day).

    This year's when it is today or later, or at most RECENT_PAST_DAYS back: "bis 1.12." on
    7 December is a date in the past (where a future one is needed, it is refused as such),
    not next year's; else next year's ("am 12.3." in November).
    """
    try:
        value = date(today.year, month, day)
    except ValueError:
        return None
    if value >= today - timedelta(days=RECENT_PAST_DAYS):
        return value
    try:
        return date(today.year + 1, month, day)
    except ValueError:
        return None


def _dates(text: str, today: date) -> list[tuple[date, int, int]]:
    found = []
    for m in _DATE.finditer(text):
        day, month = int(m.group("d")), int(m.group("mo"))
        if not m.group("y"):
            value = yearless_date(day, month, today)
        else:
            year = int(m.group("y"))
            try:
                value = date(year + 2000 if year < 100 else year, month, day)
            except ValueError:
                value = None
        if value is not None:
            found.append((value, m.start(), m.end()))
    return found


def _clocks(text: str) -> list[tuple[time, int, int]]:
    found = []
    for m in _CLOCK.finditer(text):
        if m.group("h2") is not None:
            hour, minute = int(m.group("h2")), int(m.group("m2"))
        else:
            hour, minute = int(m.group("h")), int(m.group("m") or 0)
            suffix = m.group("suffix").lower().replace(".", "")
            following = text[m.end() :].split(maxsplit=1)
            if suffix == "am" and following and following[0].lower() in _GERMAN_AFTER_AM:
                continue  # "5 am montag": German "am", not a.m.
            if suffix in ("am", "pm"):
                if hour == 0 or hour > 12:
                    continue
                hour = hour % 12 + (12 if suffix == "pm" else 0)
        found.append((time(hour, minute), m.start(), m.end()))
    return found


def _joinable(text: str, end: int, start: int) -> bool:
    """Only "um", "at", "ab", "gegen", "around", "," (and spaces) between a day and a time."""
    return all(word in _FILLERS for word in re.split(r"[\s,]+", text[end:start].lower())
               if word)


def find_times(text: str, tokens: Sequence[Token], timezone: str = DEFAULT_TIMEZONE,
               now: Callable[[ZoneInfo], datetime] | None = None) -> list[dict]:
    """Every date/time of the text, resolved against now() in the time zone."""
    tz = ZoneInfo(timezone)
    current = now(tz) if now else datetime.now(tz)
    today = current.date()
    days = sorted(_days(tokens, today) + _dates(text, today), key=lambda d: d[1])
    clocks = _clocks(text)
    found = []
    used: set[int] = set()
    for day, d_start, d_end in days:
        clock = next(((c, s, e) for k, (c, s, e) in enumerate(clocks) if k not in used and (
            (s >= d_end and _joinable(text, d_end, s)) or (e <= d_start and
                                                           _joinable(text, e, d_start)))), None)
        if clock is None:
            found.append(_entity(day.isoformat(), d_start, d_end))
            continue
        used.add(clocks.index(clock))
        value = datetime.combine(day, clock[0], tz).isoformat()
        found.append(_entity(value, min(d_start, clock[1]), max(d_end, clock[2])))
    for k, (clock, start, end) in enumerate(clocks):
        if k not in used:
            found.append(_entity(datetime.combine(today, clock, tz).isoformat(), start, end))
    return found
