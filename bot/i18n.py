"""German and English texts through gettext catalogs (Babel), compiled in memory at start."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.dates import format_time as babel_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DOMAIN = "citybot"
LOCALE_DIR = Path(__file__).parent / "locales"

Translate = Callable[..., str]


def catalog_paths(language: str) -> list[Path]:
    """The .po files of a language: citybot.po and one citybot-<service>.po per service."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return sorted(folder.glob(f"{DOMAIN}*.po"))


def catalog_path(language: str) -> Path:
    """The platform's own .po file of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read_catalog(language: str) -> Catalog:
    """Every .po file of a language merged into one catalog (a key defined twice is an error)."""
    merged = Catalog(locale=language, domain=DOMAIN)
    for path in catalog_paths(language):
        with path.open("rb") as po_file:
            part = read_po(po_file, locale=language, domain=DOMAIN)
        for message in part:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{path.name}: {message.id!r} is defined in another catalog too")
            merged[message.id] = message
    return merged


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of a language (compiled once per process)."""
    buffer = io.BytesIO()
    write_mo(buffer, _read_catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def catalog_keys(language: str) -> set[str]:
    """Every message id with a translation in a language's catalogs."""
    return {str(m.id) for m in _read_catalog(language) if m.id and m.string}


MAX_LABEL_LEN = 40  # texts this short without placeholders can be button labels


@cache
def _label_keys() -> dict[str, frozenset[str]]:
    """Every short one-line text of either language, in lower case -> the message ids with it."""
    keys: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for message in _read_catalog(language):
            text = str(message.string or "") if isinstance(message.string, str) else ""
            if message.id and text and len(text) <= MAX_LABEL_LEN and not set("{\n") & set(text):
                keys.setdefault(text.lower(), set()).add(str(message.id))
    return {text: frozenset(ids) for text, ids in keys.items()}


def same_label(shown: str, typed: str) -> bool:
    """Whether a typed text is a shown button label in the other language ('more' for a list's
    'Mehr' after /language en): both are the text of one message id."""
    table = _label_keys()
    return bool(table.get(shown.lower(), frozenset()) & table.get(typed.lower(), frozenset()))


def normalise_language(code: str | None, default: str = "de") -> str:
    """'de-AT', 'en_GB', 'EN' -> 'de'/'en'; anything else -> default."""
    if not code:
        return default
    short = code.replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else default


ONE = ".one"  # "jobs.found.one": the text of "jobs.found" for count=1, where it differs


def translator(language: str) -> Translate:
    """t(key, **values): the text of key in the language, with {placeholders} filled.

    With count=1 a key's singular "<key>.one" is used where the catalog has one ("1 offene
    Stelle", not "1 offene Stellen").
    """
    catalog = translations(normalise_language(language))

    def t(key: str, **values: object) -> str:
        text = catalog.gettext(key)
        if values.get("count") == 1:
            one = catalog.gettext(key + ONE)
            text = text if one == key + ONE else one
        return text.format(**values) if values else text

    return t


# English as written in a German city: day first and a 24-hour clock ("1 Dec 2026, 18:00"),
# like the evenings' and the opening hours' times – not the US "Dec 1, 2026, 6:00 PM"
BABEL_LOCALES = {"de": "de_DE", "en": "en_GB"}


def format_day(day: date | datetime, language: str) -> str:
    """A date in the user's language, day first ("15.12.2026" / "15 Dec 2026")."""
    return format_date(day, "medium", locale=BABEL_LOCALES[normalise_language(language)])


def format_time(moment: datetime, language: str, tz: ZoneInfo) -> str:
    """A UTC time shown in the city's time zone, in the user's language, to the minute
    ("01.12.2026, 18:00" / "1 Dec 2026, 18:00")."""
    locale = Locale.parse(BABEL_LOCALES[normalise_language(language)])
    local = moment.astimezone(tz)
    return (str(locale.datetime_formats["medium"])
            .replace("{1}", format_date(local, "medium", locale=locale))
            .replace("{0}", babel_time(local, "short", locale=locale)))
