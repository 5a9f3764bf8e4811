"""Round 38 (QA, said on Monday 7 December 2026): clock times in words ("übermorgen um halb
acht", "viertel vor acht", "half past seven"), minutes after "uhr" ("19 uhr 30"), an hour with
"abends" after noon ("7 uhr abends"), the end of a week ("ende nächster woche") and a written
date that names no day ("29.02.2027 19:00": no time at all, `impossible_date`)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.normalize import tokenize
from nlu.timeparse import find_times, impossible_date


def monday_evening(tz: ZoneInfo) -> datetime:
    return datetime(2026, 12, 7, 21, 0, tzinfo=tz)  # Monday, 7 Dec 2026


def times(text: str) -> list[tuple[str, str]]:
    found = find_times(text, tokenize(text), "Europe/Berlin", monday_evening)
    return [(e["value"], text[e["start"] : e["end"]]) for e in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # QA's messages ("halb acht" alone is 7:30, as "7 uhr" is 7:00)
        ("übermorgen um halb acht", [("2026-12-09T07:30:00+01:00", "übermorgen um halb acht")]),
        ("morgen um halb 8", [("2026-12-08T07:30:00+01:00", "morgen um halb 8")]),
        ("heute um halb acht abends",
         [("2026-12-07T19:30:00+01:00", "heute um halb acht abends")]),
        ("17.12. 19 Uhr 30", [("2026-12-17T19:30:00+01:00", "17.12. 19 Uhr 30")]),
        ("morgen 19 uhr 30", [("2026-12-08T19:30:00+01:00", "morgen 19 uhr 30")]),
        ("morgen 7 uhr abends", [("2026-12-08T19:00:00+01:00", "morgen 7 uhr abends")]),
        # the same said otherwise
        ("viertel nach sieben", [("2026-12-07T07:15:00+01:00", "viertel nach sieben")]),
        ("morgen um viertel vor acht abends",
         [("2026-12-08T19:45:00+01:00", "morgen um viertel vor acht abends")]),
        ("morgen um sieben uhr", [("2026-12-08T07:00:00+01:00", "morgen um sieben uhr")]),
        ("heute abend um 8 uhr", [("2026-12-07T20:00:00+01:00", "heute abend um 8 uhr")]),
        ("morgen abend um 7", [("2026-12-08T19:00:00+01:00", "morgen abend um 7")]),
        ("morgen früh um halb acht", [("2026-12-08T07:30:00+01:00", "morgen früh um halb acht")]),
        ("tomorrow at half past seven",
         [("2026-12-08T07:30:00+01:00", "tomorrow at half past seven")]),
        ("quarter to eight tomorrow", [("2026-12-08T07:45:00+01:00", "quarter to eight tomorrow")]),
        ("at 7 in the evening", [("2026-12-07T19:00:00+01:00", "7 in the evening")]),
        # unchanged
        ("morgen um 7 uhr", [("2026-12-08T07:00:00+01:00", "morgen um 7 uhr")]),
        ("morgen um 7", [("2026-12-08", "morgen")]),
        ("morgen 7 pm", [("2026-12-08T19:00:00+01:00", "morgen 7 pm")]),
        ("wir treffen uns um 7", []),
        ("morgen um 19 uhr 30 leute", [("2026-12-08T19:00:00+01:00", "morgen um 19 uhr")]),
        ("5 am montag", [("2026-12-07", "montag")]),
    ],
)
def test_clock_times_in_words_and_with_their_daytime(text: str, expected):
    assert times(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ende nächster woche", [("2026-12-18", "ende nächster woche")]),
        ("bis ende der nächsten woche", [("2026-12-18", "ende der nächsten woche")]),
        ("end of next week", [("2026-12-18", "end of next week")]),
        ("ende der woche", [("2026-12-11", "ende der woche")]),
        ("anfang nächster woche", [("2026-12-14", "anfang nächster woche")]),
        ("am ende", []),
    ],
)
def test_the_end_of_a_week_is_its_friday(text: str, expected):
    assert times(text) == expected


def test_a_date_that_names_no_day_is_no_time_and_is_said():
    assert times("29.02.2027 19:00") == [], "not today at 19:00"
    assert impossible_date("29.02.2027 19:00", date(2026, 12, 7)) == "29.02.2027"
    assert impossible_date("am 31.04. um 8 uhr", date(2026, 12, 7)) == "31.04."
    assert impossible_date("29.02.2028 19:00", date(2026, 12, 7)) is None
    assert impossible_date("am 12.12.", date(2026, 12, 7)) is None
    assert times("29.02.2028 19:00") == [("2028-02-29T19:00:00+01:00", "29.02.2028 19:00")]
