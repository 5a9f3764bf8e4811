"""The database-backed catalogue: fuzzy, umlaut-tolerant names with spans in the original text."""

from __future__ import annotations

import threading

import pytest

from nlu import Catalogue

DISTRICTS = {
    "Innenstadt": ["Innenstadt", "city centre", "Zentrum", "Mitte"],
    "Hörde": ["Hörde"],
    "Lütgendortmund": ["Lütgendortmund", "Lütgen"],
}


@pytest.fixture
def catalogue() -> Catalogue:
    catalogue = Catalogue()
    catalogue.replace("location", DISTRICTS)
    return catalogue


def values(catalogue: Catalogue, text: str) -> list[tuple[str, str]]:
    return [(e["value"], text[e["start"] : e["end"]]) for e in catalogue.find("location", text)]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("jobs in der Innenstadt", "Innenstadt", "Innenstadt"),
        ("jobs in der innenstad", "Innenstadt", "innenstad"),
        ("jobs in der INNENSTADT!", "Innenstadt", "INNENSTADT"),
        ("any jobs in the city centre?", "Innenstadt", "city centre"),
        ("any jobs in the city center?", "Innenstadt", "city center"),
        ("any jobs in the citycentre?", "Innenstadt", "citycentre"),
        ("im zentrum", "Innenstadt", "zentrum"),
        ("jobs in Hörde", "Hörde", "Hörde"),
        ("jobs in hoerde", "Hörde", "hoerde"),
        ("jobs in horde", "Hörde", "horde"),
        ("in luetgendortmund", "Lütgendortmund", "luetgendortmund"),
        ("in lütgendortmnud", "Lütgendortmund", "lütgendortmnud"),
    ],
)
def test_find_is_typo_case_and_umlaut_tolerant(catalogue: Catalogue, text, value, surface):
    assert values(catalogue, text) == [(value, surface)]


@pytest.mark.parametrize("text", ["mittel", "die mitten", "herde", "zentral", "hallo", ""])
def test_short_words_are_not_matched_fuzzily(catalogue: Catalogue, text: str):
    assert values(catalogue, text) == []


def test_result_entity_dicts(catalogue: Catalogue):
    assert catalogue.find("location", "in hörde") == [
        {"entity": "location", "value": "Hörde", "start": 3, "end": 8, "extractor": "Catalogue"}
    ]


def test_longest_match_wins():
    catalogue = Catalogue({"location": {"Innenstadt": ["city centre"], "Centre": ["centre"]}})
    assert values(catalogue, "the city centre") == [("Innenstadt", "city centre")]
    assert values(catalogue, "the centre") == [("Centre", "centre")]


def test_unknown_entity_finds_nothing(catalogue: Catalogue):
    assert catalogue.find("shop", "café rosa") == []


def test_replace_bumps_version_and_replaces_values(catalogue: Catalogue):
    version = catalogue.version
    catalogue.replace("location", {"Aplerbeck": ["Aplerbeck"]})
    assert catalogue.version == version + 1
    assert values(catalogue, "in hörde") == []
    assert values(catalogue, "in aplerbeck") == [("Aplerbeck", "aplerbeck")]


def test_entities_are_independent(catalogue: Catalogue):
    catalogue.replace("shop", {"Café Rosa": ["Café Rosa", "Rosa"]})
    assert catalogue.entities == ["location", "shop"]
    text = "gutschein für cafe rosa in hörde"
    found = {(e["entity"], e["value"]) for e in catalogue.find_all(text)}
    assert found == {("shop", "Café Rosa"), ("location", "Hörde")}


def test_protected_words_are_never_fuzzy(catalogue: Catalogue):
    catalogue.replace("location", {"Scharnhorst": ["Scharnhorst"]})
    assert values(catalogue, "scharnhost") == [("Scharnhorst", "scharnhost")]
    catalogue.protected = frozenset({"scharnhost"})
    assert values(catalogue, "scharnhost") == []
    assert values(catalogue, "scharnhorst") == [("Scharnhorst", "scharnhorst")]


def test_inflected_ending_is_not_a_typo():
    catalogue = Catalogue({"location": {"Brackel": ["Brackel"]}})
    assert values(catalogue, "bracket") == []


def test_replace_while_finding_is_safe(catalogue: Catalogue):
    errors: list[BaseException] = []

    def find_many() -> None:
        try:
            for _ in range(300):
                catalogue.find_all("jobs in der innenstadt und hörde")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=find_many)
    thread.start()
    for i in range(50):
        catalogue.replace("location", {f"District {i}": [f"district{i}"], **DISTRICTS})
    thread.join()
    assert errors == []
    assert catalogue.version == 51
