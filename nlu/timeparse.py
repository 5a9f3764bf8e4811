"""The time entity: dates and times in German and English, resolved in the city's time zone.

Values are ISO 8601 strings: "2026-11-27" for a day ("morgen", "next thursday", "12.3."),
"2026-11-27T18:00:00+01:00" when a clock time is given ("morgen um 18 uhr", "6 pm"). A clock
time without a day means today. Only what is written is resolved: "morgens" or "guten morgen"
are no dates, a bare "7" is a number, not a time.

Also: a day number with a dot after "am", "zum", "bis (zum)", "vom", "den" ("am 12.", "bis zum
18.") or an English ordinal after "on", "by", "the" … ("on the 12th") is this month's day, or
next month's when it is past; with a month name ("12. dezember", "3rd of may", "december 12th")
a date like "12.12."; "in zwei wochen" / "in 3 days" that day; "diese woche" / "this week" its
Monday (as "nächste woche" is next week's Monday; "ende nächster woche" / "end of next week"
its Friday, "anfang der woche" this week's Monday); "am wochenende" / "this weekend" its
Saturday ("next weekend" the one after). A week after the next one: "übernächsten montag",
"friday after next", "übernächste woche"; a weekday of a week: "nächste woche mittwoch",
"wednesday next week"; a span after a day: "montag in einer woche", "a week from monday".
A day and month without the final dot ("24.12", "am 17.12") unless money, a unit or a decimal
is meant ("3.12 euro", "gutschein über 24.12", "2.5 kg").

Clock times in words ("halb acht" 7:30, "viertel vor acht", "sieben uhr", "half past seven"),
minutes after "uhr" ("19 uhr 30"); an hour from 1 to 11 with "abends", "nachmittags", "in the
evening" is after noon ("7 uhr abends" 19:00). A written date the calendar lacks ("29.02.2027
19:00") is no time at all; impossible_date names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nlu import numbers
from nlu.normalize import Token, tokenize

EXTRACTOR = "TimeParser"
DEFAULT_TIMEZONE = "Europe/Berlin"

_DAY_OFFSETS = {"heute": 0, "today": 0, "tonight": 0, "morgen": 1, "tomorrow": 1,
                "uebermorgen": 2}
_WEEKDAYS = {
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonnabend": 5, "sonntag": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}
_NEXT = {"naechsten", "naechste", "naechstes", "naechster", "kommenden", "kommende",
         "kommendes", "kommender", "next", "coming"}
_THIS = {"diese", "dieser", "diesem", "dieses", "diesen", "this"}
# "übernächsten montag", "übernächste woche": a week after the next one
_AFTER_NEXT = {"uebernaechsten", "uebernaechste", "uebernaechstes", "uebernaechster",
               "ubernachsten", "ubernachste", "ubernachstes", "ubernachster"}
_WEEK = {"woche", "week"}
_WEEKEND = {"wochenende", "weekend"}
# "in zwei wochen", "in 3 tagen", "in a week": a day that many days/weeks ahead
_SPAN_DAYS = {"tag": 1, "tagen": 1, "day": 1, "days": 1, "woche": 7, "wochen": 7, "week": 7,
              "weeks": 7}
_SPAN_COUNTS = {"einem": 1, "einer": 1, "a": 1, "one": 1, "zwei": 2, "two": 2, "drei": 3,
                "three": 3, "vier": 4, "four": 4, "fuenf": 5, "five": 5, "sechs": 6, "six": 6,
                "sieben": 7, "seven": 7, "acht": 8, "eight": 8, "neun": 9, "nine": 9,
                "zehn": 10, "ten": 10, "vierzehn": 14, "fourteen": 14}
_MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "februar": 2, "feb": 2, "february": 2, "maerz": 3,
    "marz": 3, "mrz": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}
_DE_MONTHS = {word for word in _MONTHS if word not in {
    "january", "february", "march", "mar", "may", "june", "july", "october", "oct",
    "december", "dec"}}
# a bare day number is a date only after these words: "am 12.", "bis zum 18.", "on the 12th"
_DAY_NUMBER_AFTER = {"am", "zum", "bis", "vom", "den", "on", "by", "until", "till", "from",
                     "the"}
# "the 9th grade", "5th floor": ordinals that are no days
_NOT_A_DAY_BEFORE = {"grade", "class", "klasse", "year", "form", "floor", "time", "times",
                     "place", "birthday", "anniversary", "stock", "etage", "mal", "stelle",
                     "tag", "woche", "monat", "stunde", "platz", "reihe", "advent", "schuljahr",
                     "halbjahr", "day", "week", "month", "round", "row", "try", "attempt"}
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
    r"(?P<suffix>uhr\b|h\b|am\b|pm\b|a\.m\.|p\.m\.|o['’]?\s?clock\b)"
    r"(?:\s(?P<um>[0-5]\d)(?![\w.,:]))?"  # "19 uhr 30"
    r"|(?<![\w.:,])(?P<h2>[01]?\d|2[0-3]):(?P<m2>[0-5]\d)(?![\w:])",
    re.IGNORECASE,
)
_DATE = re.compile(r"(?<![\w.])(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)\.(?P<y>(?:20)?\d\d)?(?![\w])")


def _entity(value: str, start: int, end: int) -> dict:
    return {"entity": "time", "value": value, "start": start, "end": end,
            "extractor": EXTRACTOR}


def _days(tokens: Sequence[Token], today: date) -> list[tuple[date, int, int]]:
    """(day, start, end) for relative days, weekdays and weeks, each with what follows it:
    "nächste woche mittwoch", "montag in einer woche", "friday after next"."""
    found = []
    i, n = 0, len(tokens)
    while i < n:
        hit = _day_at(tokens, i, today)
        if hit is None:
            i += 1
            continue
        value, first, last = _extended(tokens, *hit, today)
        found.append((value, tokens[first].start, tokens[last].end))
        i = last + 1
    return found


def _norm(tokens: Sequence[Token], i: int) -> str:
    return tokens[i].norm if 0 <= i < len(tokens) else ""


def _week_monday(tokens: Sequence[Token], i: int, today: date) -> tuple[date, int, int] | None:
    """The Monday of "nächste woche", "diese woche", "übernächste woche", "next week",
    "(the) week after next" whose week word is tokens[i]: (Monday, first, last index)."""
    if tokens[i].norm not in _WEEK:
        return None
    before = _norm(tokens, i - 1)
    this_monday = today - timedelta(days=today.weekday())
    if (_norm(tokens, i + 1), _norm(tokens, i + 2)) == ("after", "next"):
        return this_monday + timedelta(days=14), i - (before == "the"), i + 2
    if before in _NEXT:
        return this_monday + timedelta(days=7), i - 1, i
    if before in _AFTER_NEXT:
        return this_monday + timedelta(days=14), i - 1, i
    if before in _THIS:  # "diese woche": its Monday, like "nächste"
        return this_monday, i - 1, i
    return None


def _weekday(tokens: Sequence[Token], i: int, today: date) -> tuple[date, int, int] | None:
    """A weekday at tokens[i] with what is said before it ("nächsten", "übernächsten", "bis")
    and after it ("after next")."""
    word = tokens[i].norm
    if word not in _WEEKDAYS:
        return None
    before = _norm(tokens, i - 1)
    ahead = (_WEEKDAYS[word] - today.weekday()) % 7
    after_next = before in _AFTER_NEXT or (_norm(tokens, i + 1), _norm(tokens, i + 2)) == (
        "after", "next")
    if ahead == 0 and (before in _NEXT or before in _UNTIL or after_next):
        ahead = 7
    if after_next:  # "übernächsten freitag", "friday after next": a week after the next one
        ahead += 7
    first = i - 1 if before in _NEXT | _AFTER_NEXT | _THIS else i  # "this friday"
    last = i + 2 if before not in _AFTER_NEXT and after_next else i
    return today + timedelta(days=ahead), first, last


def _span(tokens: Sequence[Token], i: int) -> int | None:
    """The days of "zwei wochen", "3 tagen", "a week" starting at tokens[i] (None if none)."""
    unit = _SPAN_DAYS.get(_norm(tokens, i + 1))
    if unit is None or i >= len(tokens):
        return None
    count = _SPAN_COUNTS.get(tokens[i].norm)
    if count is None and tokens[i].norm.isdigit() and len(tokens[i].norm) <= 2:
        count = int(tokens[i].norm)
    return count * unit if count else None


# "ende nächster woche" is its Friday (a working week's end), "anfang der woche" its Monday
_WEEK_PARTS = {"ende": 4, "end": 4, "mitte": 2, "middle": 2, "anfang": 0, "beginning": 0,
               "start": 0}
_WEEK_PART_JOINERS = {"der", "of", "the"}


def _week_part(tokens: Sequence[Token], i: int, today: date) -> tuple[date, int, int] | None:
    """The day of "ende nächster woche", "end of next week", "ende der woche" (this week's
    Friday), "anfang übernächster woche", "mitte dieser woche" whose first word is tokens[i]."""
    k = i + 1
    while _norm(tokens, k) in _WEEK_PART_JOINERS:
        k += 1
    if _norm(tokens, k) in _WEEK and _norm(tokens, k - 1) in _WEEK_PART_JOINERS:
        this_monday = today - timedelta(days=today.weekday())  # "ende der woche": this week
        return this_monday + timedelta(days=_WEEK_PARTS[tokens[i].norm]), i, k
    week = _week_monday(tokens, k + 1, today) if k + 1 < len(tokens) else None
    if week is None or week[1] != k:
        return None
    return week[0] + timedelta(days=_WEEK_PARTS[tokens[i].norm]), i, week[2]


def _day_at(tokens: Sequence[Token], i: int, today: date) -> tuple[date, int, int] | None:
    """The day said from tokens[i] on: (day, first, last token index), or None."""
    word = tokens[i].norm
    before = _norm(tokens, i - 1)
    if word in _WEEK_PARTS:
        return _week_part(tokens, i, today)
    # "a week from monday", "two weeks from today": that day, so many days later
    days = _span(tokens, i)
    if days is not None and _norm(tokens, i + 2) == "from" and i + 3 < len(tokens):
        base = _day_at(tokens, i + 3, today)
        if base is not None and base[1] == i + 3:
            return base[0] + timedelta(days=days), i, base[2]
    if word in _DAY_OFFSETS:
        if word == "morgen" and before in _NOT_A_DAY_AFTER:
            return None
        if word == "tomorrow" and (_norm(tokens, i - 2), before) == ("day", "after"):
            return today + timedelta(days=2), i - 2, i
        return today + timedelta(days=_DAY_OFFSETS[word]), i, i
    if word in _WEEKDAYS:
        return _weekday(tokens, i, today)
    week = _week_monday(tokens, i, today)
    if week is not None:
        return week
    if word in _WEEKEND and before in _WEEKEND_BEFORE:
        return _weekend(today, before in _NEXT), i - 1 if before in _NEXT | _THIS else i, i
    if word == "in" and i + 2 < len(tokens):  # "in zwei wochen", "in 3 days"
        days = _span(tokens, i + 1)
        if days is not None:
            return today + timedelta(days=days), i, i + 2
    return None


_WEEKDAY_JOINERS = {"am", "on", "den"}  # "nächste woche am mittwoch", "next week on wednesday"
_WEEK_JOINERS = {"in", "der", "of"}  # "mittwoch in der nächsten woche"


def _extended(tokens: Sequence[Token], value: date, first: int, last: int, today: date,
              ) -> tuple[date, int, int]:
    """A day with what follows it: a weekday after a week ("nächste woche mittwoch"), a week
    after a weekday ("wednesday next week"), a span after a day ("montag in einer woche",
    "heute in zwei wochen")."""
    word = tokens[last].norm
    k = last + 1
    while _norm(tokens, k) in _WEEKDAY_JOINERS:
        k += 1
    if word in _WEEK and _norm(tokens, k) in _WEEKDAYS:  # value is that week's Monday
        return value + timedelta(days=_WEEKDAYS[tokens[k].norm]), first, k
    weekday = next((tokens[j].norm for j in range(first, last + 1)
                    if tokens[j].norm in _WEEKDAYS), None)
    if weekday is not None and first == last:  # a bare weekday: "mittwoch nächste woche"
        k = last + 1
        while _norm(tokens, k) in _WEEK_JOINERS:
            k += 1
        for j in (k, k + 1):
            week = _week_monday(tokens, j, today) if j < len(tokens) else None
            if week is not None and week[1] == k:
                return week[0] + timedelta(days=_WEEKDAYS[weekday]), first, week[2]
    # "montag in einer woche", "morgen in zwei wochen"
    if (word in _WEEKDAYS or word in _DAY_OFFSETS) and _norm(tokens, last + 1) == "in":
        days = _span(tokens, last + 2)
        if days is not None:
            return value + timedelta(days=days), first, last + 3
    return value, first, last


# "am wochenende", "this weekend", "übers wochenende", "next weekend"
_WEEKEND_BEFORE = _NEXT | _THIS | {"am", "an", "zum", "uebers", "ueber", "the", "on", "at",
                                   "over", "kommendes"}


def _weekend(today: date, next_one: bool) -> date:
    """The Saturday of this weekend (today on a Saturday or Sunday), or of the next one."""
    if next_one:
        return today + timedelta(days=12 - today.weekday())
    if today.weekday() >= 5:
        return today
    return today + timedelta(days=5 - today.weekday())


def day_of_month(day: int, today: date) -> date | None:
    """A day number said alone ("am 12.", "bis zum 18.", "on the 12th"): this month's when
    it is today or later, else next month's (None if that month has no such day)."""
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


