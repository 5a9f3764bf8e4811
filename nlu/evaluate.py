"""Cross-validation of intent models on the training data: `python -m nlu.evaluate`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from nlu.base import OUT_OF_SCOPE_INTENT
from nlu.embedded import DEFAULT_THRESHOLD, FEATURES, KIND, WORD_WEIGHT, C, classifier_text
from nlu.features import FeatureConfig
from nlu.language import LanguageDetector
from nlu.linear import make_classifier, make_vectorizer
from nlu.rasa_yaml import TrainingData, load_dir

Factory = Callable[[], object]

CANDIDATES: dict[str, tuple[FeatureConfig, Factory, float]] = {
    f"{KIND} C={C} char1-5+word1-2+edge+scopes, words x{WORD_WEIGHT:g} (chosen)": (
        FEATURES, lambda: make_classifier(KIND, C), WORD_WEIGHT),
    f"{KIND} C={C} words x1 (before issue 16's second round)": (
        FEATURES, lambda: make_classifier(KIND, C), 1.0),
    "svm C=1 char1-5+word1-2 (the earlier model)": (FeatureConfig(1, 5, 2),
                                                    lambda: make_classifier("svm", 1.0), 1.0),
    f"{KIND} C={C} char1-5": (FeatureConfig(1, 5, 0), lambda: make_classifier(KIND, C), 1.0),
    "logreg C=30 char1-5+word1-2+edge": (FEATURES, lambda: make_classifier("logreg", 30.0),
                                         WORD_WEIGHT),
    # the negation / contrast scopes of issue 16 (the chosen model: neg replace + aff)
    f"{KIND} C={C} no scopes": (replace(FEATURES, negation="", contrast=False),
                                lambda: make_classifier(KIND, C), WORD_WEIGHT),
    f"{KIND} C={C} neg add + aff": (replace(FEATURES, negation="add"),
                                    lambda: make_classifier(KIND, C), WORD_WEIGHT),
    f"{KIND} C={C} neg replace, no aff": (replace(FEATURES, contrast=False),
                                          lambda: make_classifier(KIND, C), WORD_WEIGHT),
}


@dataclass
class CVResult:
    """Out-of-fold probabilities for every example."""

    classes: list[str]
    proba: np.ndarray  # (n_examples, n_classes)
    intents: list[str]
    langs: list[str]
    seconds: float

    def predictions(self, threshold: float) -> list[str]:
        """Predicted intents with out_of_scope / below-threshold mapped to out_of_scope."""
        best = self.proba.argmax(axis=1)
        return [
            OUT_OF_SCOPE_INTENT if self.proba[i, b] < threshold else self.classes[b]
            for i, b in enumerate(best)
        ]

    def accuracy(self, threshold: float, lang: str | None = None) -> float:
        """Share of examples whose intent (or fallback for out_of_scope) is right."""
        pred = self.predictions(threshold)
        pairs = [(p, t) for p, t, g in zip(pred, self.intents, self.langs, strict=True)
                 if lang is None or g == lang]
        return sum(p == t for p, t in pairs) / len(pairs)

    def wrong(self, threshold: float) -> float:
        """Share of messages answered with a wrong intent (a fallback is never wrong here)."""
        pred = self.predictions(threshold)
        return sum(p not in (t, OUT_OF_SCOPE_INTENT)
                   for p, t in zip(pred, self.intents, strict=True)) / len(pred)

    def split(self, threshold: float) -> tuple[float, float]:
        """(in-scope accuracy, out-of-scope recall) at a threshold."""
        pred = self.predictions(threshold)
        ins = [p == t for p, t in zip(pred, self.intents, strict=True) if t != OUT_OF_SCOPE_INTENT]
        oos = [p == t for p, t in zip(pred, self.intents, strict=True) if t == OUT_OF_SCOPE_INTENT]
        return sum(ins) / len(ins), sum(oos) / max(len(oos), 1)


def cross_validate(data: TrainingData, config: FeatureConfig, make: Factory,
                   folds: int = 5, seed: int = 0, word_weight: float = 1.0) -> CVResult:
    """Stratified k-fold (by intent and language) out-of-fold probabilities."""
    texts = np.array([classifier_text(ex.text) for ex in data.examples], dtype=object)
    intents = [ex.intent for ex in data.examples]
    langs = [ex.lang or "?" for ex in data.examples]
    strata = [f"{i}|{g}" for i, g in zip(intents, langs, strict=True)]
    classes = sorted(set(intents))
    proba = np.zeros((len(texts), len(classes)))
    started = time.perf_counter()
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts,
                                                                                    strata):
        vectorizer = make_vectorizer(config, word_weight)
        clf: Any = make()
        clf.fit(vectorizer.fit_transform(texts[train]), [intents[i] for i in train])
        cols = [classes.index(c) for c in clf.classes_]
        proba[np.ix_(test, cols)] = clf.predict_proba(vectorizer.transform(texts[test]))
    return CVResult(classes, proba, intents, langs, time.perf_counter() - started)


def language_accuracy(data: TrainingData, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """Cross-validated accuracy of the language detector, per language."""
    examples = [ex for ex in data.examples if ex.lang]
    texts = [classifier_text(ex.text) for ex in examples]
    langs = [ex.lang or "" for ex in examples]
    right: dict[str, list[bool]] = {}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts,
                                                                                    langs):
        detector = LanguageDetector.fit([texts[i] for i in train], [langs[i] for i in train])
        for i in test:
            right.setdefault(langs[i], []).append(detector.detect(texts[i]) == langs[i])
    return {lang: sum(r) / len(r) for lang, r in sorted(right.items())}


def main(argv: list[str] | None = None) -> None:
    """Print CV accuracy per candidate and language, and a threshold sweep for the default."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", nargs="?", type=Path,
                        default=Path(__file__).resolve().parent / "data")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--only-chosen", action="store_true")
    args = parser.parse_args(argv)
    data = load_dir(args.data_dir)
    langs = data.languages
    first = None
    candidates = list(CANDIDATES.items())[: 1 if args.only_chosen else None]
    for name, (config, make, word_weight) in candidates:
        result = cross_validate(data, config, make, args.folds, word_weight=word_weight)
        first = first or result
        per_lang = " ".join(f"{g}={result.accuracy(args.threshold, g):.3f}" for g in langs)
        ins, oos = result.split(args.threshold)
        print(f"{name:36s} t={args.threshold:.2f} all={result.accuracy(args.threshold):.3f} "
              f"{per_lang} in-scope={ins:.3f} oos-recall={oos:.3f} ({result.seconds:.0f}s)")
    assert first is not None
    per_lang = " ".join(f"{g}={a:.3f}" for g, a in language_accuracy(data, args.folds).items())
    print(f"language detection: {per_lang}")
    print("threshold sweep (first candidate):")
    best = first.proba.argmax(axis=1)
    argmax = np.mean([first.classes[b] == t for b, t in zip(best, first.intents, strict=True)])
    print(f"  argmax accuracy (no threshold, out_of_scope as a class) {argmax:.3f}")
    for t in np.arange(0.1, 0.75, 0.05):
        ins, oos = first.split(t)
        per_lang = " ".join(f"{g}={first.accuracy(t, g):.3f}" for g in langs)
        print(f"  t={t:.2f} all={first.accuracy(t):.3f} {per_lang} in-scope={ins:.3f} "
              f"oos-recall={oos:.3f} wrong-intent={first.wrong(t):.3f}")


if __name__ == "__main__":
    main()
