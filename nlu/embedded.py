"""The embedded NLU backend: TF-IDF (char_wb 1-5 + word 1-2 grams) + logistic regression.

CV_RESULTS_PLACEHOLDER
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path

from nlu import language, numbers
from nlu.base import RANKING_SIZE, finalize_intent
from nlu.catalogue import Catalogue
from nlu.entities import EntityExtractor, resolve
from nlu.features import features
from nlu.language import LanguageDetector
from nlu.linear import LinearModel
from nlu.normalize import normalize, tokenize
from nlu.rasa_yaml import TrainingData, load_files, training_files

logger = logging.getLogger(__name__)

CODE_VERSION = "1"  # bump when a change here or in features/normalisation changes the model
DEFAULT_THRESHOLD = 0.45
FEATURES = language.FEATURES  # FeatureConfig(char_min=1, char_max=5, word_max=2)
C = 10.0
_CODE_TOKEN = " gutscheincode "  # voucher codes are random letters: one token for all of them


def classifier_text(text: str) -> str:
    """The text as the intent classifier sees it: codes replaced, then normalised."""
    codes = numbers.find_voucher_codes(text)
    for code in reversed(codes):
        text = text[: code["start"]] + _CODE_TOKEN + text[code["end"] :]
    return normalize(text)


def fingerprint(files: list[Path], data_dir: Path) -> str:
    """Hash of the training files (names and bytes), the code version and the model settings."""
    digest = hashlib.sha256(f"{CODE_VERSION}|{FEATURES}|{C}".encode())
    for path in files:
        digest.update(path.relative_to(data_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def train_models(data: TrainingData) -> tuple[LinearModel, LanguageDetector]:
    """Train the intent classifier and the language detector on the examples."""
    texts = [classifier_text(ex.text) for ex in data.examples]
    intents = [ex.intent for ex in data.examples]
    intent_model = LinearModel.fit(texts, intents, FEATURES, c=C)
    labelled = [(t, ex.lang) for t, ex in zip(texts, data.examples, strict=True) if ex.lang]
    langs = sorted({lang for _, lang in labelled})
    if len(langs) < 2:
        raise ValueError(f"need examples in two languages (de/ and en/ folders), got {langs}")
    detector = LanguageDetector.fit([t for t, _ in labelled], [lang for _, lang in labelled])
    return intent_model, detector


def _save_atomic(model: LinearModel, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        model.save(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class EmbeddedNLU:
    """In-process NLU: intent classifier, language detector, entity extractors, catalogue."""

    def __init__(self, intent_model: LinearModel, detector: LanguageDetector,
                 extractor: EntityExtractor, *, threshold: float = DEFAULT_THRESHOLD,
                 catalogue: Catalogue | None = None, train_seconds: float = 0.0) -> None:
        """Assemble a backend from trained parts (use from_data to build one)."""
        self.intent_model = intent_model
        self.detector = detector
        self.extractor = extractor
        self.threshold = threshold
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        self.catalogue.protected = self.catalogue.protected | extractor.protected
        self.train_seconds = train_seconds

    @classmethod
    def from_data(cls, data_dir: Path, *, threshold: float, cache_dir: Path | None = None,
                  catalogue: Catalogue | None = None) -> EmbeddedNLU:
        """Train from the Rasa YAML below data_dir, or load the model cached for that data."""
        data_dir = Path(data_dir)
        files = training_files(data_dir)
        if not files:
            raise FileNotFoundError(f"no training data (*.yml) below {data_dir}")
        data = load_files(files, data_dir)
        extractor = EntityExtractor(data)
        if cache_dir is not None:
            key = fingerprint(files, data_dir)
            intent_path = Path(cache_dir) / f"nlu-{key}-intent.npz"
            lang_path = Path(cache_dir) / f"nlu-{key}-lang.npz"
            if intent_path.exists() and lang_path.exists():
                try:
                    intent_model = LinearModel.load(intent_path)
                    detector = LanguageDetector(LinearModel.load(lang_path))
                except (OSError, ValueError, KeyError) as exc:
                    logger.warning("nlu cache %s unreadable (%s); retraining", key, exc)
                else:
                    logger.info("nlu model %s loaded from cache", key)
                    return cls(intent_model, detector, extractor, threshold=threshold,
                               catalogue=catalogue, train_seconds=0.0)
        started = time.perf_counter()
        intent_model, detector = train_models(data)
        seconds = time.perf_counter() - started
        logger.info("nlu model trained on %d examples in %.1fs", len(data.examples), seconds)
        if cache_dir is not None:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            _save_atomic(intent_model, intent_path)
            _save_atomic(detector.model, lang_path)
        return cls(intent_model, detector, extractor, threshold=threshold, catalogue=catalogue,
                   train_seconds=max(seconds, 1e-9))

    def detect_language(self, text: str) -> str:
        """The language of a raw message ("de" when unsure)."""
        return self.detector.detect(classifier_text(text))

    def rank(self, text: str) -> list[tuple[str, float]]:
        """All intents with their confidence, best first (out_of_scope included)."""
        return self._rank(classifier_text(text))

    def _rank(self, norm: str, grams: list[str] | None = None) -> list[tuple[str, float]]:
        if not norm:
            return []
        if grams is None:
            grams = features(norm, self.intent_model.config)
        proba = self.intent_model.proba_features(grams)
        order = proba.argsort()[::-1][: RANKING_SIZE + 1]
        return [(self.intent_model.classes[i], float(proba[i])) for i in order]

    def entities(self, text: str) -> list[dict]:
        """Entities of a raw message, overlaps resolved, in text order."""
        tokens = tokenize(text)
        found = self.extractor.extract(text, tokens) + self.catalogue.find_all(text, tokens)
        return resolve(found)

    def parse_sync(self, text: str, lang: str | None = None) -> dict:
        """Parse one message into the Rasa /model/parse shape plus "language"."""
        norm = classifier_text(text)
        grams = features(norm, self.intent_model.config)
        intent, ranking = finalize_intent(self._rank(norm, grams), self.threshold)
        return {
            "text": text,
            "intent": intent,
            "intent_ranking": ranking,
            "entities": self.entities(text),
            "language": lang or self.detector.detect(norm, grams),
        }

    async def parse(self, text: str, lang: str | None = None) -> dict:
        """Parse one message (fast enough to run on the event loop: well under 1 ms)."""
        return self.parse_sync(text, lang)

