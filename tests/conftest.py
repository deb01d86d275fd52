"""Shared fixtures: one instance of each installed backend, skipped with the reason if missing."""

from __future__ import annotations

import os

import numpy as np
import pytest

from benchbench import registry

# Keep the frameworks to the CI machine's two cores and quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

#: Backends that can run tests at all (cntk is known but never runs on Python 3.11).
TESTABLE = [name for name in registry.backend_names() if name != "cntk"]
_instances: dict[str, object] = {}


def load_backend(name: str):
    info = registry.probe(name)
    if not info.available:
        pytest.skip(f"{name}: {info.reason} ({info.remedy})")
    if name not in _instances:
        _instances[name] = registry.get_backend(name, device="cpu", seed=0)
    return _instances[name]


@pytest.fixture(params=TESTABLE)
def backend(request):
    """Every installed backend in turn."""
    return load_backend(request.param)


@pytest.fixture(params=[n for n in TESTABLE if n != "numpy"])
def other_backend(request):
    """Every installed backend except the NumPy reference."""
    return load_backend(request.param)


@pytest.fixture
def reference():
    return load_backend("numpy")


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits: (x_train, y_train, x_test, y_test), one-hot float32."""
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[data.target]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    split = 1347
    return x[:split], y[:split], x[split:], y[split:]
