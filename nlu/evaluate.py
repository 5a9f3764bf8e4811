"""Cross-validation of intent models on the training data: `python -m nlu.evaluate`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from nlu.base import OUT_OF_SCOPE_INTENT
from nlu.embedded import FEATURES, C, classifier_text
from nlu.features import FeatureConfig
from nlu.rasa_yaml import TrainingData, load_dir

Classifier = Callable[[], object]

CANDIDATES: dict[str, tuple[FeatureConfig, Classifier]] = {
    "logreg char1-5+word1-2": (FEATURES, lambda: LogisticRegression(C=C, max_iter=2000)),
    "logreg char1-5": (FeatureConfig(1, 5, 0), lambda: LogisticRegression(C=C, max_iter=2000)),
    "logreg C=1": (FEATURES, lambda: LogisticRegression(C=1.0, max_iter=2000)),
    "logreg C=30": (FEATURES, lambda: LogisticRegression(C=30.0, max_iter=2000)),
    "calibrated linearsvc": (FEATURES, lambda: CalibratedClassifierCV(LinearSVC(C=0.5), cv=3)),
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

    def split(self, threshold: float) -> tuple[float, float]:
        """(in-scope accuracy, out-of-scope recall) at a threshold."""
        pred = self.predictions(threshold)
        ins = [p == t for p, t in zip(pred, self.intents, strict=True) if t != OUT_OF_SCOPE_INTENT]
        oos = [p == t for p, t in zip(pred, self.intents, strict=True) if t == OUT_OF_SCOPE_INTENT]
        return sum(ins) / len(ins), sum(oos) / max(len(oos), 1)


def cross_validate(data: TrainingData, config: FeatureConfig, make: Classifier,
                   folds: int = 5, seed: int = 0) -> CVResult:
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
        vectorizer = TfidfVectorizer(analyzer=config.analyzer(), sublinear_tf=True,
                                     lowercase=False)
        clf = make()
        clf.fit(vectorizer.fit_transform(texts[train]), [intents[i] for i in train])
        cols = [classes.index(c) for c in clf.classes_]
        proba[np.ix_(test, cols)] = clf.predict_proba(vectorizer.transform(texts[test]))
    return CVResult(classes, proba, intents, langs, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    """Print CV accuracy per candidate and language, and a threshold sweep for the default."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", nargs="?", type=Path,
                        default=Path(__file__).resolve().parent / "data")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=0.45)
    args = parser.parse_args(argv)
    data = load_dir(args.data_dir)
    langs = data.languages
    first = None
    for name, (config, make) in CANDIDATES.items():
        result = cross_validate(data, config, make, args.folds)
        first = first or result
        per_lang = " ".join(f"{g}={result.accuracy(args.threshold, g):.3f}" for g in langs)
        ins, oos = result.split(args.threshold)
        print(f"{name:28s} t={args.threshold:.2f} all={result.accuracy(args.threshold):.3f} "
              f"{per_lang} in-scope={ins:.3f} oos-recall={oos:.3f} ({result.seconds:.0f}s)")
    assert first is not None
    print("threshold sweep (first candidate):")
    for t in np.arange(0.2, 0.75, 0.05):
        ins, oos = first.split(t)
        print(f"  t={t:.2f} all={first.accuracy(t):.3f} in-scope={ins:.3f} oos-recall={oos:.3f}")


if __name__ == "__main__":
    main()
