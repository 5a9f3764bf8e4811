"""Features of a normalised text: char n-grams inside word boundaries, word n-grams, edge words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureConfig:
    """Which features to extract (char_wb range, word n-gram size; 0 = none; edge words)."""

    char_min: int = 1
    char_max: int = 5
    word_max: int = 2
    edge_words: bool = False  # the first and the last word as features of their own

    def analyzer(self) -> Callable[[str], list[str]]:
        """The analyzer function for sklearn's TfidfVectorizer and for inference."""
        return lambda text: features(text, self)


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams of each space-padded word (sklearn's char_wb analyzer)."""
    grams: list[str] = []
    append = grams.append
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(lo, hi + 1):
            if n > size:
                if n == lo:
                    append(padded)
                break
            for i in range(size - n + 1):
                append(padded[i : i + n])
    return grams


def word_ngrams(text: str, hi: int) -> list[str]:
    """Word 1..hi-grams, prefixed with "w:" so they never collide with char n-grams."""
    words = text.split()
    grams = [f"w:{w}" for w in words]
    for n in range(2, hi + 1):
        grams.extend("w:" + " ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return grams


def edge_words(text: str) -> list[str]:
    """The first and the last word, marked: where a message starts and ends carries its act.

    "stop updates from the bakery" / "nachrichten vom bäcker aus": the verb or particle that
    decides sits at an edge, while the words in between are shared with the opposite intent.
    """
    words = text.split()
    return [f"first:{words[0]}", f"last:{words[-1]}"] if words else []


def features(text: str, config: FeatureConfig) -> list[str]:
    """All features of an already normalised text."""
    grams = char_wb_ngrams(text, config.char_min, config.char_max) if config.char_max else []
    if config.word_max:
        grams.extend(word_ngrams(text, config.word_max))
    if config.edge_words:
        grams.extend(edge_words(text))
    return grams
