"""Public holidays of the city's German state, by name in the user's language (`holidays`)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

STATES: tuple[str, ...] = tuple(holidays.Germany.subdivisions)
LANGUAGES = {"de": "de", "en": "en_US"}


@lru_cache(maxsize=32)
def _calendar(state: str, lang: str, year: int) -> holidays.HolidayBase:
    """One year's public holidays of a state, named in a language."""
    return holidays.country_holidays(
        "DE", subdiv=state, years=year, language=LANGUAGES.get(lang, "de")
    )


def holiday_name(day: date, state: str, lang: str) -> str | None:
    """The public holiday on a day in a state ('Erster Weihnachtstag'), or None."""
    return _calendar(state, lang, day.year).get(day)
