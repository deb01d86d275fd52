"""The worker: runs one cell in a fresh process and writes what happened to a file.

Usage (the runner builds these command lines; a person rarely needs them)::

    python -m benchbench.worker SPEC_JSON RESULT_JSON [--progress PATH] [--fit-verbose N]
    python -m benchbench.worker --probe BACKEND

SPEC_JSON holds a `CellSpec.to_dict()`. RESULT_JSON receives, atomically, a dict with the
cell's ``status`` ('ok', 'failed', 'skipped', 'unavailable'), ``reason``, ``scope`` (what a
skip applies to: 'backend', 'device' or 'data'), and for an 'ok' cell its ``epochs``,
``timing``, ``memory``, ``interference``, ``backend_info``, ``workload_info`` and ``process``
facts; the runner
turns it into a `CellResult`. A worker that dies without writing it (a signal, the OOM killer)
is reported by the runner from its exit status and stderr.

The worker imports one backend and the workload; never the reporting stack.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from benchbench import environment, flops, interference, lanes, registry, workloads
from benchbench.errors import (
    BackendUnavailable,
    DataUnavailable,
    DeviceUnavailable,
    LaneUnsupported,
)
from benchbench.isolation import PROBE_MARKER
from benchbench.progress import ProgressWriter
from benchbench.results import CellSpec, write_json_atomic
from benchbench.timing import TimingCallback


def probe(name: str, build: bool = False) -> dict:
    """`registry.probe` that also survives an adapter whose import itself fails.

    With `build`, ``devices`` are those the installed build can use (`registry.build_devices`,
    which may import the framework: ``--probe`` runs in a child process).
    """
    try:
        info = registry.probe(name).to_dict()
        if build and info["available"]:
            info["devices"] = list(registry.build_devices(name))
        return info
    except Exception as exc:  # a broken or missing framework must read as 'unavailable'
        return {
            "name": name,
            "available": False,
            "engine": "",
            "version": "",
            "reason": f"importing its adapter fails: {type(exc).__name__}: {exc}",
            "remedy": f"install it with: pip install 'benchbench[{name}]'",
            "devices": ["cpu"],
            "reference": False,
        }


def pin_cpus(threads: int | None) -> list[int]:
    """Restricts this process to its first `threads` allowed CPUs (XLA ignores thread vars)."""
    cpus = environment.allowed_cpus()
    if threads and threads < len(cpus) and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus[:threads])
    return environment.allowed_cpus()


def load_backend(spec: CellSpec):
    start = time.perf_counter()
    backend = registry.get_backend(
        spec.backend, device=spec.device, seed=spec.seed, threads=spec.threads
    )
    return backend, time.perf_counter() - start


def profile_of(workload, spec: CellSpec):
    return workload.quick if spec.quick else workload.default


def load_data(workload, spec: CellSpec):
    """The cell's arrays, through the workload's own loader or `benchbench.datasets`."""
    if workload.data is not None:
        return workload.data(quick=spec.quick, synthetic=spec.synthetic, seed=spec.seed)
    from benchbench import datasets

    return datasets.prepare(workload, quick=spec.quick, synthetic=spec.synthetic, seed=spec.seed)


def fit_arrays(workload, profile, data) -> tuple[np.ndarray, ...]:
    """x/y train/test cut to the profile, shaped for the model, labels as its loss expects."""

    def cut(arr, limit):
        arr = np.asarray(arr)
        return arr[:limit] if limit else arr

    def shaped(x):
        shape = tuple(workload.input_shape)
        return x if x.shape[1:] == shape else x.reshape((len(x), *shape))

    return (
        shaped(cut(data.x_train, profile.train_samples)),
        labels_for(workload, cut(data.y_train, profile.train_samples)),
        shaped(cut(data.x_test, profile.test_samples)),
        labels_for(workload, cut(data.y_test, profile.test_samples)),
    )


def labels_for(workload, y: np.ndarray) -> np.ndarray:
    """Labels as the loss takes them, from a loader's integer labels or one-hot rows."""
    integer_rank = 1 + len(workload.label_shape)
    if workload.loss == "categorical_crossentropy" and y.ndim == integer_rank:
        return np.eye(workload.num_classes, dtype=np.float32)[y.astype(int)]
    if workload.loss == "sparse_categorical_crossentropy" and y.ndim == integer_rank + 1:
        return y.argmax(axis=-1)
    if workload.loss == "binary_crossentropy" and y.ndim == 1:
        return y.astype(np.float32)[:, None]
    return y


def peak_host_bytes() -> int:
    """The process's peak resident set: VmHWM, else ru_maxrss (KiB on Linux, bytes on macOS)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def gpu_peak_bytes(backend, reset: bool = False) -> int | None:
    """The framework's own peak GPU allocation, where it exposes one (unverified: no GPU here)."""
    if backend.device != "gpu":
        return None
    engine = backend.capabilities.engine
    try:
        if engine == "torch":
            import torch

            if reset:
                torch.cuda.reset_peak_memory_stats()
            return int(torch.cuda.max_memory_allocated())
        if engine == "jax":
            import jax

            stats = jax.local_devices(backend="gpu")[0].memory_stats() or {}
            return int(stats["peak_bytes_in_use"]) if "peak_bytes_in_use" in stats else None
        if engine == "tensorflow":
            import tensorflow as tf

            if reset:
                tf.config.experimental.reset_memory_stats("GPU:0")
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    except Exception:  # a framework without the counter: record nothing rather than fail
        return None
    return None


