"""`citybot nlu export-rasa DIR`: the training data as a complete Rasa 3 project.

The pipeline is the light, language-agnostic one that trains in about a minute on this data:
whitespace tokens, word 1-2-gram and char_wb 1-4-gram counts (umlaut-free spellings and
typos share n-grams, so German and English work in one model), logistic regression for the
intent, a CRF plus the YAML regexes for entities, synonyms mapped to canonical values, and
Rasa's FallbackClassifier with citybot's threshold. out_of_scope is a normal intent there;
citybot's Rasa backend reports it as nlu_fallback. DIET would take ~30 s per epoch here.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from nlu.rasa_yaml import Example, TrainingData


def config_yml(threshold: float) -> str:
    """The Rasa config.yml (language "de": most users write German; the pipeline is generic)."""
    return f"""# Exported by `citybot nlu export-rasa`. Train with: rasa train nlu
recipe: default.v1
assistant_id: citybot
language: de
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
    case_sensitive: false
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: word
    min_ngram: 1
    max_ngram: 2
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
    max_iter: 500
  - name: CRFEntityExtractor
  - name: RegexEntityExtractor
    case_sensitive: false
    use_lookup_tables: false
    use_regexes: true
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: {threshold}
policies: []
"""


def annotate(ex: Example) -> str:
    """One example in Rasa markup (entity values written only when they differ)."""
    out, pos = [], 0
    for span in sorted(ex.entities, key=lambda s: s.start):
        if span.start < pos:  # overlapping annotations cannot be written: keep the first
            continue
        out.append(ex.text[pos : span.start])
        surface = ex.text[span.start : span.end]
        if span.value == surface:
            out.append(f"[{surface}]({span.entity})")
        else:
            spec = json.dumps({"entity": span.entity, "value": span.value}, ensure_ascii=False)
            out.append(f"[{surface}]{spec}")
        pos = span.end
    out.append(ex.text[pos:])
    return "".join(out).replace("\n", " ")


def _block(lines: list[str]) -> str:
    return "".join(f"    - {line}\n" for line in lines)


def nlu_yml(data: TrainingData) -> str:
    """data/nlu.yml: every intent (both languages together), synonyms, lookups, regexes."""
    by_intent: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for ex in data.examples:
        line = annotate(ex)
        if (ex.intent, line) in seen or not line.strip():
            continue
        seen.add((ex.intent, line))
        by_intent.setdefault(ex.intent, []).append(line)
    parts = ['version: "3.1"\nnlu:\n']
    for intent, lines in sorted(by_intent.items()):
        parts.append(f"- intent: {intent}\n  examples: |\n{_block(lines)}")
    for value, surfaces in sorted(data.synonyms.items()):
        parts.append(f"- synonym: {value}\n  examples: |\n{_block(sorted(surfaces))}")
    for name, items in sorted(data.lookups.items()):
        parts.append(f"- lookup: {name}\n  examples: |\n{_block(sorted(set(items)))}")
    for name, patterns in sorted(data.regexes.items()):
        parts.append(f"- regex: {name}\n  examples: |\n{_block(patterns)}")
    return "".join(parts)


def domain_yml(data: TrainingData) -> str:
    """domain.yml: the intents and entities (no responses: this is an NLU-only project)."""
    entities = sorted({span.entity for ex in data.examples for span in ex.entities}
                      | set(data.regexes))
    doc = {"version": "3.1", "intents": data.intents,
           "entities": entities}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def export(data: TrainingData, out_dir: Path, *, threshold: float) -> list[Path]:
    """Write config.yml, domain.yml and data/nlu.yml below out_dir; returns the files."""
    out_dir = Path(out_dir)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    files = {
        out_dir / "config.yml": config_yml(threshold),
        out_dir / "domain.yml": domain_yml(data),
        out_dir / "data" / "nlu.yml": nlu_yml(data),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
