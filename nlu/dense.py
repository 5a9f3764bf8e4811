"""A small neural network over sentence embeddings: trained with scikit-learn, run in numpy."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

HIDDEN = 256  # one ReLU layer; measured against logistic regression in nlu/embedded.py
EPOCHS = 60  # the CV accuracy is flat from here on; more only costs training time
L2 = 1e-3


class DenseModel:
    """Softmax(relu(x @ w1 + b1) @ w2 + b2): the inference half of sklearn's MLPClassifier."""

    def __init__(self, classes: Sequence[str], w1: np.ndarray, b1: np.ndarray,
                 w2: np.ndarray, b2: np.ndarray) -> None:
        """w1: (dimensions, hidden), w2: (hidden, n_classes)."""
        self.classes = list(classes)
        self.w1 = np.asarray(w1, dtype=np.float32)
        self.b1 = np.asarray(b1, dtype=np.float32)
        self.w2 = np.asarray(w2, dtype=np.float32)
        self.b2 = np.asarray(b2, dtype=np.float32)

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: Sequence[str], seed: int = 0) -> DenseModel:
        """Train on sentence vectors (rows) and their intents; deterministic for a seed."""
        mlp = MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=L2, max_iter=EPOCHS,
                            random_state=seed)
        with warnings.catch_warnings():  # a fixed number of epochs, not convergence
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp.fit(vectors, list(labels))
        (w1, w2), (b1, b2) = mlp.coefs_, mlp.intercepts_
        classes = [str(c) for c in mlp.classes_]
        if len(classes) == 2:  # sklearn's binary output is one logistic unit
            w2 = np.hstack([-w2 / 2, w2 / 2])
            b2 = np.array([-b2[0] / 2, b2[0] / 2])
        return cls(classes, w1, b1, w2, b2)

    def proba(self, vector: np.ndarray) -> np.ndarray:
        """Class probabilities of one sentence vector, in the order of self.classes."""
        hidden = np.maximum(vector @ self.w1 + self.b1, 0.0)
        z = (hidden @ self.w2 + self.b2).astype(np.float64)
        e = np.exp(z - z.max())
        return e / e.sum()

    def save(self, path: Path) -> None:
        """Write the model as a numpy archive (no pickle)."""
        np.savez(path, classes=np.array(self.classes), w1=self.w1, b1=self.b1, w2=self.w2,
                 b2=self.b2)

    @classmethod
    def load(cls, path: Path) -> DenseModel:
        """Read a model written by save()."""
        with np.load(path, allow_pickle=False) as z:
            return cls(z["classes"].tolist(), z["w1"], z["b1"], z["w2"], z["b2"])
