"""The time entity: German and English dates/times resolved in the city's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu import EmbeddedNLU
from nlu.normalize import tokenize
from nlu.timeparse import find_times


def thursday_morning(tz: ZoneInfo) -> datetime:
    return datetime(2026, 11, 26, 10, 0, tzinfo=tz)  # Thursday, 26 Nov 2026


def times(text: str, timezone: str = "Europe/Berlin") -> list[tuple[str, str]]:
    found = find_times(text, tokenize(text), timezone, thursday_morning)
    return [(e["value"], text[e["start"] : e["end"]]) for e in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen um 18 uhr", [("2026-11-27T18:00:00+01:00", "morgen um 18 uhr")]),
        ("next thursday", [("2026-12-03", "next thursday")]),
        ("am freitag", [("2026-11-27", "freitag")]),
        ("nächste woche", [("2026-11-30", "nächste woche")]),
        ("naechste woche", [("2026-11-30", "naechste woche")]),
        ("am 12.3. um 19:30", [("2027-03-12T19:30:00+01:00", "12.3. um 19:30")]),
        ("tomorrow at 7pm", [("2026-11-27T19:00:00+01:00", "tomorrow at 7pm")]),
        ("day after tomorrow", [("2026-11-28", "day after tomorrow")]),
        ("übermorgen", [("2026-11-28", "übermorgen")]),
        ("heute abend um 20 uhr", [("2026-11-26T20:00:00+01:00", "heute abend um 20 uhr")]),
        ("6 pm", [("2026-11-26T18:00:00+01:00", "6 pm")]),
        ("am 1.7.2027", [("2027-07-01", "1.7.2027")]),
        ("wir brauchen 5 am montag", [("2026-11-30", "montag")]),  # German "am", not a.m.
        ("at 7 am tomorrow", [("2026-11-27T07:00:00+01:00", "7 am tomorrow")]),
        ("am donnerstag um 19 uhr", [("2026-11-26T19:00:00+01:00", "donnerstag um 19 uhr")]),
        ("bis donnerstag", [("2026-12-03", "donnerstag")]),  # a deadline: not today
        ("by thursday", [("2026-12-03", "thursday")]),
        ("bis freitag", [("2026-11-27", "freitag")]),
    ],
)
def test_dates_and_times_resolve(text: str, expected: list[tuple[str, str]]):
    assert times(text) == expected


@pytest.mark.parametrize("text", ["guten morgen", "good morning", "wir brauchen 200 masken",
                                  "12,50 euro", "version 2.0.1", "klasse 7b", "am 31.2."])
def test_no_time_where_there_is_none(text: str):
    assert times(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a day number with a dot after am / zum / bis zum: this month's, or next month's if past
        ("elternabend am 12.", [("2026-12-12", "12.")]),
        ("wir brauchen 10 schutzbrillen bis zum 18.", [("2026-12-18", "18.")]),
        ("bis zum 30.", [("2026-11-30", "30.")]),
        ("am 26.", [("2026-11-26", "26.")]),  # today
        ("bis zum 26. um 18 uhr", [("2026-11-26T18:00:00+01:00", "26. um 18 uhr")]),
        # a day and a month name
        ("12. dezember", [("2026-12-12", "12. dezember")]),
        ("am 12. Dezember", [("2026-12-12", "12. Dezember")]),
        ("am 3. märz um 19 uhr", [("2027-03-03T19:00:00+01:00", "3. märz um 19 uhr")]),
        ("december 12th at 7 pm", [("2026-12-12T19:00:00+01:00", "december 12th at 7 pm")]),
        ("the 3rd of may", [("2027-05-03", "3rd of may")]),
        # without dot or ordinal too ("12 may" excepted: "12 may be enough")
        ("parent evenings on 17 December", [("2026-12-17", "17 December")]),
        ("am 17 dezember", [("2026-12-17", "17 dezember")]),
        ("17 December 7pm", [("2026-12-17T19:00:00+01:00", "17 December 7pm")]),
        # English ordinals after on / by / the
        ("on the 12th", [("2026-12-12", "12th")]),
        ("by the 1st", [("2026-12-01", "1st")]),
        # spans ahead: that day
        ("in zwei wochen", [("2026-12-10", "in zwei wochen")]),
        ("in two weeks", [("2026-12-10", "in two weeks")]),
        ("in 3 tagen", [("2026-11-29", "in 3 tagen")]),
        ("in einer woche", [("2026-12-03", "in einer woche")]),
        # this week: its Monday (as "nächste woche" gives next week's Monday)
        ("diese woche", [("2026-11-23", "diese woche")]),
        ("this week", [("2026-11-23", "this week")]),
        # the weekend: its Saturday
        ("am wochenende", [("2026-11-28", "wochenende")]),
        ("this weekend", [("2026-11-28", "this weekend")]),
        ("nächstes wochenende", [("2026-12-05", "nächstes wochenende")]),
        ("next weekend", [("2026-12-05", "next weekend")]),
    ],
)
def test_day_numbers_month_names_spans_and_weeks(text: str, expected: list[tuple[str, str]]):
    assert times(text) == expected


def test_the_weekend_said_on_a_sunday_is_today():
    def sunday(tz: ZoneInfo) -> datetime:
        return datetime(2026, 11, 29, 10, 0, tzinfo=tz)

    text = "am wochenende"
    assert [e["value"] for e in find_times(text, tokenize(text), "Europe/Berlin", sunday)] == [
        "2026-11-29"]


@pytest.mark.parametrize("text", [
    "ich brauche 12.",  # no am / zum / bis before the number
    "jobs ab 18.",  # an age
    "am 31.",  # November has no 31st
    "my son is in the 9th grade",
    "im dezember 12 masken",  # German: a month name and then a count
    "12 may",  # a day before a month name needs a dot or an ordinal
    "zum 2. mal",  # a count of times
    "on the 2nd floor",
    "am 12.30 uhr",  # a clock time (found as such, not as the 12th)
])
def test_no_day_number_where_there_is_none(text: str):
    assert all(len(value) > 10 for value, _ in times(text))


def test_summer_time_and_other_zones():
    assert times("am 1.7. um 9 uhr") == [("2027-07-01T09:00:00+02:00", "1.7. um 9 uhr")]
    assert times("tomorrow 9:15", "America/New_York") == [
        ("2026-11-27T09:15:00-05:00", "tomorrow 9:15")
    ]


def test_parse_result_carries_the_time(nlu_model: EmbeddedNLU):
    nlu_model.extractor.clock = thursday_morning
    try:
        result = nlu_model.parse_sync("sign me up for the parent evening on thursday at 7 pm")
    finally:
        nlu_model.extractor.clock = None
    assert result["intent"]["name"] == "join_parent_evening"
    found = [e for e in result["entities"] if e["entity"] == "time"]
    assert [(e["value"], e["extractor"]) for e in found] == [
        ("2026-11-26T19:00:00+01:00", "TimeParser")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bis 20.11.", "2026-11-20"),  # six days back: this year's, a past date (refused as such)
        ("am 28.9.", "2026-09-28"),  # 59 days back
        ("am 26.9.", "2027-09-26"),  # 61 days back: next year's
        ("am 26.11.", "2026-11-26"),  # today
        ("am 29.2.", None),  # no such day this year
    ],
)
def test_a_date_without_a_year_is_this_years_up_to_sixty_days_back(text: str, expected):
    found = times(text)
    assert [value for value, _ in found] == ([expected] if expected else [])
