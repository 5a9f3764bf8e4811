"""Text normalisation: lower case, umlauts folded, accents/emoji/punctuation removed."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# German umlauts are folded the way people type them without a German keyboard.
_FOLD = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"}

# A few emoji carry the whole message ("👍" = yes); they become words before the rest is dropped.
EMOJI_WORDS = {
    "👍": " ok ",
    "👌": " ok ",
    "✅": " ok ",
    "👎": " nein ",
    "❌": " nein ",
    "👋": " handwave ",  # hello and goodbye alike
    "🙏": " danke ",
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[^\W_]+")


class Token(NamedTuple):
    """A word of the original text: its folded form and its character span."""

    norm: str
    start: int
    end: int


def fold(text: str, expand_umlauts: bool = True) -> str:
    """Lower-case and fold umlauts (ä -> ae, or ä -> a), ß and accents to ASCII."""
    text = unicodedata.normalize("NFC", text).lower()
    if expand_umlauts and any(ch in _FOLD for ch in text):
        text = "".join(_FOLD.get(ch, ch) for ch in text)
    elif "ß" in text or "ẞ" in text:
        text = text.replace("ß", "ss").replace("ẞ", "ss")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text


def normalize(text: str) -> str:
    """Return the classifier's view of a text: folded, emoji mapped, only [a-z0-9] words."""
    if not text.isascii():
        for emoji, word in EMOJI_WORDS.items():
            if emoji in text:
                text = text.replace(emoji, word)
    return " ".join(_NON_ALNUM.split(fold(text))).strip()


def tokenize(text: str, expand_umlauts: bool = True) -> list[Token]:
    """Split the original text into word tokens (letters/digits) with folded forms and spans."""
    tokens = []
    for m in _WORD.finditer(text):
        norm = _NON_ALNUM.sub("", fold(m.group(), expand_umlauts))
        if norm:
            tokens.append(Token(norm, m.start(), m.end()))
    return tokens