_ORDINAL = re.compile(r"^(?P<d>[0-3]?\d)(?:st|nd|rd|th)?$")


def _day_numbers(text: str, tokens: Sequence[Token], today: date,
                 ) -> list[tuple[date, int, int]]:
    """Days said as a number, with or without a month name: "am 12.", "bis zum 18.",
    "12. dezember", "12 december", "december 12th", "on the 12th", "the 3rd of may"."""
    found = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        m = _ORDINAL.match(tok.norm)
        if m is None or not 1 <= int(m.group("d")) <= 31:
            continue
        day, ordinal = int(m.group("d")), not tok.norm.isdigit()
        dot = text[tok.end : tok.end + 1] == "." and not text[tok.end + 1 : tok.end + 2].isdigit()
        before = tokens[i - 1].norm if i else ""
        after, k = (tokens[i + 1].norm if i + 1 < n else ""), i + 1
        if after == "of" and i + 2 < n and tokens[i + 2].norm in _MONTHS:
            after, k = tokens[i + 2].norm, i + 2
        # "12. dezember", "12th december", "3rd of may", "17 December", "am 17 dezember"
        # (a bare "12 may" is no date: "12 may be enough")
        if after in _MONTHS and (dot or ordinal or after != "may"):
            value, k = _with_year(text, tokens, k, day, _MONTHS[after], today)
            if value is not None:
                found.append((value, tok.start, tokens[k].end))
            continue
        # "december 12th", "december 12" (English only; not "im dezember 12 masken")
        # "dec 15 7pm", "jan 12, 2027": any month word before a year or a clock time
        if before in _MONTHS and before not in ("may", "mai") and (ordinal or (
                before not in _DE_MONTHS and (after == "" or after in _FILLERS)) or _year(
                text, tokens, i + 1, today) or _CLOCK.match(text[tok.end:].lstrip(" ,"))):
            value, k = _with_year(text, tokens, i, day, _MONTHS[before], today)
            if value is not None:
                found.append((value, tokens[i - 1].start, tokens[k].end))
            continue
        if after in _NOT_A_DAY_BEFORE or before not in _DAY_NUMBER_AFTER:
            continue
        if dot or ordinal:
            value = day_of_month(day, today)
            if value is not None:
                found.append((value, tok.start, tok.end + (1 if dot else 0)))
    return found


