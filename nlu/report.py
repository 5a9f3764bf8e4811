"""`citybot nlu evaluate`: intent and entity metrics of a backend on test data, or by K-fold CV.

Intent accuracy counts an out_of_scope example as right when it ends as nlu_fallback (the
threshold applies); "top-1" is the same without the threshold (the best intent, with
out_of_scope still meaning fallback). Entities are compared per example as a multiset of
(entity, value) pairs, values case-folded: precision and recall per entity type.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.model_selection import StratifiedKFold

from nlu.base import FALLBACK_INTENT, OUT_OF_SCOPE_INTENT
from nlu.embedded import EmbeddedNLU
from nlu.entities import CATALOGUE_ENTITIES
from nlu.rasa_yaml import EntitySpan, Example, TrainingData, load_dir, load_files

# text, lang -> (parse result, top-1 intent without threshold)
Predictor = Callable[[str, str | None], tuple[dict, str]]


def expected_intent(intent: str) -> str:
    """What a right answer looks like: out_of_scope must end as nlu_fallback."""
    return FALLBACK_INTENT if intent == OUT_OF_SCOPE_INTENT else intent


def load_examples(path: Path) -> list[Example]:
    """Test examples from Rasa YAML (a file, a folder of them, or a glob) or JSONL.

    JSONL lines: {"text", "lang", "intent", "entities": [{"entity", "value", ...}]}.
    """
    if any(ch in str(path) for ch in "*?["):  # a glob: 'nlu/eval/*/hard.yml'
        pattern = str(path)
        root = Path("/") if pattern.startswith("/") else Path()
        files = sorted(root.glob(pattern.lstrip("/")))
        if not files:
            raise ValueError(f"no test file matches {pattern}")
        return load_files(files).examples
    path = Path(path)
    if path.is_dir():
        return load_dir(path).examples
    if path.suffix == ".jsonl":
        examples = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or "text" not in row or "intent" not in row:
                raise ValueError(f"{path}:{n}: needs at least 'text' and 'intent'")
            spans = tuple(
                EntitySpan(e["entity"], str(e["value"]), e.get("start", 0), e.get("end", 0),
                           str(e.get("text", e["value"])))
                for e in row.get("entities") or []
            )
            examples.append(Example(row["text"], row["intent"], row.get("lang"), spans))
        return examples
    return load_files([path]).examples


def embedded_predictor(nlu: EmbeddedNLU) -> Predictor:
    """Parse with the embedded backend; also report its top-1 intent without threshold."""
    def predict(text: str, lang: str | None) -> tuple[dict, str]:
        result = nlu.parse_sync(text, lang)
        ranking = nlu.rank(text)
        top = expected_intent(ranking[0][0]) if ranking else FALLBACK_INTENT
        return result, top

    return predict


@dataclass
class Prediction:
    """One evaluated example."""

    lang: str | None
    gold: str
    predicted: str
    top1: str
    gold_entities: list[tuple[str, str]]
    predicted_entities: list[tuple[str, str]]
    text: str = ""


def _entity_pairs(entities: Sequence[dict] | Sequence[EntitySpan]) -> list[tuple[str, str]]:
    pairs = []
    for e in entities:
        if isinstance(e, EntitySpan):
            pairs.append((e.entity, e.value.casefold()))
        else:
            pairs.append((str(e["entity"]), str(e["value"]).casefold()))
    return pairs


def predict_all(predict: Predictor, examples: Sequence[Example]) -> list[Prediction]:
    """Run the predictor over test examples."""
    out = []
    for ex in examples:
        result, top1 = predict(ex.text, ex.lang)
        out.append(Prediction(ex.lang, expected_intent(ex.intent), result["intent"]["name"], top1,
                              _entity_pairs(ex.entities), _entity_pairs(result["entities"]),
                              ex.text))
    return out


@dataclass
class PRF:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


def _prf(tp: int, fp: int, fn: int) -> PRF:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(p, r, f, tp + fn)


@dataclass
class Report:
    """All metrics of one evaluation."""

    n: int
    accuracy: float
    top1_accuracy: float
    accuracy_by_lang: dict[str, float]
    macro_f1: float
    intents: dict[str, PRF]
    entities: dict[str, PRF]
    entity_micro: PRF
    confused: list[tuple[str, str, int]]
    labels: list[str]
    matrix: list[list[int]]
    seconds: dict[str, float] = field(default_factory=dict)
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-friendly form (for --json)."""
        def prf(x: PRF) -> dict:
            return {"precision": round(x.precision, 4), "recall": round(x.recall, 4),
                    "f1": round(x.f1, 4), "support": x.support}
        return {
            "n": self.n, "accuracy": round(self.accuracy, 4),
            "top1_accuracy": round(self.top1_accuracy, 4),
            "accuracy_by_lang": {k: round(v, 4) for k, v in self.accuracy_by_lang.items()},
            "macro_f1": round(self.macro_f1, 4),
            "intents": {k: prf(v) for k, v in self.intents.items()},
            "entities": {k: prf(v) for k, v in self.entities.items()},
            "entity_micro": prf(self.entity_micro),
            "confused": [list(c) for c in self.confused],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def build_report(preds: Sequence[Prediction], top_confused: int = 10) -> Report:
    """Compute every metric from predictions."""
    n = len(preds)
    right = [p.gold == p.predicted for p in preds]
    by_lang: dict[str, list[bool]] = {}
    for p, ok in zip(preds, right, strict=True):
        if p.lang:
            by_lang.setdefault(p.lang, []).append(ok)
    gold_labels = sorted({p.gold for p in preds})
    labels = sorted({p.gold for p in preds} | {p.predicted for p in preds})
    intents = {}
    for label in labels:
        tp = sum(p.gold == label and p.predicted == label for p in preds)
        fp = sum(p.gold != label and p.predicted == label for p in preds)
        fn = sum(p.gold == label and p.predicted != label for p in preds)
        intents[label] = _prf(tp, fp, fn)
    macro = sum(intents[g].f1 for g in gold_labels) / max(len(gold_labels), 1)
    counts: dict[str, list[int]] = {}
    for p in preds:
        gold, pred = Counter(p.gold_entities), Counter(p.predicted_entities)
        for (entity, _), k in (gold & pred).items():
            counts.setdefault(entity, [0, 0, 0])[0] += k
        for (entity, _), k in (pred - gold).items():
            counts.setdefault(entity, [0, 0, 0])[1] += k
        for (entity, _), k in (gold - pred).items():
            counts.setdefault(entity, [0, 0, 0])[2] += k
    entities = {e: _prf(*c) for e, c in sorted(counts.items())}
    totals = [sum(c[i] for c in counts.values()) for i in range(3)]
    confused = Counter((p.gold, p.predicted) for p in preds if p.gold != p.predicted)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p in preds:
        matrix[index[p.gold]][index[p.predicted]] += 1
    return Report(
        n=n,
        accuracy=sum(right) / max(n, 1),
        top1_accuracy=sum(p.gold == p.top1 for p in preds) / max(n, 1),
        accuracy_by_lang={k: sum(v) / len(v) for k, v in sorted(by_lang.items())},
        macro_f1=macro,
        intents=intents,
        entities=entities,
        entity_micro=_prf(*totals),
        confused=[(g, p, k) for (g, p), k in confused.most_common(top_confused)],
        labels=labels,
        matrix=matrix,
        misses=[(p.text, p.gold, p.predicted) for p in preds if p.gold != p.predicted],
    )


# Not scored by cross-validation: the catalogue entities need the database, and the training
# data leaves amounts, quantities and times mostly plain (rules find them); a test FILE that
# annotates them scores them.
CV_UNSCORED_ENTITIES = CATALOGUE_ENTITIES | {"amount", "quantity", "time"}


def _without(pairs: list[tuple[str, str]], unscored: frozenset[str]) -> list[tuple[str, str]]:
    return [pair for pair in pairs if pair[0] not in unscored]


def cross_validate(data: TrainingData, *, folds: int = 5, threshold: float, seed: int = 0,
                   foreign: bool = False, sentence_vectors: bool = True,
                   ) -> tuple[list[Prediction], float]:
    """K-fold CV of the whole embedded pipeline (stratified by intent and language).

    Synonyms, lookups and regexes are the dictionary of the data and stay in every fold;
    only the examples are split. Entities of CV_UNSCORED_ENTITIES are left out of the
    predictions (unless foreign: other data annotates what it annotates). Returns the
    out-of-fold predictions and the mean training time per fold.
    """
    unscored = frozenset() if foreign else CV_UNSCORED_ENTITIES
    examples = data.examples
    strata = [f"{ex.intent}|{ex.lang}" for ex in examples]
    preds: list[Prediction | None] = [None] * len(examples)
    train_seconds = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(examples, strata):
        part = TrainingData([examples[i] for i in train], data.synonyms, data.lookups,
                            data.regexes)
        nlu = EmbeddedNLU.from_training_data(part, threshold=threshold, foreign=foreign,
                                             sentence_vectors=sentence_vectors)
        train_seconds.append(nlu.train_seconds)
        fold_preds = predict_all(embedded_predictor(nlu), [examples[i] for i in test])
        for i, p in zip(test, fold_preds, strict=True):
            p.gold_entities = _without(p.gold_entities, unscored)
            p.predicted_entities = _without(p.predicted_entities, unscored)
            preds[i] = p
    return [p for p in preds if p is not None], sum(train_seconds) / len(train_seconds)


def format_report(report: Report, *, per_intent: bool = True) -> str:
    """The human-readable report."""
    lines = [f"examples: {report.n}"]
    langs = " ".join(f"{k}={v:.3f}" for k, v in report.accuracy_by_lang.items())
    lines.append(f"intent accuracy: {report.accuracy:.3f}" + (f" ({langs})" if langs else ""))
    lines.append(f"intent top-1 accuracy (no threshold): {report.top1_accuracy:.3f}")
    lines.append(f"intent macro F1: {report.macro_f1:.3f}")
    for key, value in report.seconds.items():
        lines.append(f"{key}: {value:.2f} s")
    if per_intent:
        lines.append("")
        lines.append(f"{'intent':28s} {'prec':>6s} {'rec':>6s} {'f1':>6s} {'n':>5s}")
        for label, m in report.intents.items():
            lines.append(f"{label:28s} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} "
                         f"{m.support:5d}")
    lines.append("")
    e = report.entity_micro
    lines.append(f"entities (micro): precision {e.precision:.3f} recall {e.recall:.3f} "
                 f"F1 {e.f1:.3f} (n={e.support})")
    lines.append(f"{'entity':28s} {'prec':>6s} {'rec':>6s} {'f1':>6s} {'n':>5s}")
    for label, m in report.entities.items():
        lines.append(f"{label:28s} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} "
                     f"{m.support:5d}")
    lines.append("")
    lines.append("most confused (gold -> predicted):")
    for gold, pred, k in report.confused:
        lines.append(f"  {k:4d}  {gold} -> {pred}")
    return "\n".join(lines)


def write_confusion_png(report: Report, path: Path) -> None:
    """The confusion matrix as a PNG (matplotlib when installed, else a plain heat map)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        _write_plain_png(report.matrix, path)
        return
    size = max(6.0, 0.28 * len(report.labels) + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        ax.imshow([[min(v, 10) for v in row] for row in report.matrix], cmap="Blues")
        ticks = range(len(report.labels))
        ax.set_xticks(ticks, report.labels, rotation=90, fontsize=7)
        ax.set_yticks(ticks, report.labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(f"intent confusion (accuracy {report.accuracy:.3f}, n={report.n})")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def _write_plain_png(matrix: list[list[int]], path: Path, cell: int = 8) -> None:
    """A grey-scale heat map without labels (no dependency): darker = more examples."""
    n = len(matrix)
    top = max((v for row in matrix for v in row), default=1) or 1
    rows = []
    for r in range(n * cell):
        line = bytes(255 - int(255 * matrix[r // cell][c // cell] / top) for c in range(n * cell))
        rows.append(b"\x00" + line)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", n * cell, n * cell, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


async def predict_all_async(nlu: Any, examples: Sequence[Example]) -> list[Prediction]:
    """Run an async backend (the Rasa server) over test examples, one message at a time."""
    out = []
    for ex in examples:
        result = await nlu.parse(ex.text, ex.lang)
        names = [r["name"] for r in result["intent_ranking"] if r["name"] != FALLBACK_INTENT]
        intent = result["intent"]["name"]
        # a fallback for low confidence carries the threshold as its confidence (Rasa)
        low = (intent == FALLBACK_INTENT and names
               and result["intent"]["confidence"] == round(getattr(nlu, "threshold", -1), 4))
        top1 = names[0] if low else intent
        out.append(Prediction(ex.lang, expected_intent(ex.intent), intent, top1,
                              _entity_pairs(ex.entities), _entity_pairs(result["entities"]),
                              ex.text))
    return out


def evaluate_file(nlu: Any, path: Path) -> Report:
    """Evaluate a backend on a test file (the embedded one, or any with an async parse)."""
    started = time.perf_counter()
    examples = load_examples(path)
    if isinstance(nlu, EmbeddedNLU):
        preds = predict_all(embedded_predictor(nlu), examples)
    else:
        preds = asyncio.run(_predict_and_close(nlu, examples))
    report = build_report(preds)
    report.seconds["evaluation time"] = time.perf_counter() - started
    return report


async def _predict_and_close(nlu: Any, examples: Sequence[Example]) -> list[Prediction]:
    try:
        return await predict_all_async(nlu, examples)
    finally:
        await nlu.close()
