"""The Rasa YAML loader and the training data contract (INTENTS.md, both languages)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from nlu import default_data_dir
from nlu.entities import synonym_entries
from nlu.normalize import normalize
from nlu.rasa_yaml import (
    EntitySpan,
    TrainingDataError,
    language_of,
    load_dir,
    load_text,
    parse_example,
)

INTENTS = [
    "greet", "goodbye", "thanks", "help", "affirm", "deny", "cancel", "change_language",
    "find_job", "job_alert", "post_job", "order_voucher", "voucher_balance", "redeem_voucher",
    "request_ppe", "ppe_status", "list_parent_evenings", "join_parent_evening",
    "cancel_parent_evening", "my_appointments", "shop_info", "subscribe_shop",
    "unsubscribe_shop", "broadcast_update", "export_my_data", "delete_my_data",
]
ENTITIES = {
    "job_field", "employment_type", "location", "shop", "shop_category", "amount",
    "voucher_code", "ppe_item", "quantity", "school", "school_class", "time",
}
CANONICAL = {
    "job_field": {"nursing", "care_for_elderly", "medical", "retail", "logistics", "gastronomy",
                  "cleaning", "it", "education", "crafts", "office", "agriculture"},
    "employment_type": {"full_time", "part_time", "mini_job", "temporary", "apprenticeship"},
    "ppe_item": {"ffp2_mask", "surgical_mask", "gloves", "gown", "face_shield", "goggles",
                 "disinfectant"},
    "shop_category": {"bakery", "cafe", "restaurant", "bookshop", "florist", "fashion", "bike",
                      "grocery", "pharmacy", "other"},
}


@pytest.fixture(scope="module")
def data():
    return load_dir(default_data_dir())


def test_parse_example_with_all_annotation_forms():
    text, spans = parse_example(
        'suche [Pflege](job_field:nursing) in [Hörde](location) als '
        '[Azubi]{"entity": "employment_type", "value": "apprenticeship"}'
    )
    assert text == "suche Pflege in Hörde als Azubi"
    assert spans == (
        EntitySpan("job_field", "nursing", 6, 12, "Pflege"),
        EntitySpan("location", "Hörde", 16, 21, "Hörde"),
        EntitySpan("employment_type", "apprenticeship", 26, 31, "Azubi"),
    )
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_load_text_reads_every_item_kind():
    data = load_text(
        """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hallo
    - guten [morgen](time)
- intent: greet
  examples:
  - text: moin
  - servus
- synonym: nursing
  examples: |
    - Pflege
- lookup: job_field
  examples: |
    - Altenpflege
- regex: voucher_code
  examples: |
    - \\b[A-Z0-9]{4}-[A-Z0-9]{4}\\b
""",
        lang="de",
    )
    assert [ex.text for ex in data.examples] == ["hallo", "guten morgen", "moin", "servus"]
    assert {ex.lang for ex in data.examples} == {"de"}
    assert data.examples[1].entities == (EntitySpan("time", "morgen", 6, 12, "morgen"),)
    assert data.synonyms == {"nursing": {"Pflege"}}
    assert data.lookups == {"job_field": ["Altenpflege"]}
    assert data.regexes == {"voucher_code": [r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b"]}


@pytest.mark.parametrize(
    "text",
    [
        "nlu: [1, 2]",
        "- just a list",
        "nlu:\n- intent: greet\n  examples: |\n    hallo without dash\n",
        "nlu:\n- response: utter_greet\n",
        "nlu:\n- intent: x\n  examples: |\n    - [bad]{not json}\n",
        "nlu: [unclosed",
    ],
)
def test_invalid_yaml_is_a_training_data_error(text: str):
    with pytest.raises(TrainingDataError):
        load_text(text)


def test_language_comes_from_folder_or_suffix(tmp_path: Path):
    assert language_of(tmp_path / "de" / "jobs.yml", tmp_path) == "de"
    assert language_of(tmp_path / "en" / "sub" / "x.yml", tmp_path) == "en"
    assert language_of(tmp_path / "jobs_en.yml", tmp_path) == "en"
    assert language_of(tmp_path / "jobs.yml", tmp_path) is None


def test_every_intent_in_both_languages_with_enough_examples(data):
    counts = Counter((ex.intent, ex.lang) for ex in data.examples)
    assert set(data.intents) == {*INTENTS, "out_of_scope"}
    for intent in INTENTS:
        for lang in ("de", "en"):
            assert counts[(intent, lang)] >= 25, (intent, lang)
    assert counts[("out_of_scope", "de")] >= 60
    assert counts[("out_of_scope", "en")] >= 60


def test_no_example_is_in_two_intents(data):
    seen: dict[str, str] = {}
    clashes = []
    for ex in data.examples:
        key = normalize(ex.text)
        if seen.setdefault(key, ex.intent) != ex.intent:
            clashes.append((ex.text, seen[key], ex.intent))
    assert clashes == []


def test_examples_have_informal_variety(data):
    texts = [ex.text for ex in data.examples if ex.intent != "out_of_scope"]
    lower = sum(t == t.lower() for t in texts)
    no_punctuation = sum(not re.search(r"[?!.,]", t) for t in texts)
    assert lower / len(texts) > 0.8
    assert no_punctuation / len(texts) > 0.7
    assert any(re.search(r"[\U0001F300-\U0001FAFF]", t) for t in texts)  # emoji
    assert any(w in t for t in texts for w in ("fuer", "koennen", "oe", "ue", "ae"))


def test_entities_are_known_and_values_canonical(data):
    entries = synonym_entries(data)
    for ex in data.examples:
        for span in ex.entities:
            assert span.entity in ENTITIES, span
            assert ex.text[span.start : span.end] == span.text
    for entity, canonical in CANONICAL.items():
        assert set(entries[entity]) == canonical, entity


def test_synonyms_do_not_map_one_surface_to_two_values(data):
    owner: dict[str, str] = {}
    clashes = []
    for value, surfaces in data.synonyms.items():
        for surface in surfaces:
            key = surface.casefold()
            if owner.setdefault(key, value) != value:
                clashes.append((surface, owner[key], value))
    assert clashes == []


def test_regexes_compile(data):
    for patterns in data.regexes.values():
        for pattern in patterns:
            re.compile(pattern)
