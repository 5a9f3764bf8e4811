"""The German and English catalogs are complete for every text the code uses."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import catalog_keys, normalise_language, translations, translator
from storage.jobs import EMPLOYMENT_TYPES, JOB_FIELDS
from storage.users import ROLES

ROOT = Path(__file__).resolve().parent.parent
LITERAL_KEY = re.compile(r"""(?:\bt|ctx\.t|Reply\(ctx\.t)\(\s*"([a-z_]+\.[a-z_.]+)\"""")
SLOT_KEY = re.compile(r"""Slot\(\s*"[a-z_]+",\s*"([a-z_]+\.[a-z_.]+)\"""")
OTHER_KEY = re.compile(r"""(?:InviteError|Invalid|Choice\([^,]+,)\(?\s*"([a-z_]+\.[a-z_.]+)\"""")


def keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for pattern in (LITERAL_KEY, SLOT_KEY, OTHER_KEY):
                keys.update(pattern.findall(source))
            keys.update(re.findall(r"""raise InviteError\("([a-z_.]+)"\)""", source))
            keys.update(re.findall(r"""menu_entry\("([a-z_.]+)\"""", source))
    keys |= {f"field.{f}" for f in JOB_FIELDS} | {f"etype.{e}" for e in EMPLOYMENT_TYPES}
    keys |= {f"roles.{r}" for r in ROLES} | {"jobs.status.open", "jobs.status.closed"}
    return keys


def test_the_scan_finds_the_keys():
    keys = keys_used_in_code()
    assert {"greet.text", "jobs.apply.ask_message", "claim.used", "menu.jobs"} <= keys


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_key_used_in_code_is_translated(language):
    missing = keys_used_in_code() - catalog_keys(language)
    assert not missing, f"{language} lacks {sorted(missing)}"


def test_both_catalogs_have_the_same_keys_and_placeholders():
    de, en = translations("de"), translations("en")
    assert catalog_keys("de") == catalog_keys("en")
    for key in catalog_keys("de"):
        fields_de = {f for _, f, _, _ in string.Formatter().parse(de.gettext(key)) if f}
        fields_en = {f for _, f, _, _ in string.Formatter().parse(en.gettext(key)) if f}
        assert fields_de == fields_en, key


def test_translator_fills_placeholders():
    assert translator("en")("jobs.page", shown="1–3", total=7) == "Positions 1–3 of 7."
    assert translator("de")("jobs.page", shown="1–3", total=7) == "Stellen 1–3 von 7."


@pytest.mark.parametrize(
    ("code", "expected"),
    [("de-AT", "de"), ("en_GB", "en"), ("EN", "en"), ("fr", "de"), (None, "de")],
)
def test_language_codes_are_normalised(code, expected):
    assert normalise_language(code) == expected


def test_count_one_takes_the_singular_where_the_catalog_has_one():
    de, en = translator("de"), translator("en")
    assert de("jobs.found", count=1, query="x") == "Ich habe 1 offene Stelle gefunden (x):"
    assert de("jobs.found", count=2, query="x") == "Ich habe 2 offene Stellen gefunden (x):"
    assert en("jobs.found", count=1, query="nursing") == "I found 1 open position (nursing):"
    assert en("evenings.message_sent", count=1) == "The message goes out to 1 parent."
    assert de("ppe.queue.more", count=1) == de("ppe.queue.more", count=2).replace("2", "1")
    for language in ("de", "en"):  # a singular is a variant of a key that exists
        for key in catalog_keys(language):
            if key.endswith(".one"):
                assert key.removesuffix(".one") in catalog_keys(language), key


def test_one_carton_is_said_in_the_singular():
    from handlers.ppe_text import pieces_text

    assert pieces_text(translator("en"), "en", "gloves", 100, packs=True).endswith(
        "(1 carton of 100)")
    assert pieces_text(translator("de"), "de", "gloves", 300, packs=True).endswith(
        "(3 Kartons à 100)")
