"""`citybot nlu validate`: checks the training data against the contract and itself."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nlu.base import OUT_OF_SCOPE_INTENT
from nlu.contract import CANONICAL, ENTITIES, INTENTS
from nlu.normalize import normalize
from nlu.rasa_yaml import TrainingData, TrainingDataError, load_dir

MIN_EXAMPLES = 25  # per intent and language


@dataclass
class Findings:
    """Errors make the data unusable or break the contract; warnings are worth a look."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors


def check(data: TrainingData, *, intents: tuple[str, ...] = INTENTS,
          entities: tuple[str, ...] = ENTITIES, min_examples: int = MIN_EXAMPLES) -> Findings:
    """All findings for loaded training data."""
    found = Findings()
    known_intents = {*intents, OUT_OF_SCOPE_INTENT}
    for name in sorted(set(data.intents) - known_intents):
        found.errors.append(f"unknown intent {name!r} (not in the contract)")
    langs = data.languages or [None]
    counts = Counter((ex.intent, ex.lang) for ex in data.examples)
    for name in intents:
        for lang in langs:
            n = counts[(name, lang)]
            if n == 0:
                found.errors.append(f"intent {name!r} has no examples in {lang}")
            elif n < min_examples:
                found.warnings.append(f"intent {name!r} has only {n} examples in {lang}")
    for ex in data.examples:
        for span in ex.entities:
            if span.entity not in entities:
                found.errors.append(f"unknown entity {span.entity!r} in {ex.text!r}")
            if ex.text[span.start : span.end] != span.text:
                found.errors.append(f"entity span does not match the text in {ex.text!r}")
    canonical_of = {s.casefold(): v for v, surfaces in data.synonyms.items() for s in surfaces}
    for ex in data.examples:
        for span in ex.entities:
            allowed = CANONICAL.get(span.entity)
            value = canonical_of.get(span.value.casefold(), span.value)
            if allowed is not None and value not in allowed:
                found.errors.append(f"{span.entity} value {value!r} is not canonical "
                                    f"({ex.text!r})")
    owner: dict[str, str] = {}
    for value, surfaces in data.synonyms.items():
        for surface in surfaces:
            if owner.setdefault(surface.casefold(), value) != value:
                found.errors.append(f"synonym {surface!r} maps to {owner[surface.casefold()]!r} "
                                    f"and {value!r}")
    for name, patterns in data.regexes.items():
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                found.errors.append(f"regex {name!r} does not compile: {exc}")
    intent_of: dict[str, str] = {}
    seen: Counter[tuple[str, str, str | None]] = Counter()
    for ex in data.examples:
        key = normalize(ex.text)
        if not key:
            found.warnings.append(f"example {ex.text!r} is empty after normalisation")
            continue
        first = intent_of.setdefault(key, ex.intent)
        if first != ex.intent:
            found.errors.append(f"example {ex.text!r} is in two intents: {first}, {ex.intent}")
        seen[(key, ex.intent, ex.lang)] += 1
    for (key, intent, lang), n in sorted(seen.items(), key=str):
        if n > 1:
            found.warnings.append(f"duplicate example {key!r} ({intent}, {lang}) x{n}")
    return found


def validate_dir(data_dir: Path) -> Findings:
    """Load and check a training data folder (unparseable YAML is an error, not a crash)."""
    try:
        data = load_dir(data_dir)
    except TrainingDataError as exc:
        return Findings(errors=[str(exc)])
    return check(data)