def _year(text: str, tokens: Sequence[Token], i: int, today: date) -> int | None:
    """The year at tokens[i] when it is one written after a date ("2027" in "12 January
    2027", "December 17, 2026"): last year to ten years ahead, only a space or comma before."""
    if i >= len(tokens) or not re.fullmatch(r"\d{4}", tokens[i].norm):
        return None
    if text[tokens[i - 1].end : tokens[i].start].strip(" ,"):
        return None
    year = int(tokens[i].norm)
    return year if today.year - 1 <= year <= today.year + 10 else None


def _with_year(text: str, tokens: Sequence[Token], last: int, day: int, month: int,
               today: date) -> tuple[date | None, int]:
    """The date of a day and month whose last token is tokens[last], with the year written
    after it when there is one: (date or None, index of its last token)."""
    year = _year(text, tokens, last + 1, today)
    if year is None:
        return yearless_date(day, month, today), last
    try:
        return date(year, month, day), last + 1
    except ValueError:
        return None, last


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


# "24.12", "am 17.12" without the final dot: a date only where no amount or decimal is meant
_DATE_NO_DOT = re.compile(r"(?<![\w.,€$£])(?P<d>[0-3]?\d)\.(?P<mo>[01]?\d)(?![\w€$£%]|[.,:]\d)")
# "3.12 euro", "24.12 €", "2.50 kg": an amount or a measure; "über 24.12", "kostet 3.12"
_NO_DATE_AFTER = {"euro", "eur", "euros", "cent", "cents", "ct", "dollar", "dollars", "pfund",
                  "pound", "pounds", "quid", "bucks", "tacken", "uhr", "h", "prozent",
                  "percent", "kg", "g", "l", "liter", "litre", "litres", "liters", "km", "m",
                  "cm", "mm", "ml", "stueck", "stk", "mal", "x", "mio", "million", "millionen"}
