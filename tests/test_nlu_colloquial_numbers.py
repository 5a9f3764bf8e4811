"""Money and quantities in everyday words (issue 16): slang, banknotes, euros and cents in words."""

from __future__ import annotations

import pytest

from nlu.normalize import tokenize
from nlu.numbers import find_amounts, find_quantities


def amounts(text: str) -> list[tuple[int, str]]:
    return [(e["value"], text[e["start"] : e["end"]]) for e in find_amounts(text, tokenize(text))]


@pytest.mark.parametrize(
    ("text", "cents", "surface"),
    [
        ("zieh dreißig tacken vom gutschein ab", 3000, "dreißig tacken"),
        ("gutschein über nen fuffi", 5000, "nen fuffi"),
        ("einen zwanni für café rosa", 2000, "einen zwanni"),
        ("zwei zwanni gutschein", 4000, "zwei zwanni"),
        ("gutschein für nen zehner", 1000, "nen zehner"),
        ("30 mäuse gutschein", 3000, "30 mäuse"),
        ("gutschein einlösen neun neunundneunzig", 999, "neun neunundneunzig"),
        ("zwölf fuffzig einlösen", 1250, "zwölf fuffzig"),
        ("deduct thirty quid from the voucher", 3000, "thirty quid"),
        ("a voucher for 20 bucks", 2000, "20 bucks"),
        ("bitte €5.50 abbuchen", 550, "€5.50"),
        ("gutschein über EUR 40", 4000, "EUR 40"),
    ],
)
def test_everyday_money(text: str, cents: int, surface: str):
    assert (cents, surface) in amounts(text)


@pytest.mark.parametrize(
    "text",
    [
        "gutschein um zwei zwanzig uhr einlösen",  # a time, not 2,20 €
        "wir brauchen zwei kartons",  # no money words
        "die zehner klasse hat elternabend",  # no article or count before the note word
        "ich komme um neun dreißig",  # no money context
    ],
)
def test_not_money(text: str):
    assert amounts(text) == []


@pytest.mark.parametrize("text", ["a few boxes of gloves", "ein paar visiere", "a couple of masks",
                                  "einige schutzbrillen"])
def test_a_few_is_no_quantity(text: str):
    assert find_quantities(text, tokenize(text)) == []


def test_three_hundred_in_words():
    text = "dreihundert op masken"
    assert [e["value"] for e in find_quantities(text, tokenize(text))] == [300]


@pytest.mark.parametrize(
    "text",
    [
        "nach 10 jahren elternzeit will ich wieder arbeiten",
        "seit 3 wochen warten wir auf die masken",
        "i have worked there for 2 years",
        "dsgvo auskunft artikel 15",
        "see section 4 of the terms",
        "signing off, have a good one",
        "nah mate not that one",
        "i'm not the one looking for a job",
    ],
)
def test_spans_of_time_references_and_the_pronoun_one_are_no_quantity(text: str):
    assert find_quantities(text, tokenize(text)) == []


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("wir brauchen 200 masken für 3 wochen", [200]),
        ("one box of gloves please", [1]),
        ("we need 50 gowns and one face shield", [50, 1]),
        ("artikel 15 sagt nichts, wir brauchen 40 kittel", [40]),
    ],
)
def test_counts_beside_them_stay(text: str, values: list[int]):
    assert [q["value"] for q in find_quantities(text, tokenize(text))] == values
