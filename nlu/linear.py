"""TF-IDF + linear classifiers trained with scikit-learn, evaluated in plain numpy (fast)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from nlu.features import FeatureConfig, features, is_word_feature

Classifier = LogisticRegression | CalibratedClassifierCV
_NEGATION = ("", "replace", "add")  # FeatureConfig.negation as stored in a model file


class LinearModel:
    """Softmax over (TF-IDF features @ weights + intercept), the inference half of sklearn's LR."""

    def __init__(self, classes: Sequence[str], vocab: Sequence[str], idf: np.ndarray,
                 weights: np.ndarray, intercept: np.ndarray, config: FeatureConfig) -> None:
        """weights: (n_features, n_classes); idf: (n_features,); intercept: (n_classes,)."""
        self.classes = list(classes)
        self.vocab = {feature: i for i, feature in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float32)  # half the memory, same answers
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.config = config

    @classmethod
    def from_sklearn(cls, vectorizer: WeightedTfidfVectorizer, clf: Classifier,
                     config: FeatureConfig) -> LinearModel:
        """Compile a fitted vectorizer and logistic regression or temperature-scaled SVM."""
        vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        scale = vectorizer.scale_[:, None]  # (x * scale) @ w == x @ (scale * w): folded in
        if isinstance(clf, CalibratedClassifierCV):
            calibrated = clf.calibrated_classifiers_[0]
            if clf.method != "temperature" or len(clf.calibrated_classifiers_) != 1:
                raise ValueError("only ensemble=False, method='temperature' can be compiled")
            beta = float(calibrated.calibrators[0].beta_)
            coef = calibrated.estimator.coef_ * beta
            intercept = calibrated.estimator.intercept_ * beta
            if coef.shape[0] == 1:  # binary decision d: logits (-d, d)
                coef, intercept = np.vstack([-coef, coef]), np.array([-intercept[0],
                                                                      intercept[0]])
        else:
            coef, intercept = clf.coef_, clf.intercept_
            if coef.shape[0] == 1:  # binary: sigmoid(z) == softmax([-z/2, z/2])
                coef = np.vstack([-coef / 2, coef / 2])
                intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls([str(c) for c in clf.classes_], vocab, vectorizer.idf_, scale * coef.T,
                   intercept, config)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], config: FeatureConfig,
            kind: str = "svm", c: float = 1.0, word_weight: float = 1.0) -> LinearModel:
        """Train on normalised texts with scikit-learn and compile the result.

        word_weight: see WeightedTfidfVectorizer (the weights are folded into the model).
        """
        vectorizer, clf = fit_sklearn(texts, labels, config, kind, c, word_weight)
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
                 config=np.array([c.char_min, c.char_max, c.word_max, int(c.edge_words),
                                  _NEGATION.index(c.negation), int(c.contrast)]))

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by save()."""
        with np.load(path, allow_pickle=False) as z:
            char_min, char_max, word_max, *rest = (int(v) for v in z["config"])
            rest += [0] * (3 - len(rest))  # models saved before edge words / scopes
            config = FeatureConfig(char_min, char_max, word_max, bool(rest[0]),
                                   _NEGATION[rest[1]], bool(rest[2]))
            return cls(z["classes"].tolist(), z["vocab"].tolist(), z["idf"], z["weights"],
                       z["intercept"], config)


def make_classifier(kind: str, c: float) -> Classifier:
    """An unfitted classifier: "svm" (LinearSVC + temperature scaling) or "logreg"."""
    if kind == "svm":
        return CalibratedClassifierCV(LinearSVC(C=c), method="temperature", cv=5,
                                      ensemble=False)
    if kind == "logreg":
        return LogisticRegression(C=c, max_iter=3000)
    raise ValueError(f"unknown classifier kind {kind!r}")


class WeightedTfidfVectorizer:
    """sklearn's sublinear TF-IDF (rows of unit length) with the word-level columns scaled.

    Words, word pairs, edge words and scope words (nlu.features.is_word_feature) are
    multiplied by word_weight after the row is normalised; the char n-grams stay. A word is
    one feature against some fifteen char n-grams of it, so with equal weights the SVM's
    regularisation all but ignores whole words. LinearModel folds the scale into its
    weights, so parsing is unchanged.
    """

    def __init__(self, config: FeatureConfig, word_weight: float = 1.0) -> None:
        """An unfitted vectorizer for these features."""
        self.tfidf = TfidfVectorizer(analyzer=config.analyzer(), sublinear_tf=True,
                                     lowercase=False)
        self.word_weight = word_weight
        self.scale_ = np.ones(0)

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Feature -> column, as sklearn's."""
        return self.tfidf.vocabulary_

    @property
    def idf_(self) -> np.ndarray:
        """The idf per column, as sklearn's."""
        return self.tfidf.idf_

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn vocabulary, idf and column scale; the scaled matrix of texts."""
        matrix = self.tfidf.fit_transform(texts)
        scale = np.ones(matrix.shape[1])
        if self.word_weight != 1.0:
            for feature, column in self.tfidf.vocabulary_.items():
                if is_word_feature(feature):
                    scale[column] = self.word_weight
        self.scale_ = scale
        return self._scaled(matrix)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The scaled matrix of texts."""
        return self._scaled(self.tfidf.transform(texts))

    def _scaled(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        if self.word_weight == 1.0:
            return matrix
        return sp.csr_matrix(matrix @ sp.diags(self.scale_))


def make_vectorizer(config: FeatureConfig, word_weight: float = 1.0) -> WeightedTfidfVectorizer:
    """The TF-IDF vectorizer whose arithmetic LinearModel.proba reproduces."""
    return WeightedTfidfVectorizer(config, word_weight)


def fit_sklearn(texts: Sequence[str], labels: Sequence[str], config: FeatureConfig,
                kind: str = "svm", c: float = 1.0, word_weight: float = 1.0,
                ) -> tuple[WeightedTfidfVectorizer, Classifier]:
    """Fit the scikit-learn vectorizer and classifier (also used by evaluation)."""
    vectorizer = make_vectorizer(config, word_weight)
    clf = make_classifier(kind, c)
    clf.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, clf
