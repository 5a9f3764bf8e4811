"""Typo- and umlaut-tolerant matching of known phrases (synonyms, catalogue names) in a text."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple, TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA

from nlu.normalize import Token, tokenize

MIN_FUZZY_LEN = 6  # shorter words must match exactly ("lager" must not find "later")
MIN_PREFIX_LEN = 4  # "pflegejobs" -> "pflege", "lagerhelfer" -> "lager"
MIN_SUFFIX_LEN = 6  # "krankenpflege" -> "pflege"; short suffixes ("kasse") would over-match
CASED_MAX_LEN = 2  # such short keys only in capitals: "IT" yes, "it" is an English word
MIN_REST_LEN = 3  # the other part of a compound: "pflegejobs" yes, "pflegen"/"kassel" no
MAX_EXTRA_TOKENS = 1  # "alten pflege" may match "altenpflege" ...
MIN_JOINED_LEN = 4  # ... but "koch in" must not match "köchin": split words have 4+ letters
MIN_PLURAL_STEM = 4  # "bike shops" -> "bike shop", "pharmacies" -> "pharmacy"; not "its" -> "it"
# English plural endings and what the singular ends in instead (longest first)
_PLURAL_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""))

T = TypeVar("T")
# may a lower-case short key ("it") count here? (tokens, index of its first token, width)
ShortKeyContext = Callable[[Sequence[Token], int, int], bool]


class Match(NamedTuple):
    """A phrase found in a text: original character span, payload (e.g. value) and a 0..1 score."""

    start: int
    end: int
    value: Hashable
    score: float


def max_edits(length: int) -> int:
    """How many typos a phrase of this length may carry (0 below MIN_FUZZY_LEN)."""
    if length < MIN_FUZZY_LEN:
        return 0
    return 1 if length < 10 else 2


class Span(NamedTuple):
    """Anything with a character span and a score (for overlap resolution)."""

    start: int
    end: int
    score: float


def longest_non_overlapping(items: Iterable[T], span: Callable[[T], Span]) -> list[T]:
    """Keep the longest of overlapping items (ties: higher score, then earlier), in text order."""
    ranked = sorted(items, key=lambda it: (-(span(it).end - span(it).start), -span(it).score,
                                          span(it).start))
    kept: list[T] = []
    taken: list[tuple[int, int]] = []
    for item in ranked:
        s = span(item)
        if all(s.end <= a or s.start >= b for a, b in taken):
            kept.append(item)
            taken.append((s.start, s.end))
    return sorted(kept, key=lambda it: span(it).start)


def word_ends(tokens: Sequence[Token]) -> tuple[int, ...]:
    """Where each word but the last ends in the words written together ("nur minijobs": (3,))."""
    ends, length = [], 0
    for token in tokens[:-1]:
        length += len(token.norm)
        ends.append(length)
    return tuple(ends)


def _other_ending(a: str, b: str) -> bool:
    """Same word with another last letter: an inflection ("fahren"/"fahrer"), not a typo."""
    return len(a) == len(b) and a[:-1] == b[:-1]


class PhraseMatcher:
    """Finds surface forms of canonical values, exact or with a few typos, on word boundaries."""

    def __init__(self, entries: Mapping[Hashable, Iterable[str]], *,
                 compounds: bool = False, plurals: bool = False,
                 short_key_context: ShortKeyContext | None = None) -> None:
        """Index the surface forms of every payload (canonical value, or (entity, value)).

        plurals: an English plural of a phrase finds it ("bike shops"); not for names, where
        the plural means shops of a kind rather than one shop. short_key_context: where a
        short key written in lower case still counts ("jobs in it"); without it such keys
        count only in capitals ("IT").
        """
        self.compounds = compounds
        self.plurals = plurals
        self.short_key_context = short_key_context
        self._exact: dict[str, list[Hashable]] = {}
        self._tokens: dict[str, int] = {}  # words of the surface form of a key
        self._widths: dict[str, set[int]] = {}
        self._bounds: dict[str, set[tuple[int, ...]]] = {}  # where its words end, per spelling
        self._fuzzy: dict[tuple[int, str], list[str]] = {}
        self._max_window = 1
        self._max_len = 0
        for value, surfaces in entries.items():
            for surface in surfaces:
                self._add(surface, value)

    def _add(self, surface: str, value: Hashable) -> None:
        # "Hörde" is written "Hoerde" or "Horde": index both foldings
        for expand in (True, False):
            tokens = tokenize(surface, expand_umlauts=expand)
            if tokens:
                key = "".join(t.norm for t in tokens)
                self._add_key(key, len(tokens), value)
                self._bounds.setdefault(key, set()).add(word_ends(tokens))

    def _add_key(self, key: str, n_tokens: int, value: Hashable) -> None:
        values = self._exact.setdefault(key, [])
        if value not in values:
            values.append(value)
        self._tokens[key] = min(self._tokens.get(key, n_tokens), n_tokens)
        self._widths.setdefault(key, set()).add(n_tokens)  # spellings as written
        self._max_window = max(self._max_window, n_tokens + MAX_EXTRA_TOKENS)
        self._max_len = max(self._max_len, len(key))
        if max_edits(len(key)):
            bucket = self._fuzzy.setdefault((n_tokens, key[0]), [])
            if key not in bucket:
                bucket.append(key)

    def __len__(self) -> int:
        """Number of distinct surface keys."""
        return len(self._exact)

    def find(self, text: str, tokens: Sequence[Token] | None = None,
             protected: frozenset[str] = frozenset()) -> list[Match]:
        """All candidate matches, overlapping ones included; `protected` words never fuzzy."""
        if tokens is None:
            tokens = tokenize(text)
        found: list[Match] = []
        n = len(tokens)
        limit = self._max_len + 2
        for i in range(n):
            concat = ""
            for width in range(1, min(self._max_window, n - i) + 1):
                concat += tokens[i + width - 1].norm
                if len(concat) > limit:
                    break
                self._match(text, concat, tokens, i, width, protected, found)
        return found

    def find_best(self, text: str, tokens: Sequence[Token] | None = None,
                  protected: frozenset[str] = frozenset()) -> list[Match]:
        """Non-overlapping matches: the longest wins, in text order."""
        return longest_non_overlapping(self.find(text, tokens, protected),
                                       lambda m: Span(m.start, m.end, m.score))

    def _match(self, text: str, key: str, tokens: Sequence[Token], i: int, width: int,
               protected: frozenset[str], found: list[Match]) -> None:
        start, end = tokens[i].start, tokens[i + width - 1].end
        values = self._exact.get(key)
        if values is not None and width > self._tokens[key] \
                and width not in self._widths[key] and any(
            len(t.norm) < MIN_JOINED_LEN for t in tokens[i : i + width]
        ):
            values = None  # words split apart that were never one word
        if values is not None:
            if len(key) > CASED_MAX_LEN or text[start:end].isupper() or (
                self.short_key_context is not None and self.short_key_context(tokens, i, width)
            ):
                found.extend(Match(start, end, v, 1.0) for v in values)
            return
        singular = self._singular(key) if self.plurals else None
        if singular is not None:
            found.extend(Match(start, end, v, 0.95) for v in self._exact[singular])
            return
        edits = max_edits(len(key))
        if edits:
            bucket = self._fuzzy.get((width, key[0]))
            if bucket and not all(t.norm in protected for t in tokens[i : i + width]):
                best = process.extractOne(key, bucket, scorer=OSA.distance, score_cutoff=edits)
                if best is not None and not _other_ending(key, best[0]) and self._same_words(
                    best[0], word_ends(tokens[i : i + width]), edits
                ):
                    score = 1.0 - best[1] / max(len(key), len(best[0]))
                    found.extend(Match(start, end, v, score) for v in self._exact[best[0]])
                    return
        if self.compounds and width == 1:
            self._compound(key, start, end, found)

    def _same_words(self, key: str, ends: tuple[int, ...], edits: int) -> bool:
        """Whether the words of a text split where the phrase's words do, give or take its
        typos: "nursng jobs" is "nursing jobs", "nur minijobs" is not (two edits away)."""
        return any(
            all(abs(a - b) <= edits for a, b in zip(ends, known, strict=True))
            for known in self._bounds.get(key, ())
            if len(known) == len(ends)
        )

    def _singular(self, key: str) -> str | None:
        """The known key this one is the English plural of ("bikeshops" -> "bikeshop")."""
        for ending, replacement in _PLURAL_ENDINGS:
            if key.endswith(ending):
                stem = key[: -len(ending)] + replacement
                if len(stem) >= MIN_PLURAL_STEM and stem in self._exact:
                    return stem
        return None

    def _compound(self, word: str, start: int, end: int, found: list[Match]) -> None:
        """A German compound that starts and/or ends with a known phrase ("pflegejobs")."""
        for size in range(len(word) - MIN_REST_LEN, MIN_PREFIX_LEN - 1, -1):
            values = self._exact.get(word[:size])
            if values is not None:
                found.extend(Match(start, end, v, 0.85) for v in values)
                break
        for size in range(len(word) - MIN_REST_LEN, MIN_SUFFIX_LEN - 1, -1):
            values = self._exact.get(word[-size:])
            if values is not None:
                found.extend(Match(start, end, v, 0.8) for v in values)
                break
