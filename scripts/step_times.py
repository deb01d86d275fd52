"""Per-step train time of the digits MLP and small CNN on one backend (batch 32, Adam).

Usage: python scripts/step_times.py BACKEND [THREADS]

Prints JSON: the first step (tracing/compilation included) and the median and p90 of 300
steady-state steps, each synchronised (the step returns Python floats). The models are those
of tests/test_equivalence.py. Run one backend per process, on a quiet machine.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchbench import registry  # noqa: E402
from benchbench.optimizers import Adam  # noqa: E402
from tests.test_equivalence import cnn, mlp  # noqa: E402


def time_steps(step, x, y, steps: int = 300) -> dict:
    start = time.perf_counter()
    step(x[:32], y[:32])
    first = time.perf_counter() - start
    for i in range(20):  # warm-up
        step(x[32 * i : 32 * i + 32], y[32 * i : 32 * i + 32])
    times = []
    for i in range(steps):
        j = (i % 50) * 32
        start = time.perf_counter()
        step(x[j : j + 32], y[j : j + 32])
        times.append(time.perf_counter() - start)
    return {
        "first_step_s": round(first, 3),
        "median_ms": round(1e3 * np.median(times), 3),
        "p90_ms": round(1e3 * np.percentile(times, 90), 3),
    }


def main() -> None:
    from sklearn.datasets import load_digits

    name = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    K = registry.get_backend(name, threads=threads)
    digits = load_digits()
    x = (digits.data / 16).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[digits.target]
    out = {}
    for label, builder, xs in (("mlp", mlp, x), ("cnn", cnn, x.reshape(-1, 8, 8, 1))):
        model = builder()
        model.compile(
            Adam(learning_rate=0.005), "categorical_crossentropy", ["accuracy"], backend=K
        )
        out[label] = time_steps(model.train_step(), xs, y)
    print(json.dumps({name: out}))


if __name__ == "__main__":
    main()
