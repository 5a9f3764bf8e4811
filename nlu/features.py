"""Features of a normalised text: char n-grams inside word boundaries, word n-grams, edge words,
and the scope of negations and contrasts ("nicht abmelden, eintragen will ich mich")."""

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
    negation: str = ""  # "replace": words a negator scopes become neg:<word> only; "add": also
    contrast: bool = False  # words after a contrast marker also become aff:<word>

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


# A clause boundary in the classifier's text (nlu.embedded.classifier_text puts it where the
# message had , ; : . ! ? or a dash); it ends a scope and is never a feature itself.
BOUNDARY = "|"
_NEGATOR_WORDS = (
    "nicht nich net kein keine keinen keinem keiner keines keins nie niemals nix nichts "
    "garnicht not no never nothing dont doesnt didnt cant cannot wont isnt arent wasnt "
    "shouldnt wouldnt havent hasnt aint nope"
)
NEGATORS = frozenset(_NEGATOR_WORDS.split())
# "don't" is normalised to "don t": a "t" after one of these stems is the negator
_NT_STEM_WORDS = "don doesn didn can won isn aren wasn weren shouldn wouldn couldn haven hasn ain"
_NT_STEMS = frozenset(_NT_STEM_WORDS.split())
_CONTRAST_WORDS = (
    "sondern nur bloss blos eigentlich lieber stattdessen vielmehr aber "
    "but just only instead rather actually"
)
CONTRAST = frozenset(_CONTRAST_WORDS.split())
SCOPE_MAX = 6  # a negation scopes at most this many words


def scopes(words: list[str]) -> list[str]:
    """Per word its scope: "neg" (after a negator), "aff" (after a contrast marker) or "".

    A scope runs to the next clause boundary or contrast marker; a negation at most SCOPE_MAX
    words. Negators, markers and boundaries themselves are in no scope.
    """
    marks = [""] * len(words)
    state, left = "", 0
    for i, word in enumerate(words):
        if word == BOUNDARY:
            state = ""
        elif word in CONTRAST:
            state = "aff"
        elif word in NEGATORS or (word == "t" and i and words[i - 1] in _NT_STEMS):
            state, left = "neg", SCOPE_MAX
        elif state == "neg":
            marks[i] = "neg"
            left -= 1
            if not left:
                state = ""
        else:
            marks[i] = state
    return marks


def scope_features(words: list[str], config: FeatureConfig) -> list[str]:
    """Char n-grams and words of a text with scope marks (the words without boundaries)."""
    marks = scopes(words)
    grams: list[str] = []
    plain: list[str] = []
    for word, mark in zip(words, marks, strict=True):
        if word == BOUNDARY:
            continue
        plain.append(word)
        if mark == "neg":
            grams.append(f"neg:{word}")
            if config.negation == "replace":
                continue
        elif mark == "aff" and config.contrast:
            grams.append(f"aff:{word}")
        if config.char_max:
            grams.extend(char_wb_ngrams(word, config.char_min, config.char_max))
        if config.word_max:
            grams.append(f"w:{word}")
    if config.word_max > 1:
        grams.extend(word_ngrams(" ".join(plain), config.word_max)[len(plain) :])
    if config.edge_words:
        grams.extend(edge_words(" ".join(plain)))
    return grams


_WORD_PREFIXES = ("w:", "first:", "last:", "neg:", "aff:")


def is_word_feature(feature: str) -> bool:
    """True for a whole-word feature (word, word pair, edge or scope word), not a char n-gram."""
    return feature.startswith(_WORD_PREFIXES)


def features(text: str, config: FeatureConfig) -> list[str]:
    """All features of an already normalised text."""
    if config.negation or config.contrast:
        return scope_features(text.split(), config)
    if BOUNDARY in text:
        text = " ".join(w for w in text.split() if w != BOUNDARY)
    grams = char_wb_ngrams(text, config.char_min, config.char_max) if config.char_max else []
    if config.word_max:
        grams.extend(word_ngrams(text, config.word_max))
    if config.edge_words:
        grams.extend(edge_words(text))
    return grams