_NO_DATE_BEFORE = {"ueber", "uber", "fuer", "fur", "for", "of", "kostet", "kosten", "costs",
                   "cost", "preis", "price", "betrag", "amount", "eur", "euro", "version", "v",
                   "nr", "nummer", "number", "no", "kapitel", "seite", "page", "paragraph",
                   "abschnitt", "je", "per", "pro", "mal", "x", "plus", "minus"}


def _dates_without_dot(text: str, today: date, taken: list[tuple[date, int, int]],
                       ) -> list[tuple[date, int, int]]:
    """"24.12", "24.12 bitte", "elternabende am 17.12": day and month (a month of two digits,
    or after "am", "bis", "zum", "on" …) without the final dot – not next to money, a unit
    or a decimal ("3.12 euro", "gutschein über 24.12", "2.5 kg", "version 2.0.1")."""
    found = []
    amounts: list[tuple[int, int]] | None = None
    for m in _DATE_NO_DOT.finditer(text):
        if any(s < m.end() and m.start() < e for _, s, e in taken):
            continue
        words_before = re.findall(r"[\w€$£§]+", text[: m.start()].lower())
        before = _fold(words_before[-1]) if words_before else ""
        words_after = re.findall(r"[\w€$£%]+", text[m.end() :].lower())
        after = _fold(words_after[0]) if words_after else ""
        if after in _NO_DATE_AFTER or before in _NO_DATE_BEFORE or text[m.end():].lstrip(
                ).startswith(("€", "$", "£", "%")) or text[: m.start()].rstrip().endswith(
                ("€", "$", "£", "§", "#")):
            continue
        if len(m.group("mo")) < 2 and before not in _DAY_NUMBER_AFTER | _UNTIL | {"ab"}:
            continue  # "1.5" is a decimal; "am 1.5" a date
        if amounts is None:
            amounts = [(a["start"], a["end"]) for a in numbers.find_all(text, tokenize(text))
                       if a["entity"] == "amount"]
        if any(s < m.end() and m.start() < e for s, e in amounts):
            continue
        value = yearless_date(int(m.group("d")), int(m.group("mo")), today)
        if value is not None:
            found.append((value, m.start(), m.end()))
    return found


