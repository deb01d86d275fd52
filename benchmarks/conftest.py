"""The pytest-benchmark suite: the steady-state train step of each (backend, quick workload).

Kept out of ``tests/`` so that the normal test run never times anything. Typical use::

    pytest benchmarks/ --benchmark-autosave                  # store a baseline in .benchmarks/
    pytest benchmarks/ --benchmark-compare --benchmark-compare-fail=median:10%
    pytest benchmarks/ -k "torch and digits_mlp"            # one cell

One round is one train step on a fixed batch of random data of the workload's real shapes;
the step is compiled and warmed up before timing starts. Environment variables:

- ``BENCHBENCH_BENCH_BACKENDS``: comma-separated backends (default: every known one but CNTK,
  which cannot run on Python 3.11; a backend that is not installed is skipped with the reason).
- ``BENCHBENCH_BENCH_WORKLOADS``: comma-separated workloads, or ``all`` (default: the quick
  ones, `QUICK_WORKLOADS`).
- ``BENCHBENCH_THREADS``: CPU threads each framework may use (default: its own choice).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from benchbench import registry, workloads

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUICK_WORKLOADS = ("digits_mlp", "mnist1d_mlp", "mnist1d_cnn")
NEVER_RUNS = ("cntk",)
WARMUP_STEPS = 3


def _listed(variable: str) -> list[str] | None:
    text = os.environ.get(variable, "").strip()
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def selected_backends() -> list[str]:
    return _listed("BENCHBENCH_BENCH_BACKENDS") or [
        n for n in registry.backend_names() if n not in NEVER_RUNS
    ]


def selected_workloads() -> list[str]:
    names = _listed("BENCHBENCH_BENCH_WORKLOADS") or list(QUICK_WORKLOADS)
    return sorted(workloads.discover()) if names == ["all"] else names


def pytest_generate_tests(metafunc):
    if {"backend_name", "workload_name"} <= set(metafunc.fixturenames):
        cells = [(b, w) for b in selected_backends() for w in selected_workloads()]
        metafunc.parametrize(
            ("backend_name", "workload_name"), cells, ids=[f"{b}-{w}" for b, w in cells]
        )


def random_batch(workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the workload's input and target shapes (targets in its loss's format)."""
    rng = np.random.default_rng(seed)
    n = workload.batch_size
    x = rng.standard_normal((n, *workload.input_shape)).astype(np.float32)
    labels = rng.integers(0, workload.num_classes, size=n)
    if workload.loss == "sparse_categorical_crossentropy":
        y = labels.astype(np.int32)
    elif workload.loss == "categorical_crossentropy":
        y = np.eye(workload.num_classes, dtype=np.float32)[labels]
    else:
        y = rng.standard_normal((n, workload.num_classes)).astype(np.float32)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


@pytest.fixture
def train_step(backend_name, workload_name):
    """(step, x, y, extra_info): a compiled, warmed-up train step and its fixed batch."""
    info = registry.probe(backend_name)
    if not info.available:
        pytest.skip(f"{backend_name}: {info.reason} ({info.remedy})")
    if info.reference:
        pytest.skip(f"{backend_name} is a reference lane, not a model-layer backend")
    found = workloads.discover()
    if workload_name not in found:
        pytest.skip(f"no workload {workload_name!r} here; known: {', '.join(sorted(found))}")
    workload = found[workload_name]
    threads = os.environ.get("BENCHBENCH_THREADS")
    backend = registry.get_backend(
        backend_name, device="cpu", seed=0, threads=int(threads) if threads else None
    )
    model = workload.build()
    model.compile(workload.optimizer(), workload.loss, metrics=["accuracy"], backend=backend)
    step = model.train_step()
    x, y = random_batch(workload)
    for _ in range(WARMUP_STEPS):  # compilation and first-call costs stay out of the rounds
        step(x, y)
    extra = {
        "backend_engine": info.engine,
        "backend_version": info.version,
        "batch_size": workload.batch_size,
        "input_shape": list(workload.input_shape),
        "params": workload.params,
        "threads": threads or "default",
    }
    return step, x, y, extra
