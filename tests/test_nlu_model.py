"""The compiled linear model reproduces scikit-learn; normalisation; parse never breaks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu import DEFAULT_THRESHOLD, Catalogue, EmbeddedNLU, default_data_dir
from nlu.base import ENTITY_KEYS, RESULT_KEYS
from nlu.embedded import FEATURES, classifier_text
from nlu.features import FeatureConfig, char_wb_ngrams, edge_words, features, is_word_feature
from nlu.linear import LinearModel, fit_sklearn, make_vectorizer
from nlu.normalize import normalize, tokenize
from nlu.rasa_yaml import load_dir
from tests.conftest import shared_nlu_cache

PROBES = [
    "ich suche arbeit in der pflege",
    "any part-time warehouse jobs?",
    "gutschein einlösen",
    "xyz unbekannt qqq",
    "",
    "hallo hallo hallo",
]


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str]]:
    examples = load_dir(default_data_dir()).examples[::4]  # every intent, a quarter the fit time
    texts = [classifier_text(ex.text) for ex in examples]
    return texts, [ex.intent for ex in examples]


@pytest.mark.parametrize(("kind", "c", "word_weight"),
                         [("svm", 1.0, 1.0), ("logreg", 10.0, 1.0), ("svm", 2.0, 3.0)])
def test_compiled_model_equals_sklearn(sample, kind: str, c: float, word_weight: float):
    texts, labels = sample
    vectorizer, clf = fit_sklearn(texts, labels, FEATURES, kind, c, word_weight)
    model = LinearModel.from_sklearn(vectorizer, clf, FEATURES)
    probes = [normalize(t) for t in PROBES[:-2]]  # sklearn has no answer for empty input
    expected = clf.predict_proba(vectorizer.transform(probes))
    got = np.vstack([model.proba(p) for p in probes])
    assert model.classes == list(clf.classes_)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_word_weight_scales_whole_words_only(sample):
    texts, _ = sample
    plain = make_vectorizer(FEATURES)
    weighted = make_vectorizer(FEATURES, word_weight=3.0)
    probe = [classifier_text("nicht abmelden, eintragen will ich mich")]
    plain.fit_transform(texts)
    weighted.fit_transform(texts)
    before, after = plain.transform(probe).toarray()[0], weighted.transform(probe).toarray()[0]
    kinds = {"word": 0, "char": 0}
    for feature, column in plain.vocabulary_.items():
        if before[column] == 0:
            continue
        word = is_word_feature(feature)
        kinds["word" if word else "char"] += 1
        assert after[column] == pytest.approx(before[column] * (3.0 if word else 1.0))
    assert kinds["word"] >= 4 and kinds["char"] >= 20  # words, pairs, edges, neg:abmelden


def test_binary_model_equals_sklearn(sample):
    texts, labels = sample
    langs = ["g" if label in ("greet", "goodbye") else "o" for label in labels]
    vectorizer, clf = fit_sklearn(texts, langs, FEATURES, "logreg", 10.0)
    model = LinearModel.from_sklearn(vectorizer, clf, FEATURES)
    probe = normalize("hallo und tschüss")
    np.testing.assert_allclose(
        model.proba(probe), clf.predict_proba(vectorizer.transform([probe]))[0], atol=1e-6
    )


def test_model_save_and_load_round_trip(sample, tmp_path: Path):
    texts, labels = sample
    model = LinearModel.fit(texts[:300], labels[:300], FEATURES, kind="logreg", c=5.0)
    model.save(tmp_path / "m.npz")
    loaded = LinearModel.load(tmp_path / "m.npz")
    assert loaded.classes == model.classes and loaded.config == model.config
    for probe in PROBES:
        np.testing.assert_allclose(loaded.proba(normalize(probe)),
                                   model.proba(normalize(probe)), atol=1e-6)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Hörde", "hoerde"),
        ("Straße", "strasse"),
        ("ÄRZTIN!!", "aerztin"),
        ("Café  Rosa 🙂", "cafe rosa"),
        ("ja 👍", "ja ok"),
        ("K7QF-2M9X", "k7qf 2m9x"),
        ("12,50 €", "12 50"),
        ("  ", ""),
    ],
)
def test_normalize(raw: str, normalised: str):
    assert normalize(raw) == normalised


def test_classifier_text_hides_voucher_codes():
    assert classifier_text("Gutschein K7QF-2M9X einlösen") == "gutschein gutscheincode einloesen"


def test_char_wb_ngrams_match_sklearn():
    from sklearn.feature_extraction.text import CountVectorizer

    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(1, 5)).build_analyzer()
    for text in ("ich suche arbeit", "a", "hi du", "pflegejobs in der innenstadt"):
        assert sorted(char_wb_ngrams(text, 1, 5)) == sorted(analyzer(text))


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedNLU:
    cache = shared_nlu_cache(tmp_path_factory)
    catalogue = Catalogue({"location": {"Innenstadt": ["Innenstadt", "city centre"],
                                        "Hörde": ["Hörde"]}})
    return EmbeddedNLU.from_data(
        default_data_dir(), threshold=DEFAULT_THRESHOLD, cache_dir=cache, catalogue=catalogue
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=120))
def test_parse_never_breaks_and_spans_are_in_bounds(nlu: EmbeddedNLU, text: str):
    result = nlu.parse_sync(text)
    assert tuple(result) == RESULT_KEYS
    assert result["text"] == text
    assert result["language"] in ("de", "en")
    for entity in result["entities"]:
        assert tuple(entity) == ENTITY_KEYS
        assert 0 <= entity["start"] < entity["end"] <= len(text)
    spans = [(e["start"], e["end"]) for e in result["entities"]]
    for (s1, e1), (s2, e2) in itertools.pairwise(spans):
        assert e1 <= s2 or (s1, e1) == (s2, e2)  # no partial overlaps


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_tokens_are_slices_of_the_original(text: str):
    for token in tokenize(text):
        assert 0 <= token.start < token.end <= len(text)
        assert token.norm == normalize(text[token.start : token.end]).replace(" ", "")


def test_edge_words_mark_the_first_and_last_word():
    assert edge_words("stop updates from the bakery") == ["first:stop", "last:bakery"]
    assert edge_words("abo") == ["first:abo", "last:abo"]
    assert edge_words("") == []
    assert "last:aus" in features("nachrichten vom baecker aus", FEATURES)
    assert not any(f.startswith("first:")
                   for f in features("hallo", FeatureConfig(1, 5, 2, edge_words=False)))


def test_a_model_saved_without_the_edge_flag_loads_without_edge_words(sample, tmp_path: Path):
    texts, labels = sample
    old = FeatureConfig(1, 5, 2)
    model = LinearModel.fit(texts[:200], labels[:200], old, kind="logreg", c=5.0)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as z:  # rewrite as the 3-number config of older caches
        arrays = {k: z[k] for k in z.files}
    arrays["config"] = arrays["config"][:3]
    np.savez(tmp_path / "old.npz", **arrays)
    assert LinearModel.load(tmp_path / "old.npz").config == old
