"""Load Rasa 3 NLU training data (YAML): examples, entity spans, synonyms, lookups, regexes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

# [surface](entity) | [surface](entity:value) | [surface]{"entity": "...", "value": "..."}
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]+?\}))"
)
_LANG_DIR = re.compile(r"^[a-z]{2}$")
_LANG_SUFFIX = re.compile(r"[_.-](?P<lang>[a-z]{2})$")

YAML_SUFFIXES = (".yml", ".yaml")


class TrainingDataError(ValueError):
    """The training data is not valid Rasa 3 NLU YAML."""


@dataclass(frozen=True)
class EntitySpan:
    """An annotated entity inside an example (offsets in the plain example text)."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Example:
    """One training utterance with its intent, language and entity annotations."""

    text: str
    intent: str
    lang: str | None
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    """Everything the NLU learns from: examples plus synonyms, lookup tables and regexes."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, set[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: TrainingData) -> None:
        """Add another file's data to this one (synonyms/lookups/regexes of the same name merge)."""
        self.examples.extend(other.examples)
        for value, surfaces in other.synonyms.items():
            self.synonyms.setdefault(value, set()).update(surfaces)
        for name, entries in other.lookups.items():
            self.lookups.setdefault(name, []).extend(entries)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)

    @property
    def intents(self) -> list[str]:
        """The sorted intent names."""
        return sorted({ex.intent for ex in self.examples})

    @property
    def languages(self) -> list[str]:
        """The sorted languages of the examples (from the folder or file names)."""
        return sorted({ex.lang for ex in self.examples if ex.lang})


def parse_example(raw: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """Strip entity markup from one example; return the plain text and its entity spans."""
    plain: list[str] = []
    spans: list[EntitySpan] = []
    pos = 0
    length = 0
    for m in _ANNOTATION.finditer(raw):
        before = raw[pos : m.start()]
        plain.append(before)
        length += len(before)
        surface = m.group("text")
        if m.group("json"):
            try:
                spec = json.loads(m.group("json"))
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"bad entity JSON in {raw!r}: {exc}") from exc
            entity, value = spec.get("entity"), spec.get("value", surface)
        else:
            entity, value = m.group("entity"), m.group("value") or surface
        if not entity:
            raise TrainingDataError(f"entity without a name in {raw!r}")
        spans.append(EntitySpan(entity.strip(), str(value).strip(), length, length + len(surface),
                                surface))
        plain.append(surface)
        length += len(surface)
        pos = m.end()
    plain.append(raw[pos:])
    return "".join(plain), tuple(spans)


def _block_items(block: Any, where: str) -> list[str]:
    """The entries of an `examples:` block (a `- item` string block or a YAML list)."""
    if block is None:
        return []
    if isinstance(block, str):
        items = []
        for line in block.splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("-"):
                raise TrainingDataError(f"{where}: example line without '- ': {line!r}")
            items.append(line[1:].strip())
        return [item for item in items if item]
    if isinstance(block, list):
        items = []
        for item in block:
            text = item.get("text") if isinstance(item, dict) else item
            if not isinstance(text, str):
                raise TrainingDataError(f"{where}: example is not text: {item!r}")
            items.append(text.strip())
        return items
    raise TrainingDataError(f"{where}: 'examples' must be a block string or a list")


def language_of(path: Path, data_dir: Path | None = None) -> str | None:
    """Infer a file's language from a two-letter folder (de/, en/) or a name suffix (_de)."""
    parts = path.relative_to(data_dir).parts[:-1] if data_dir else path.parts[:-1]
    for part in reversed(parts):
        if _LANG_DIR.match(part):
            return part
    m = _LANG_SUFFIX.search(path.stem)
    return m.group("lang") if m else None


def load_text(text: str, lang: str | None = None, where: str = "<string>") -> TrainingData:
    """Parse the YAML text of one training data file."""
    try:
        doc = yaml.load(text, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{where}: {exc}") from exc
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{where}: top level must be a mapping")
    data = TrainingData()
    for item in doc.get("nlu") or []:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{where}: every 'nlu' item must be a mapping")
        items = _block_items(item.get("examples"), where)
        if "intent" in item:
            intent = str(item["intent"])
            for raw in items:
                plain, spans = parse_example(raw)
                data.examples.append(Example(plain, intent, lang, spans))
        elif "synonym" in item:
            data.synonyms.setdefault(str(item["synonym"]), set()).update(items)
        elif "lookup" in item:
            data.lookups.setdefault(str(item["lookup"]), []).extend(items)
        elif "regex" in item:
            data.regexes.setdefault(str(item["regex"]), []).extend(items)
        else:
            raise TrainingDataError(f"{where}: unknown nlu item {sorted(item)}")
    return data


def training_files(data_dir: Path) -> list[Path]:
    """All YAML files below data_dir, sorted (a stable order makes a stable cache key)."""
    return sorted(p for p in data_dir.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def load_files(paths: Iterable[Path], data_dir: Path | None = None) -> TrainingData:
    """Load and merge several training data files."""
    data = TrainingData()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        data.merge(load_text(text, language_of(path, data_dir), str(path)))
    return data


def load_dir(data_dir: Path) -> TrainingData:
    """Load every training data file below data_dir."""
    files = training_files(data_dir)
    if not files:
        raise TrainingDataError(f"no training data (*.yml) below {data_dir}")
    return load_files(files, data_dir)
