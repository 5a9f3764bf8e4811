"""A TF-IDF + linear classifier trained with scikit-learn, evaluated in plain numpy (fast)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nlu.features import FeatureConfig, features


class LinearModel:
    """Softmax over (TF-IDF features @ weights + intercept), the inference half of sklearn's LR."""

    def __init__(self, classes: Sequence[str], vocab: Sequence[str], idf: np.ndarray,
                 weights: np.ndarray, intercept: np.ndarray, config: FeatureConfig) -> None:
        """weights: (n_features, n_classes); idf: (n_features,); intercept: (n_classes,)."""
        self.classes = list(classes)
        self.vocab = {feature: i for i, feature in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.config = config

    @classmethod
    def from_sklearn(cls, vectorizer: TfidfVectorizer, clf: LogisticRegression,
                     config: FeatureConfig) -> LinearModel:
        """Compile a fitted (sublinear_tf, l2-normalised) vectorizer and logistic regression."""
        vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        coef, intercept = clf.coef_, clf.intercept_
        if coef.shape[0] == 1:  # binary: sigmoid(z) == softmax([-z/2, z/2])
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls([str(c) for c in clf.classes_], vocab, vectorizer.idf_, coef.T, intercept,
                   config)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], config: FeatureConfig,
            c: float = 10.0, class_weight: str | None = None) -> LinearModel:
        """Train on normalised texts with scikit-learn and compile the result."""
        vectorizer, clf = fit_sklearn(texts, labels, config, c, class_weight)
        return cls.from_sklearn(vectorizer, clf, config)

    def proba(self, text: str) -> np.ndarray:
        """Class probabilities of a normalised text, in the order of self.classes."""
        return self.proba_features(features(text, self.config))

    def proba_features(self, grams: list[str]) -> np.ndarray:
        """Class probabilities from already extracted features (of self.config)."""
        vocab = self.vocab
        counts = Counter(i for i in map(vocab.get, grams) if i is not None)
        if not counts:
            z = self.intercept
        else:
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if tf.max() > 1:
                tf = 1.0 + np.log(tf)
            x = tf * self.idf[idx]
            x /= math.sqrt(float(x @ x))
            z = x @ self.weights[idx] + self.intercept
        e = np.exp(z - z.max())
        return e / e.sum()

    def save(self, path: Path) -> None:
        """Write the model as a numpy archive (no pickle)."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        c = self.config
        np.savez(path, classes=np.array(self.classes), vocab=np.array(vocab), idf=self.idf,
                 weights=self.weights.astype(np.float32), intercept=self.intercept,
                 config=np.array([c.char_min, c.char_max, c.word_max]))

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by save()."""
        with np.load(path, allow_pickle=False) as z:
            config = FeatureConfig(*(int(v) for v in z["config"]))
            return cls(z["classes"].tolist(), z["vocab"].tolist(), z["idf"], z["weights"],
                       z["intercept"], config)


def fit_sklearn(texts: Sequence[str], labels: Sequence[str], config: FeatureConfig,
                c: float = 10.0, class_weight: str | None = None
                ) -> tuple[TfidfVectorizer, LogisticRegression]:
    """Fit the scikit-learn vectorizer and logistic regression (also used by evaluation)."""
    vectorizer = TfidfVectorizer(analyzer=config.analyzer(), sublinear_tf=True, lowercase=False)
    x = vectorizer.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
    clf.fit(x, labels)
    return vectorizer, clf
