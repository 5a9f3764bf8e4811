"""Model cache: keyed by the training data (and code version); loads without training."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlu import EmbeddedNLU, default_data_dir

TEXTS = [
    "ich suche arbeit in der pflege",
    "any part-time warehouse jobs?",
    "gutschein K7QF-2M9X über 12,50 einlösen",
    "hallo",
    "wie wird das wetter",
]

TINY = {
    "de/tiny.yml": """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hallo
    - guten morgen
    - moin
    - servus
    - hallo zusammen
    - guten tag
- intent: find_job
  examples: |
    - ich suche arbeit in der [pflege](job_field:nursing)
    - gibt es jobs
    - ich brauche eine stelle
    - offene stellen
    - suche job im [lager](job_field:logistics)
    - welche jobs gibt es
""",
    "en/tiny.yml": """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - good morning
    - hi there
    - hey
    - hello everyone
    - good day
- intent: find_job
  examples: |
    - i am looking for work in [nursing](job_field:nursing)
    - any jobs
    - i need a position
    - open positions
    - looking for a [warehouse](job_field:logistics) job
    - which jobs are there
""",
}


def write_tiny(root: Path) -> Path:
    for name, text in TINY.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_second_load_uses_the_cache_and_answers_the_same(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    first = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert first.train_seconds > 0
    assert list(cache.glob("*.npz"))
    second = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert second.train_seconds == 0.0
    for text in [*TEXTS, "guten morgen", "looking for a warehouse job"]:
        assert second.parse_sync(text) == first.parse_sync(text)


def test_the_full_model_loads_from_the_session_cache(nlu_model: EmbeddedNLU, nlu_cache_dir: Path):
    """The real training data's model (trained once per session) loads without training."""
    loaded = EmbeddedNLU.from_data(default_data_dir(), threshold=0.45, cache_dir=nlu_cache_dir)
    assert loaded.train_seconds == 0.0
    for text in TEXTS:
        assert loaded.parse_sync(text) == nlu_model.parse_sync(text)


def test_changed_data_retrains(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    assert EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache).train_seconds > 0
    assert EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache).train_seconds == 0.0
    path = data / "en" / "tiny.yml"
    path.write_text(path.read_text(encoding="utf-8") + "    - jobs please\n", encoding="utf-8")
    assert EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache).train_seconds > 0
    assert EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache).train_seconds == 0.0


def test_retraining_replaces_the_old_cache_files(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    before = set(cache.glob("*.npz"))
    (data / "de" / "tiny.yml").write_text(TINY["de/tiny.yml"] + "    - huhu\n", encoding="utf-8")
    EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    after = set(cache.glob("*.npz"))
    assert len(after) == 3 and not before & after  # intent, language, dense


def test_a_new_file_retrains(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    shutil.copy(data / "de" / "tiny.yml", data / "de" / "copy.yml")
    assert EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache).train_seconds > 0


def test_cache_key_does_not_depend_on_the_folder(tmp_path: Path):
    cache = tmp_path / "cache"
    EmbeddedNLU.from_data(write_tiny(tmp_path / "a"), threshold=0.3, cache_dir=cache)
    moved = EmbeddedNLU.from_data(write_tiny(tmp_path / "b"), threshold=0.3, cache_dir=cache)
    assert moved.train_seconds == 0.0


def test_without_cache_dir_it_always_trains(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    assert EmbeddedNLU.from_data(data, threshold=0.3).train_seconds > 0
    assert EmbeddedNLU.from_data(data, threshold=0.3).train_seconds > 0
    assert not list(tmp_path.rglob("*.npz"))


def test_a_broken_cache_file_is_retrained(tmp_path: Path):
    data = write_tiny(tmp_path / "data")
    cache = tmp_path / "cache"
    EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    for path in cache.glob("*.npz"):
        path.write_bytes(b"not a numpy archive")
    nlu = EmbeddedNLU.from_data(data, threshold=0.3, cache_dir=cache)
    assert nlu.train_seconds > 0
    assert nlu.parse_sync("hallo zusammen")["intent"]["name"] == "greet"


def test_tiny_model_works_and_threshold_is_kept(tmp_path: Path):
    nlu = EmbeddedNLU.from_data(write_tiny(tmp_path / "data"), threshold=0.3)
    assert nlu.threshold == 0.3
    result = nlu.parse_sync("ich suche arbeit im lager")
    assert result["intent"]["name"] == "find_job"
    assert [e["value"] for e in result["entities"]] == ["logistics"]


def test_missing_data_is_an_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        EmbeddedNLU.from_data(tmp_path, threshold=0.45)
