"""Entities whose values come from the database (districts now; shops and schools later)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from nlu.gazetteer import PhraseMatcher
from nlu.normalize import Token, tokenize

EXTRACTOR = "Catalogue"


class Catalogue:
    """Entities whose values come from the database (location now; shop and school later)."""

    def __init__(self, entries: Mapping[str, Mapping[str, Iterable[str]]] | None = None) -> None:
        """Start empty or with {entity: {canonical value: surface forms}}."""
        self._matchers: dict[str, PhraseMatcher] = {}
        self._lock = threading.Lock()
        self.version = 0
        # ordinary words of the training data: never taken for a typo of a catalogue name
        self.protected: frozenset[str] = frozenset()
        for entity, values in (entries or {}).items():
            self.replace(entity, values)

    def replace(self, entity: str, entries: Mapping[str, Iterable[str]]) -> None:
        """Replace all values of one entity: canonical value -> its name and aliases."""
        matcher = PhraseMatcher({value: [value, *surfaces] for value, surfaces in entries.items()})
        with self._lock:
            self._matchers = {**self._matchers, entity: matcher}
            self.version += 1

    @property
    def entities(self) -> list[str]:
        """The entity names that have values."""
        return sorted(self._matchers)

    def find(self, entity: str, text: str) -> list[dict]:
        """Fuzzy-find values of one entity; spans refer to the original text."""
        matcher = self._matchers.get(entity)
        if matcher is None:
            return []
        return [
            {"entity": entity, "value": m.value, "start": m.start, "end": m.end,
             "extractor": EXTRACTOR}
            for m in matcher.find_best(text, protected=self.protected)
        ]

    def find_all(self, text: str, tokens: Sequence[Token] | None = None) -> list[dict]:
        """Fuzzy-find values of every catalogue entity (overlaps between entities are kept)."""
        matchers = self._matchers
        if not matchers:
            return []
        if tokens is None:
            tokens = tokenize(text)
        found = []
        for entity, matcher in matchers.items():
            for m in matcher.find_best(text, tokens, self.protected):
                found.append({"entity": entity, "value": m.value, "start": m.start,
                              "end": m.end, "extractor": EXTRACTOR})
        return found
