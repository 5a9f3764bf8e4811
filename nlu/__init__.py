"""citybot's NLU: Rasa YAML training data, the embedded classifier, entity extraction."""

from __future__ import annotations

from pathlib import Path

from nlu.base import FALLBACK_INTENT, OUT_OF_SCOPE_INTENT, NLUBackend
from nlu.catalogue import Catalogue
from nlu.embedded import DEFAULT_THRESHOLD, EmbeddedNLU

__all__ = [
    "DEFAULT_THRESHOLD",
    "FALLBACK_INTENT",
    "OUT_OF_SCOPE_INTENT",
    "Catalogue",
    "EmbeddedNLU",
    "NLUBackend",
    "default_data_dir",
]


def default_data_dir() -> Path:
    """The packaged training data folder (nlu/data)."""
    return Path(__file__).resolve().parent / "data"