def _fold(word: str) -> str:
    return word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")


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
    return found + _dates_without_dot(text, today, found)


# a clock time said in words: "halb acht", "viertel nach 7", "sieben uhr", "half past seven"
_HOUR_SAID = (r"\d{1,2}|eins?|zwei|drei|vier|fünf|fuenf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
              r"zwoelf|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve")
# (a bare hour after "um"/"at" only with its daytime: "abends um 7")
_SPOKEN_CLOCK = re.compile(
    rf"(?<![\w.:,])(?P<part>halb|viertel\s+nach|viertel\s+vor|(?:a\s+)?quarter\s+past|"
    rf"(?:a\s+)?quarter\s+to|half\s+past)\s+(?P<hour>{_HOUR_SAID})\b"
    rf"(?:\s+(?:uhr\b|o['’]?\s?clock\b))?"
    rf"|(?<![\w.:,])(?P<word>{_HOUR_SAID.split('|', 1)[1]})\s+(?:uhr\b|o['’]?\s?clock\b)"
    rf"|(?<=\b(?:um|at)\s)(?P<bare>1[0-2]|0?[1-9])(?![\w.:,]|\s*(?:uhr|h|[ap]\.?m|o['’]))",
    re.IGNORECASE,
)
# (hours to add, minutes): "halb acht" is 7:30, "viertel vor acht" 7:45
_CLOCK_PARTS = {"halb": (-1, 30), "viertel nach": (0, 15), "viertel vor": (-1, 45),
                "quarter past": (0, 15), "quarter to": (-1, 45), "half past": (0, 30)}
