"""Three Gaussian blobs in 8 dimensions: learnable in a few epochs, made in microseconds."""

from __future__ import annotations

import numpy as np

from benchbench.datasets import Prepared

FEATURES, CLASSES = 8, 3


def blobs(n_train: int = 256, n_test: int = 64, seed: int = 0) -> Prepared:
    rng = np.random.default_rng(1234)
    centers = rng.normal(0, 2.0, size=(CLASSES, FEATURES))

    def draw(n):
        labels = rng.integers(0, CLASSES, size=n)
        x = centers[labels] + rng.normal(0, 1.0, size=(n, FEATURES))
        return x.astype(np.float32), np.eye(CLASSES, dtype=np.float32)[labels]

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    return Prepared(x_train, y_train, x_test, y_test, "blobs", False, "tests.fake_workloads")
