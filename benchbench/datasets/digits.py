"""scikit-learn's bundled 8x8 digits, split 1,347 / 450 by a fixed permutation."""

from __future__ import annotations

import importlib.util

import numpy as np

from benchbench.datasets import files
from benchbench.datasets.base import DatasetInfo
from benchbench.errors import DataUnavailable

INFO = DatasetInfo("digits", (64,), 1_347, 450, 10, 16.0)


def availability() -> tuple[bool, str]:
    found = importlib.util.find_spec("sklearn") is not None
    return found, "bundled with scikit-learn" if found else files.needs("scikit-learn", "digits")


def load(*, download: bool | None = None):
    if importlib.util.find_spec("sklearn") is None:
        raise DataUnavailable(files.needs("scikit-learn", "digits"))
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    x, y = data.data[order], data.target[order]
    split = INFO.train_size
    source = f"sklearn.datasets.load_digits (scikit-learn {files.version('scikit-learn')})"
    return x[:split], y[:split], x[split:], y[split:], source