# "7 uhr abends", "heute abend um halb acht", "seven o'clock in the evening": after noon
_AFTERNOON_WORDS = {"abend", "abends", "nachmittag", "nachmittags", "tonight"}
_AFTERNOON_AFTER = re.compile(
    r"\s*,?\s*(?:abends?|nachmittags?|am\s+abend|am\s+nachmittag|in\s+the\s+(?:evening|"
    r"afternoon)|tonight)\b", re.IGNORECASE)
# a word after "19 uhr 30" that keeps the 30 a minute ("19 uhr 30 am montag", not "… 30 leute")
_AFTER_MINUTES = _FILLERS | set(_DAY_OFFSETS) | set(_WEEKDAYS) | {"und", "and", "bis", "till"}


def impossible_date(text: str, today: date | None = None) -> str | None:
    """A date written in the text that names no day, as written ("29.02.2027", "31.04."; one
    without a year when neither this year nor next has it), or None – find_times leaves it
    out, with the clock time said with it ("29.02.2027 19:00" is no time at all)."""
    said = _impossible_dates(text, today or date.today())
    return text[said[0][1] : said[0][2]] if said else None


def _impossible_dates(text: str, today: date) -> list[tuple[None, int, int]]:
    """The spans of written dates that name no day (see impossible_date)."""
    found: list[tuple[None, int, int]] = []
    for m in _DATE.finditer(text):
        day, month = int(m.group("d")), int(m.group("mo"))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        year = int(m.group("y")) if m.group("y") else None
        years = [year + 2000 if year < 100 else year] if year is not None else [
            today.year, today.year + 1]
        if not any(_is_a_day(y, month, day) for y in years):
            found.append((None, m.start(), m.end()))
    return found


def _is_a_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _clocks(text: str) -> list[tuple[time, int, int]]:
    """Clock times of the text with their span: digits ("19:30", "7 uhr", "19 uhr 30",
    "7 pm") and words ("halb acht", "viertel nach sieben", "half past seven"); an hour
    from 1 to 11 said with "abends", "nachmittags", "in the evening" is after noon."""
    found = _spoken_clocks(text)
    for m in _CLOCK.finditer(text):
        clock = _digit_clock(text, m)
        if clock is not None and not any(s < clock[2] and clock[1] < e for _, s, e in found):
            found.append(clock)
    return sorted((_with_daytime(text, *clock) for clock in found), key=lambda c: c[1])