def wait_for_quiet(spec: CellSpec, progress: ProgressWriter) -> interference.QuietWait | None:
    """``--quiet-wait``: waits for other processes to leave this cell's CPUs, up to a limit."""
    if not spec.quiet_wait:
        return None

    def report(others: float, waited: float) -> None:
        progress.write(phase="waiting", others_cpu=round(others, 3), waited=round(waited, 1))

    progress.write(phase="waiting", limit=spec.quiet_wait)
    return interference.wait_for_quiet(
        environment.allowed_cpus(), spec.quiet_wait, on_sample=report
    )


def train(spec: CellSpec, backend, workload, progress: ProgressWriter, fit_verbose: int) -> dict:
    """Loads data, builds and compiles the model, fits it with the timing and interference
    callbacks (after ``--quiet-wait``, if asked for)."""
    profile = profile_of(workload, spec)
    epochs = spec.epochs or profile.epochs
    batch_size = spec.batch_size or workload.batch_size
    start = time.perf_counter()
    data = load_data(workload, spec)
    x_train, y_train, x_test, y_test = fit_arrays(workload, profile, data)
    model = workload.build()
    model.compile(workload.optimizer(), loss=workload.loss, metrics=["accuracy"], backend=backend)
    deviations = lanes.attach(spec.backend, model, backend) if lanes.is_lane(spec.backend) else []
    setup_time = time.perf_counter() - start
    quiet = wait_for_quiet(spec, progress)
    gpu_peak_bytes(backend, reset=True)
    timer, sampler = TimingCallback(), interference.InterferenceSampler()
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        verbose=fit_verbose,
        # a workload without a test set (judged on its training loss) is not validated
        validation_data=(x_test, y_test) if len(x_test) else None,
        callbacks=[timer, progress, sampler],  # the sampler after the timer: see its docstring
        shuffle_seed=spec.seed,
    )
    measured = sampler.result()
    if measured is not None and quiet is not None:
        measured = dataclasses.replace(measured, quiet_wait=quiet)
    info = workload.summary()
    info.update(
        profile="quick" if spec.quick else "default",
        epochs=epochs,
        batch_size=batch_size,
        train_samples=len(x_train),
        test_samples=len(x_test),
        dataset_source=data.source,
        synthetic=bool(data.synthetic),
        model_seed=model.seed,
        seeds={"weights": model.seed, "data_order": spec.seed, "dropout": spec.seed},
        params_counted=model.count_params(),
        flops_per_sample=flops.training_flops_or_none(model),
    )
    return {
        "status": "ok",
        "epochs": [dataclasses.asdict(e) for e in timer.epochs],
        "timing": dataclasses.asdict(timer.timing(setup_time)),
        "memory": {
            "peak_host_bytes": peak_host_bytes(),
            "peak_gpu_bytes": gpu_peak_bytes(backend),
        },
        "interference": dataclasses.asdict(measured) if measured else None,
        "accuracy_meaningful": not data.synthetic,
        "workload_info": info,
        "lane_deviations": deviations,
    }


def run_cell(spec: CellSpec, progress_path: str | None = None, fit_verbose: int = 0) -> dict:
    """Runs one cell in this process and returns the payload the runner reads."""
    affinity = pin_cpus(spec.threads)
    progress = ProgressWriter(progress_path)
    progress.write(phase="importing backend")
    try:
        backend, import_time = load_backend(spec)
    except BackendUnavailable as exc:
        return {
            "status": "unavailable",
            "scope": "backend",
            "reason": f"{exc.reason}. {exc.remedy}",
        }
    except DeviceUnavailable as exc:
        return {"status": "skipped", "scope": "device", "reason": str(exc)}
    except ImportError as exc:
        info = probe(spec.backend)
        return {
            "status": "unavailable",
            "scope": "backend",
            "reason": info["reason"] or f"{type(exc).__name__}: {exc}",
        }
    if spec.workload_file:
        workload = workloads.load_file(spec.workload_file)
    else:
        workload = workloads.get(spec.workload)
    progress.write(phase="loading data")
    try:
        payload = train(spec, backend, workload, progress, fit_verbose)
    except DataUnavailable as exc:
        return {"status": "skipped", "scope": "data", "reason": str(exc)}
    except LaneUnsupported as exc:
        return {"status": "skipped", "scope": "lane", "reason": str(exc)}
    payload["backend_info"] = {
        **backend.info(),
        **backend.rnn_info(),
        "import_time": import_time,
        "capabilities": dataclasses.asdict(backend.capabilities),
    }
    if lanes.is_lane(spec.backend):
        payload["backend_info"].update(
            reference=True, lane=spec.backend, deviations=payload.pop("lane_deviations")
        )
    payload.pop("lane_deviations", None)
    payload["process"] = {**environment.process_facts(), "affinity": affinity}
    return payload


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchbench.worker",
        description="Runs one benchbench cell (used by the runner).",
    )
    parser.add_argument("spec", nargs="?", help="JSON file holding a CellSpec")
    parser.add_argument("result", nargs="?", help="where to write the result JSON")
    parser.add_argument("--progress", help="a file to report epoch/step progress in")
    parser.add_argument("--fit-verbose", type=int, default=0, choices=(0, 1, 2))
    parser.add_argument("--probe", metavar="BACKEND", help="print a backend's probe and exit")
    args = parser.parse_args(argv)
    if not args.probe and not (args.spec and args.result):
        parser.error("expected SPEC_JSON RESULT_JSON, or --probe BACKEND")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.probe:
        print(PROBE_MARKER + json.dumps(probe(args.probe, build=True)), flush=True)
        return 0
    spec = CellSpec.from_dict(json.loads(Path(args.spec).read_text()))
    try:
        payload = run_cell(spec, args.progress, args.fit_verbose)
    except Exception as exc:
        traceback.print_exc()
        payload = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    write_json_atomic(Path(args.result), payload)
    return 1 if payload["status"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
