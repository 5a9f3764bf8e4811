"""Round 5 (QA, said on Monday 7 December 2026): the week after the next one ("übernächsten
montag", "friday after next"), a weekday a week later ("montag in einer woche", "a week from
monday"), a weekday of next week ("nächste woche mittwoch", "next week wednesday") and a day
and month without the final dot ("24.12", "elternabende am 17.12") – but no date in money,
measures or decimals ("3.12 euro", "gutschein über 24.12", "2.5 kg")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.normalize import tokenize
from nlu.timeparse import find_times


def monday_evening(tz: ZoneInfo) -> datetime:
    return datetime(2026, 12, 7, 21, 0, tzinfo=tz)  # Monday, 7 Dec 2026


def times(text: str) -> list[tuple[str, str]]:
    found = find_times(text, tokenize(text), "Europe/Berlin", monday_evening)
    return [(e["value"], text[e["start"] : e["end"]]) for e in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # QA's messages
        ("übernächsten montag", [("2026-12-21", "übernächsten montag")]),
        ("montag in einer woche", [("2026-12-14", "montag in einer woche")]),
        ("a week from monday", [("2026-12-14", "a week from monday")]),
        ("übernächsten freitag", [("2026-12-18", "übernächsten freitag")]),
        ("friday after next", [("2026-12-18", "friday after next")]),
        ("nächste woche mittwoch", [("2026-12-16", "nächste woche mittwoch")]),
        ("next week wednesday", [("2026-12-16", "next week wednesday")]),
        # the same said otherwise
        ("uebernaechsten montag", [("2026-12-21", "uebernaechsten montag")]),
        ("mittwoch nächste woche", [("2026-12-16", "mittwoch nächste woche")]),
        ("wednesday next week", [("2026-12-16", "wednesday next week")]),
        ("next week on wednesday", [("2026-12-16", "next week on wednesday")]),
        ("mittwoch in der nächsten woche", [("2026-12-16", "mittwoch in der nächsten woche")]),
        ("nächste woche am mittwoch um 18 uhr",
         [("2026-12-16T18:00:00+01:00", "nächste woche am mittwoch um 18 uhr")]),
        ("diese woche freitag", [("2026-12-11", "diese woche freitag")]),
        ("übernächste woche", [("2026-12-21", "übernächste woche")]),
        ("the week after next", [("2026-12-21", "the week after next")]),
        ("freitag in zwei wochen", [("2026-12-25", "freitag in zwei wochen")]),
        ("two weeks from friday", [("2026-12-25", "two weeks from friday")]),
        ("heute in einer woche", [("2026-12-14", "heute in einer woche")]),
        # unchanged
        ("nächsten montag", [("2026-12-14", "nächsten montag")]),
        ("next friday", [("2026-12-11", "next friday")]),
        ("in einer woche", [("2026-12-14", "in einer woche")]),
        ("nächste woche", [("2026-12-14", "nächste woche")]),
        ("bis montag", [("2026-12-14", "montag")]),
    ],
)
def test_weeks_after_next_and_weekdays_of_a_week(text: str, expected: list[tuple[str, str]]):
    assert times(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.12", [("2026-12-24", "24.12")]),
        ("24.12 bitte", [("2026-12-24", "24.12")]),
        ("elternabende am 17.12", [("2026-12-17", "17.12")]),
        ("elternabende am 17.12 um 19 uhr",
         [("2026-12-17T19:00:00+01:00", "17.12 um 19 uhr")]),
        ("bis 20.12 bitte", [("2026-12-20", "20.12")]),
        ("am 1.5", [("2027-05-01", "1.5")]),  # a one-digit month after "am"
        ("am 17.12.", [("2026-12-17", "17.12.")]),  # with the dot, as before
    ],
)
def test_a_day_and_month_without_the_final_dot(text: str, expected: list[tuple[str, str]]):
    assert times(text) == expected


@pytest.mark.parametrize("text", [
    "3.12 euro", "3.12€", "€3.12", "gutschein über 24.12", "kostet 3.12", "2.5 kg",
    "ich brauche 2.5 kartons", "1.5", "version 2.0.1", "12.30", "10.000 masken",
    "redeem 3.12 from K7QF-2M9X", "31.11",
])
def test_no_date_in_money_measures_or_decimals(text: str):
    assert all("T" in value for value, _ in times(text)), times(text)
