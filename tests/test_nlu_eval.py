"""The held-out test file nlu/eval/{de,en}/heldout.yml: separate, big enough, targets met."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nlu import EmbeddedNLU, default_data_dir
from nlu.contract import INTENTS
from nlu.normalize import normalize
from nlu.rasa_yaml import load_dir
from nlu.report import Report, build_report, embedded_predictor, load_examples, predict_all
from tests.conftest import shared_nlu_cache

EVAL_DIR = Path(__file__).resolve().parent.parent / "nlu" / "eval"
HELD_OUT = EVAL_DIR / "*" / "heldout.yml"  # the hard set (hard.yml) is tests/test_nlu_hard.py's
MEASURED_ENTITIES = ("amount", "quantity", "voucher_code", "ppe_item", "job_field",
                     "employment_type")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    cache = shared_nlu_cache(tmp_path_factory)
    nlu = EmbeddedNLU.from_data(default_data_dir(), threshold=0.45, cache_dir=cache)
    return build_report(predict_all(embedded_predictor(nlu), load_examples(HELD_OUT)))


def test_held_out_file_is_big_enough():
    counts = Counter((ex.intent, ex.lang) for ex in load_examples(HELD_OUT))
    for lang in ("de", "en"):
        for intent in INTENTS:
            assert counts[(intent, lang)] >= 8, (intent, lang)
        assert counts[("out_of_scope", lang)] >= 30, lang


def test_held_out_file_shares_nothing_with_the_training_data():
    training = {normalize(ex.text) for ex in load_dir(default_data_dir()).examples}
    shared = [ex.text for ex in load_examples(HELD_OUT) if normalize(ex.text) in training]
    assert shared == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_held_out_intent_accuracy(report: Report, lang: str):
    assert report.accuracy_by_lang[lang] >= 0.93


def test_out_of_scope_falls_back(report: Report):
    assert report.intents["nlu_fallback"].recall >= 0.80


@pytest.mark.parametrize("entity", MEASURED_ENTITIES)
def test_entity_precision_and_recall(report: Report, entity: str):
    scores = report.entities[entity]
    assert scores.support >= 10
    assert scores.recall >= 0.90
    assert scores.precision >= 0.90