def _digit_clock(text: str, m: re.Match[str]) -> tuple[time, int, int] | None:
    """The clock time of a _CLOCK match with its span (None for German "5 am montag")."""
    if m.group("h2") is not None:
        return time(int(m.group("h2")), int(m.group("m2"))), m.start(), m.end()
    hour, minute, end = int(m.group("h")), int(m.group("m") or 0), m.end()
    suffix = m.group("suffix").lower().replace(".", "")
    if m.group("um") is not None:  # "19 uhr 30": minutes only after "uhr" without minutes
        following = re.findall(r"[\w.]+", text[m.end():])[:1]
        if suffix == "uhr" and m.group("m") is None and (
                not following or _fold(following[0].lower()) in _AFTER_MINUTES):
            minute = int(m.group("um"))
        else:
            end = m.end("suffix")
    following = text[end:].split(maxsplit=1)
    if suffix == "am" and following and following[0].lower() in _GERMAN_AFTER_AM:
        return None  # "5 am montag": German "am", not a.m.
    if suffix in ("am", "pm"):
        if hour == 0 or hour > 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return time(hour, minute), m.start(), end


def _spoken_clocks(text: str) -> list[tuple[time, int, int]]:
    """Clock times said in words: "halb acht" 7:30, "viertel vor 8" 7:45, "sieben uhr"
    7:00, "quarter past seven" 7:15 – an hour as said, like "7 uhr"."""
    found = []
    for m in _SPOKEN_CLOCK.finditer(text):
        if m.group("bare") is not None:
            if _afternoon_said(text, m.start(), m.end()):  # "morgen abend um 7", "um 7 abends"
                found.append((time(int(m.group("bare")), 0), m.start(), m.end()))
            continue
        said = m.group("hour") or m.group("word")
        hour = int(said) if said.isdigit() else numbers.german_number_word(
            _fold(said.lower())) or 1  # "ein", "eins"
        part = " ".join(m.group("part").lower().split()).removeprefix("a ") if m.group(
            "part") else None
        if hour > 24 or (part is None and hour > 23) or (part and not 1 <= hour <= 24):
            continue
        add_hours, minute = _CLOCK_PARTS.get(part, (0, 0))
        found.append((time((hour + add_hours) % 24, minute), m.start(), m.end()))
    return found


def _with_daytime(text: str, clock: time, start: int, end: int) -> tuple[time, int, int]:
    """The clock time after noon when the words around it say so ("7 uhr abends",
    "heute abend um 8 uhr"), with a daytime after it taken into its span."""
    after = _AFTERNOON_AFTER.match(text, end)
    if not _afternoon_said(text, start, end):
        return clock, start, end
    if not 1 <= clock.hour <= 11 or _said_with_am_pm(text[start:end]):
        return clock, start, after.end() if after else end
    return clock.replace(hour=clock.hour + 12), start, after.end() if after else end


def _afternoon_said(text: str, start: int, end: int) -> bool:
    """Whether "abends", "nachmittags", "in the evening" … is said right around text[start:end]."""
    words_before = re.findall(r"\w+", text[max(0, start - 20) : start].lower())[-2:]
    return _AFTERNOON_AFTER.match(text, end) is not None or bool(
        _AFTERNOON_WORDS & set(words_before))


def _said_with_am_pm(said: str) -> bool:
    return re.search(r"\d\s?(?:am|pm|a\.m\.|p\.m\.)", said, re.IGNORECASE) is not None


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
    dates = _dates(text, today)
    numbered = [d for d in _day_numbers(text, tokens, today)
                if not any(s < d[2] and d[1] < e for _, s, e in dates)]
    days: list[tuple[date | None, int, int]] = sorted(
        _days(tokens, today) + dates + numbered + _impossible_dates(text, today),
        key=lambda d: d[1])
    clocks = _clocks(text)
    found = []
    used: set[int] = set()
    for day, d_start, d_end in days:
        clock = next(((c, s, e) for k, (c, s, e) in enumerate(clocks) if k not in used and (
            (s >= d_end and _joinable(text, d_end, s)) or (e <= d_start and
                                                           _joinable(text, e, d_start)))), None)
        if day is None:  # "29.02.2027 19:00": no day, and its clock time is not today's
            used.update([clocks.index(clock)] if clock else [])
            continue
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
