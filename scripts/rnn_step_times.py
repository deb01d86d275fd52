"""Per-step training time of an LSTM(128) over 80 steps, batch 32, on every backend and path.

The model is the IMDb LSTM example's: Embedding(20000, 128, input_length=80) -> LSTM(128) ->
Dense(1, sigmoid), binary cross-entropy, Adam, random token ids. Each (backend, path) runs in
a fresh process ('fused': the backend's fused LSTM kernel where it has one,
``BENCHBENCH_RNN=fused``; 'generic': the layer's step function in the backend's own loop,
``BENCHBENCH_RNN=generic``; each row says which of the two the default 'auto' path takes), and
reports the first step (tracing and compilation included), then the median and p90 of the
timed steps.
For PyTensor it also measures the first step with an empty compile cache
(``BENCHBENCH_PYTENSOR_COMPILEDIR`` pointed at a new directory) and once more with that cache
warm, for each mode in ``--pytensor-modes``.

Usage:
    python scripts/rnn_step_times.py [BACKEND ...] [--threads N] [--steps N]
        [--pytensor-modes CVM,NUMBA] [--json FILE]

Run it on a quiet machine: the figures are only as good as the machine is idle.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "theano", "torch", "jax", "numpy")
STEPS, VOCABULARY, WIDTH, UNITS, BATCH = 80, 20000, 128, 128, 32


def build():
    from benchbench import Sequential
    from benchbench.layers import LSTM, Dense, Embedding

    return Sequential(
        [
            Embedding(VOCABULARY, WIDTH, input_length=STEPS),
            LSTM(UNITS),
            Dense(1, activation="sigmoid"),
        ],
        name="lstm_80x128",
    )


def measure(backend_name: str, threads: int, steps: int) -> dict:
    """Runs in the worker process: times one backend on the path its environment chose."""
    from benchbench import registry
    from benchbench.optimizers import Adam

    backend = registry.get_backend(backend_name, threads=threads)
    if backend.rnn_path == "fused" and backend.fused_rnn("lstm") is None:
        return {"backend": backend_name, "skipped": "no fused LSTM: the generic run is its path"}
    model = build()
    model.compile(
        Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        backend=backend,
    )
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCABULARY, (BATCH * 8, STEPS)).astype(np.int32)
    y = rng.integers(0, 2, (BATCH * 8, 1)).astype(np.float32)
    step = model.train_step()
    start = time.perf_counter()
    step(x[:BATCH], y[:BATCH])
    first = time.perf_counter() - start
    for i in range(3):  # warm-up
        step(x[BATCH * i : BATCH * (i + 1)], y[BATCH * i : BATCH * (i + 1)])
    times = []
    for i in range(steps):
        j = (i % 8) * BATCH
        start = time.perf_counter()
        step(x[j : j + BATCH], y[j : j + BATCH])
        times.append(time.perf_counter() - start)
    info = backend.info()
    auto = "fused" if "lstm" in backend.preferred_fused_rnn else "generic"
    return {
        "backend": backend_name,
        **backend.rnn_info(),
        "auto_takes": auto,
        "mode": info.get("mode", ""),
        "threads": threads,
        "first_step_s": round(first, 3),
        "median_ms": round(1e3 * float(np.median(times)), 2),
        "p90_ms": round(1e3 * float(np.percentile(times, 90)), 2),
        "steps": steps,
    }


def run_worker(backend: str, env: dict, threads: int, steps: int) -> dict:
    command = [sys.executable, __file__, "--worker", backend, "--threads", str(threads)]
    command += ["--steps", str(steps)]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    out = subprocess.run(command, capture_output=True, text=True, env=full_env, cwd=ROOT)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"backend": backend, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(lines[-1])


def plan(backends, modes) -> list[tuple[str, str, dict]]:
    """(label, backend, environment) of every run."""
    runs = []
    for backend in backends:
        for path in ("fused", "generic"):
            env = {"BENCHBENCH_RNN": path}
            if backend != "theano":
                runs.append((f"{backend} {path}", backend, env))
                continue
            if path == "fused":  # PyTensor has no fused LSTM
                continue
            for mode in modes:
                cache = tempfile.mkdtemp(prefix=f"rnn-step-times-{mode}-")
                env = {**env, "BENCHBENCH_PYTENSOR_MODE": mode}
                env["BENCHBENCH_PYTENSOR_COMPILEDIR"] = cache
                runs.append((f"theano {path} {mode} cold cache", backend, env))
                runs.append((f"theano {path} {mode} warm cache", backend, env))
    return runs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=list(BACKENDS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--pytensor-modes", default="CVM")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.threads, args.steps)), flush=True)
        return
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; choose from {', '.join(BACKENDS)}")
    rows = []
    for label, backend, env in plan(args.backends, args.pytensor_modes.split(",")):
        row = {"run": label, **run_worker(backend, env, args.threads, args.steps)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{'run':40} {'first step s':>12} {'median ms':>10} {'p90 ms':>8}  auto takes")
    for row in rows:
        if "error" in row or "skipped" in row:
            print(f"{row['run']:40} {row.get('skipped') or 'failed: ' + str(row['error'])}")
            continue
        times = f"{row['first_step_s']:>12} {row['median_ms']:>10} {row['p90_ms']:>8}"
        print(f"{row['run']:40} {times}  {row['auto_takes']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
