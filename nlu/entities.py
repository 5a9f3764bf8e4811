"""Entity extraction from the training data: synonym gazetteers (fuzzy) and YAML regexes."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from nlu import numbers, timeparse
from nlu.gazetteer import PhraseMatcher, Span, longest_non_overlapping
from nlu.normalize import Token, tokenize
from nlu.rasa_yaml import TrainingData

logger = logging.getLogger(__name__)

GAZETTEER_EXTRACTOR = "SynonymGazetteer"
REGEX_EXTRACTOR = "RegexEntityExtractor"
# values of these come from the database (Catalogue), never from the training data
CATALOGUE_ENTITIES = frozenset({"location", "shop", "school"})
# handled by code (nlu.numbers); their YAML regexes are for a Rasa server
CODED_ENTITIES = frozenset({"amount", "quantity", "voucher_code"})
# annotated for a Rasa server (Duckling, regex), no gazetteer from their annotations here
NO_GAZETTEER = CATALOGUE_ENTITIES | CODED_ENTITIES | {"time", "school_class"}
# no entity right after these words: "parent teacher day" is about a parent evening, not a
# teaching job; "ohne ausbildung" / "without an apprenticeship" asks for none
NOT_AFTER = {"job_field": frozenset({"parent", "parents"}),
             "employment_type": frozenset({"ohne", "without", "kein", "keine", "keinen"})}
_GERMAN_DETERMINERS = frozenset({
    "der", "die", "das", "dem", "den", "des", "vom", "beim", "zum", "zur",
    "mein", "meine", "meinem", "meinen", "meiner", "meines", "dein", "deine", "deinem", "deinen",
    "deiner", "unser", "unsere", "unserem", "unseren", "unserer", "euer", "eure", "eurem", "euren",
    "ihr", "ihre", "ihrem", "ihren", "sein", "seine", "seinem", "seinen",
})
# a surface that means something else after these words: German "mein chef" is the boss
SURFACE_NOT_AFTER = {"chef": _GERMAN_DETERMINERS, "chefs": _GERMAN_DETERMINERS}
# "it" in lower case is the field only next to job words: "it jobs", "jobs in it", "in der it"
_JOB_WORDS = frozenset({
    "job", "jobs", "stelle", "stellen", "arbeit", "work", "branche", "bereich", "sector",
    "position", "positions", "vacancy", "vacancies", "ausbildung", "firma", "company",
})
_FIELD_BEFORE = frozenset({"der", "into"})
_IN = frozenset({"in", "im"})
# on equal spans: database names beat codes beat numbers beat synonyms
_PRIORITY = {"Catalogue": 3, numbers.VOUCHER_EXTRACTOR: 2, REGEX_EXTRACTOR: 2,
             timeparse.EXTRACTOR: 2,
             numbers.EXTRACTOR: 1, GAZETTEER_EXTRACTOR: 0}


def synonym_entries(data: TrainingData, skip: frozenset[str] = NO_GAZETTEER,
                    ) -> dict[str, dict[str, set[str]]]:
    """{entity: {canonical value: surface forms}} from annotations, synonyms and lookups."""
    canonical = {}
    for value, surfaces in data.synonyms.items():
        for surface in surfaces:
            canonical[surface.casefold()] = value
    entries: dict[str, dict[str, set[str]]] = {}
    for ex in data.examples:
        for span in ex.entities:
            if span.entity in skip:
                continue
            value = canonical.get(span.value.casefold(), span.value)
            entries.setdefault(span.entity, {}).setdefault(value, set()).add(span.text)
    for entity, items in data.lookups.items():
        if entity in skip:
            continue
        for item in items:
            value = canonical.get(item.casefold(), item)
            entries.setdefault(entity, {}).setdefault(value, set()).add(item)
    owner = {value: entity for entity, values in entries.items() for value in values}
    for value, surfaces in data.synonyms.items():
        entity = owner.get(value)
        if entity is None:
            logger.warning("synonym %r belongs to no annotated entity; ignored", value)
            continue
        entries[entity][value].update(surfaces)
    return entries


def protected_words(data: TrainingData) -> frozenset[str]:
    """Words the examples use outside entity annotations: never read as a typo of an entity."""
    words: set[str] = set()
    for ex in data.examples:
        spans = [(s.start, s.end) for s in ex.entities]
        for tok in tokenize(ex.text):
            if not any(a <= tok.start < b for a, b in spans):
                words.add(tok.norm)
    return frozenset(words)


def _mostly_annotated(data: TrainingData, entries: dict[tuple[str, str], set[str]],
                      min_rate: float = 0.5) -> dict[tuple[str, str], set[str]]:
    """Keep the surface forms that the examples annotate at least min_rate of the times
    they occur ("alarm" is a word, "seven am" a time): data without synonym lists."""
    occurs: Counter[tuple[str, ...]] = Counter()
    for ex in data.examples:
        words = tuple(t.norm for t in tokenize(ex.text))
        for n in range(1, 5):
            occurs.update(words[i : i + n] for i in range(len(words) - n + 1))
    annotated: Counter[tuple[str, ...]] = Counter(
        tuple(t.norm for t in tokenize(span.text)) for ex in data.examples for span in ex.entities
    )
    kept = {}
    for key, surfaces in entries.items():
        good = {s for s in surfaces
                if (words := tuple(t.norm for t in tokenize(s))) and
                annotated[words] >= min_rate * max(occurs[words], 1)}
        if good:
            kept[key] = good
    return kept


class EntityExtractor:
    """Finds the entities the training data defines (synonyms, regexes) plus numbers and codes."""

    def __init__(self, data: TrainingData, *, foreign: bool = False) -> None:
        """Build one fuzzy gazetteer for all synonym entities and compile the YAML regexes.

        foreign: the data is not citybot's (e.g. a benchmark): every annotated entity gets a
        gazetteer, and numbers/codes are only reported for entity types the data annotates.
        """
        skip = frozenset() if foreign else NO_GAZETTEER
        annotated = {span.entity for ex in data.examples for span in ex.entities}
        scopes: dict[str, set[str]] = {}
        for example in data.examples:
            for span in example.entities:
                scopes.setdefault(span.entity, set()).add(example.intent)
        # entity type -> the intents whose training examples annotate it
        self.scopes = {entity: frozenset(intents) for entity, intents in scopes.items()}
        self.coded = CODED_ENTITIES & annotated if foreign else CODED_ENTITIES
        self.foreign = foreign
        self.timezone = timeparse.DEFAULT_TIMEZONE  # the city's (set by bot.app.build_nlu)
        self.clock: Callable[[ZoneInfo], datetime] | None = None  # "now" (tests set it)
        entries = {(entity, value): surfaces
                   for entity, values in synonym_entries(data, skip).items()
                   for value, surfaces in values.items()}
        if foreign:
            entries = _mostly_annotated(data, entries)
        self.matcher = PhraseMatcher(entries, compounds=not foreign, plurals=not foreign,
                                     short_key_context=None if foreign else field_context)
        self.protected = protected_words(data)
        self.regexes: list[tuple[str, re.Pattern[str]]] = []
        for name, patterns in data.regexes.items():
            if name in CODED_ENTITIES and name in self.coded:
                continue
            for pattern in patterns:
                try:
                    self.regexes.append((name, re.compile(pattern, re.IGNORECASE)))
                except re.error as exc:
                    logger.warning("regex %r is invalid (%s); ignored", name, exc)

    def extract(self, text: str, tokens: Sequence[Token] | None = None) -> list[dict]:
        """All entities found in text, before overlap resolution."""
        if tokens is None:
            tokens = tokenize(text)
        found = []
        for m in self.matcher.find(text, tokens, self.protected):
            entity, value = m.value
            before = _word_before(tokens, m.start)
            if before in NOT_AFTER.get(entity, ()):
                continue
            if before in SURFACE_NOT_AFTER.get(text[m.start:m.end].casefold(), ()):
                continue
            found.append({"entity": entity, "value": value, "start": m.start, "end": m.end,
                          "extractor": GAZETTEER_EXTRACTOR, "_score": m.score})
        for name, pattern in self.regexes:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    found.append({"entity": name, "value": m.group().strip(), "start": m.start(),
                                  "end": m.end(), "extractor": REGEX_EXTRACTOR})
        if not self.foreign:
            found.extend(timeparse.find_times(text, tokens, self.timezone, self.clock))
        if self.coded == CODED_ENTITIES:
            found.extend(numbers.find_all(text, tokens))
        elif self.coded:
            found.extend(e for e in numbers.find_all(text, tokens) if e["entity"] in self.coded)
        return found


# "die buchhandlung am markt", "the bakery on the corner": a category described by a place
_PLACE_PREPOSITIONS = frozenset({
    "am", "an", "auf", "im", "in", "bei", "beim", "hinterm", "neben", "vorm",
    "at", "on", "by", "near", "behind",
})


def _described_categories(text: str, kept: list[dict], entities: list[dict],
                          span: Callable[[dict], Span]) -> list[dict]:
    """Categories inside a shop name that describes a shop by place ("buchhandlung am markt").

    A name like "Café Rosa" or "Bäckerei Müller" stays a name only: the category word is not
    followed by a place preposition there.
    """
    shops = [(e["start"], e["end"]) for e in kept if e["entity"] == "shop"]
    if not shops:
        return []
    taken = {(e["start"], e["end"]) for e in kept if e["entity"] == "shop_category"}
    described = []
    for e in entities:
        if e["entity"] != "shop_category" or (e["start"], e["end"]) in taken:
            continue
        if not any(a <= e["start"] and e["end"] < b for a, b in shops):
            continue
        following = tokenize(text[e["end"]:])
        if following and following[0].norm in _PLACE_PREPOSITIONS:
            described.append(e)
    return longest_non_overlapping(described, span)


_ARTICLES = frozenset({"a", "an", "ein", "eine", "einen", "einer"})


def field_context(tokens: Sequence[Token], i: int, width: int) -> bool:
    """Does a lower-case short surface ("it") stand where a job field is named?"""
    after = tokens[i + width].norm if i + width < len(tokens) else ""
    before = tokens[i - 1].norm if i else ""
    before2 = tokens[i - 2].norm if i > 1 else ""
    return (after in _JOB_WORDS or before in _FIELD_BEFORE
            or (before in _IN and before2 in _JOB_WORDS))


def _word_before(tokens: Sequence[Token], start: int) -> str:
    """The word before a span, an indefinite article skipped ("without an apprenticeship")."""
    before = [t.norm for t in tokens if t.end <= start]
    while before and before[-1] in _ARTICLES:
        before.pop()
    return before[-1] if before else ""


def resolve(entities: list[dict], text: str | None = None) -> list[dict]:
    """Keep the longest of overlapping entities (ties: database > code > number > synonym).

    Entities of different types on exactly the same span are all kept ("Pflegeausbildung" is
    a job field and an employment type); the handler picks the one it needs. With the text,
    a shop named by a description keeps its category (_described_categories).
    """
    def span(e: dict) -> Span:
        return Span(e["start"], e["end"], _PRIORITY.get(e["extractor"], 0) + e.get("_score", 1))

    kept = longest_non_overlapping(entities, span)
    spans = {(e["start"], e["end"]) for e in kept}
    seen = {(e["start"], e["end"], e["entity"]) for e in kept}
    for e in entities:
        key = (e["start"], e["end"], e["entity"])
        if (e["start"], e["end"]) in spans and key not in seen:
            kept.append(e)
            seen.add(key)
    if text is not None:
        kept.extend(_described_categories(text, kept, entities, span))
    kept.sort(key=lambda e: (e["start"], e["end"]))
    return [{k: e[k] for k in ("entity", "value", "start", "end", "extractor")} for e in kept]
