"""Cheap language detection (de/en): a char n-gram classifier trained on the NLU examples."""

from __future__ import annotations

from collections.abc import Sequence

from nlu.features import FeatureConfig, features
from nlu.linear import LinearModel

# the intent model's features too: one extraction per message serves both models
FEATURES = FeatureConfig(char_min=1, char_max=5, word_max=2, edge_words=True,
                         negation="replace", contrast=True)
DEFAULT_LANGUAGE = "de"  # a German city: ambiguous short messages ("ok", "jobs?") are German
MIN_CONFIDENCE = 0.6  # another language only when the model is at least this sure
# guess(): a user's language is decided only by a message of at least GUESS_WORDS words
# (two letters or more, not a number or a code) on which the model is GUESS_CONFIDENCE sure.
# Single words mislead ("Ben" reads German, "ok" and "👍" English), and so do names.
GUESS_WORDS = 2
GUESS_CONFIDENCE = 0.9
_NOT_WORDS = frozenset({"gutscheincode", "ok", "okay"})  # a voucher code; "ok" is both


class LanguageDetector:
    """Guesses the language of a normalised text; falls back to a default when unsure."""

    def __init__(self, model: LinearModel, default: str = DEFAULT_LANGUAGE) -> None:
        """Wrap a trained language model."""
        self.model = model
        self.default = default if default in model.classes else model.classes[0]

    @classmethod
    def fit(cls, texts: Sequence[str], languages: Sequence[str],
            default: str = DEFAULT_LANGUAGE) -> LanguageDetector:
        """Train on normalised texts labelled with their language."""
        return cls(LinearModel.fit(texts, languages, FEATURES, kind="logreg", c=10.0), default)

    def detect(self, text: str, grams: list[str] | None = None) -> str:
        """The language of a normalised text (grams: its features, if already extracted)."""
        if not text or len(self.model.classes) < 2:
            return self.default
        language, confidence = self._best(text, grams)
        if language != self.default and confidence < MIN_CONFIDENCE:
            return self.default
        return language

    def guess(self, text: str) -> tuple[str, float] | None:
        """(language, confidence) of a normalised text, or None when it does not tell.

        None for short texts (under GUESS_WORDS real words: "ok", "👍", numbers, one name)
        and when the model is less than GUESS_CONFIDENCE sure.
        """
        words = [w for w in text.split()
                 if w not in _NOT_WORDS and sum(c.isalpha() for c in w) >= 2]
        if len(words) < GUESS_WORDS or len(self.model.classes) < 2:
            return None
        language, confidence = self._best(text)
        return (language, confidence) if confidence >= GUESS_CONFIDENCE else None

    def _best(self, text: str, grams: list[str] | None = None) -> tuple[str, float]:
        """The most likely language of a normalised text and the model's confidence in it."""
        if grams is None or self.model.config != FEATURES:
            grams = features(text, self.model.config)
        proba = self.model.proba_features(grams)
        best = int(proba.argmax())
        return self.model.classes[best], float(proba[best])


class FixedLanguage:
    """The "detector" of single-language training data: always that language."""

    def __init__(self, lang: str | None) -> None:
        """lang: the only language of the data (None when unknown)."""
        self.default = lang
        self.model = None

    def detect(self, text: str, grams: list[str] | None = None) -> str | None:
        """The one language, whatever the text."""
        return self.default

    def guess(self, text: str) -> tuple[str, float] | None:
        """Nothing to guess between: None (a user's language is never decided by it)."""
        return None
