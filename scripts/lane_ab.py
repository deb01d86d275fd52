"""An adapter against its native lane in one process, in alternating blocks of train steps.

Usage: python scripts/lane_ab.py FRAMEWORK WORKLOAD [--blocks N] [--steps N] [--threads N]

`scripts/lane_ratios.sh` compares separate processes, as every benchmark here does; on a
shared machine the same cell can differ by 20% or more from one process to the next, which
hides a gap of a few percent. This script measures the step alone: it builds the workload's
model twice from the same weights (one on the adapter, one with the ``native:<framework>``
lane attached), warms both up, then times blocks of steps on synthetic batches of the real
shapes (token ids for a model that starts with an Embedding, labels as its loss takes them) in
ABBA order (adapter, native, native, adapter, ...), so neither side always runs first and a
linear drift hits both alike. Each block pair gives one ratio; the script prints the
median ms/step of each side and the median and quartiles of the paired adapter/native
throughput ratios (above 1: the adapter is faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchbench import datasets, lanes, registry, workloads  # noqa: E402


def _step(workload, backend, lane: str | None):
    model = workload.build()
    model.compile(workload.optimizer(), workload.loss, ["accuracy"], backend=backend)
    if lane:
        lanes.attach(lane, model, backend)
        return model._train_step
    return model.train_step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=sorted({lanes.framework_of(n) for n in lanes.LANES}))
    parser.add_argument("workload")
    parser.add_argument("--blocks", type=int, default=20, help="block pairs (default 20)")
    parser.add_argument("--steps", type=int, default=10, help="train steps a block (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    args = parser.parse_args()

    workload = workloads.get(args.workload)
    backend = registry.get_backend(args.framework, threads=args.threads, seed=0)
    batch = workload.batch_size
    n = batch * args.steps
    data = datasets.synthetic_data(workload, n, 0, seed=0)  # token ids for an Embedding model
    x, y = data.x_train, data.y_train
    batches = [(x[i : i + batch], y[i : i + batch]) for i in range(0, n, batch)]
    steps = {"adapter": _step(workload, backend, None)}
    steps["native"] = _step(workload, backend, f"native:{args.framework}")
    for step in steps.values():  # compile, then settle
        for xb, yb in batches[:3]:
            step(xb, yb)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for block in range(args.blocks):
        order = list(steps.items())
        for name, step in order if block % 2 == 0 else order[::-1]:  # ABBA
            start = time.perf_counter()
            for xb, yb in batches:
                step(xb, yb)
            times[name].append((time.perf_counter() - start) / len(batches))
    adapter, native = np.array(times["adapter"]), np.array(times["native"])
    ratios = native / adapter
    q1, median, q3 = np.percentile(ratios, [25, 50, 75])
    print(
        f"{args.framework} {args.workload}: batch {batch}, {args.threads} threads, "
        f"{args.blocks} x {args.steps} steps each"
    )
    print(f"  adapter  {1e3 * np.median(adapter):9.2f} ms/step")
    print(f"  native   {1e3 * np.median(native):9.2f} ms/step")
    print(f"  adapter / native throughput: {median:.3f} (quartiles {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main()
