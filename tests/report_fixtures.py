"""Result records for the report tests, built with `benchbench.results` dataclasses.

``python -m tests.report_fixtures`` rewrites the checked-in files under
``tests/data/results/``; the golden tests read those files, not this module, so a change here
shows up as a diff of the JSON. The browser and escaping tests use `make_result` directly.

The scenario: two machines; ``host-a`` (CPU) runs ``mnist_mlp`` on every backend (one out of
the published band, one unavailable, one timed out, one with a failed repeat) and beside them
reference lanes (a native lane faster than every adapter, lanes that an adapter beats, a Keras 3
lane that beats its adapter, a near miss at 0.949x, a lane not written yet, one with a long
reason), and ``mnist1d_cnn`` on synthetic data with two lanes (no targets there); ``host-b``
runs ``mnist_mlp`` on its CPU (no lanes: no cost table) and its GPU (a lane, but targets are for
CPU). An older run on ``host-a`` is superseded by the later one. Workload infos carry FLOPs per
sample and machines their measured matmul peak. Every cell that ran carries its interference:
quiet, except ``torch`` on host-b's CPU (noisy: other processes used 45% of its CPUs); one
``theano`` repeat is unstable (its steady epochs vary by about 20%). A second run on ``host-a``
trains ``mnist1d_cnn`` at its default setting on real data: a setting of its own, so a column of
its own beside the quick synthetic one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchbench.interference import Interference, epoch_time_cv
from benchbench.results import CellResult, CellSpec, EpochRecord, Memory, Timing, write_result

RESULTS_DIR = Path(__file__).parent / "data" / "results"
GIB = 2**30

MNIST_MLP = {
    "name": "mnist_mlp",
    "description": "MNIST, 784-512-512-10 MLP with dropout (Keras 2 example)",
    "dataset": "mnist",
    "params": 669_706,
    "flops_per_sample": 3_211_284,
    "batch_size": 128,
    "default": {"epochs": 20, "train_samples": None, "test_samples": None},
    "quick": {"epochs": 2, "train_samples": 6_000, "test_samples": 1_000},
    "reference": {"low": 0.9796, "high": 0.9843, "source": "keras-team/keras examples"},
}
MNIST1D_CNN = {
    "name": "mnist1d_cnn",
    "description": "MNIST-1D, three strided Conv1D layers + linear classifier",
    "dataset": "mnist1d",
    "params": 5_210,
    "flops_per_sample": 188_020,
    "batch_size": 100,
    "default": {"epochs": 200, "train_samples": None, "test_samples": None},
    "quick": {"epochs": 3, "train_samples": 2_000, "test_samples": 500},
    "reference": {"low": 0.88, "high": 0.97, "source": "Greydanus & Kobak (ICML 2024)"},
}
HOSTS = {
    "host-a": {"hostname": "host-a", "cpu": "AMD EPYC 7B13", "cpu_count": 2, "gpu": None},
    "host-b": {"hostname": "host-b", "cpu": "Intel Xeon 8480+", "cpu_count": 16, "gpu": "H200"},
}
PEAKS = {"host-a": 95.0, "host-b": 1450.0}  # measured float32 matmul GFLOP/s
KERAS3_MISSING = (
    "Keras 3 is not installed in this interpreter; install it with: pip install 'keras>=3' "
    "(each keras3 lane runs in its own worker, as Keras binds its backend at import)"
)
ENGINES = {"theano": ("pytensor", "2.31.7")}
VERSIONS = {"tensorflow": "2.21.0", "torch": "2.13.0", "jax": "0.7.2", "numpy": "2.3.4"}


QUIET = Interference(
    window=30.0,
    cpus=(0, 1),
    others_cpu=0.01,
    others_cpu_peak=0.02,
    own_cpu=0.97,
    resolution=0.001,
    steal=0.0,
    run_queue=2,
    run_queue_max=3,
    load_avg=(2.02, 1.5, 0.9),
    samples=60,
    noisy=False,
)
NOISY = Interference(
    window=30.0,
    cpus=(0, 1),
    others_cpu=0.45,
    others_cpu_peak=0.93,
    own_cpu=0.55,
    resolution=0.001,
    steal=0.02,
    run_queue=4,
    run_queue_max=7,
    load_avg=(3.1, 2.2, 1.4),
    samples=60,
    noisy=True,
)


def _epochs(
    n: int, first: float, steady: float, final_acc: float | None, spread: float = 0.01
) -> list[EpochRecord]:
    records = []
    for i in range(n):
        time = first if i == 0 else round(steady * (1 + spread * (i % 3 - 1)), 4)
        acc = None
        if final_acc is not None:
            acc = final_acc if i == n - 1 else round(final_acc - 0.08 * 0.6**i, 4)
        records.append(EpochRecord(i, time, 0.1, 0.5 / (i + 1), acc, 0.4 / (i + 1), acc, 10, time))
    return records


def make_result(
    backend: str,
    workload: dict,
    machine: str = "host-a",
    device: str = "cpu",
    repeat: int = 0,
    status: str = "ok",
    reason: str = "",
    epoch_time: float = 1.0,
    final_acc: float | None = 0.98,
    run_id: str = "2026-01-10T09-00-00",
    epochs: int | None = None,
    quick: bool = False,
    synthetic: bool = False,
    gpu_bytes: int | None = None,
    noisy: bool = False,
    unstable: bool = False,
) -> CellResult:
    """One cell's result; 'ok' cells get epochs, timing and memory derived from the arguments,
    and quiet interference unless `noisy`; `unstable` spreads the steady epochs by ~20%."""
    spec = CellSpec(
        backend, workload["name"], device, repeat, quick=quick, synthetic=synthetic, seed=repeat
    )
    framework = backend.partition(":")[2] or backend  # a lane runs on its adapter's framework
    engine, version = ENGINES.get(framework, (framework, VERSIONS.get(framework, "1.0")))
    info = {"name": backend, "engine": engine, "version": version, "reference": ":" in backend}
    if ":" in backend:
        info["lane"] = backend
    host = HOSTS.get(machine, {"hostname": machine, "gpu": "gpu"})
    info["device_name"] = host["gpu"] if device == "gpu" else "cpu"
    environment = dict(host, python="3.11.9", ram_bytes=64 * GIB, frameworks={engine: version})
    if machine in PEAKS:
        environment.update(gemm_gflops=PEAKS[machine], gemm_size=1024, gemm_threads=None)
    environment["fingerprint"] = f"{machine}-{engine}-fp"
    common = dict(
        spec=spec,
        status=status,
        machine=machine,
        run_id=run_id,
        reason=reason,
        backend_info=info,
        workload_info=workload,
        environment=environment,
        started_at=run_id,
        accuracy_meaningful=not synthetic,
    )
    if status != "ok":
        return CellResult(**common)
    n = epochs or (workload["quick"] if quick else workload["default"])["epochs"]
    spread = 0.25 if unstable else 0.01
    records = _epochs(n, epoch_time * 3, epoch_time, None if synthetic else final_acc, spread)
    steady = [r.train_time for r in records[1:]]
    timing = Timing(
        first_epoch_time=records[0].train_time,
        steady_epoch_times=steady,
        epoch_time=epoch_time,
        step_time_median=epoch_time / 469,
        step_time_p90=epoch_time / 400,
        throughput=60_000 / epoch_time,
        setup_time=1.5,
        samples_per_epoch=60_000,
        epoch_time_cv=epoch_time_cv(steady),
    )
    memory = Memory(int((1 + epoch_time / 10) * GIB), gpu_bytes)
    measured = NOISY if noisy else QUIET
    return CellResult(
        **common, epochs=records, timing=timing, memory=memory, interference=measured
    )


def _repeats(backend: str, times: list[float], accs: list[float], **kwargs) -> list[CellResult]:
    return [
        make_result(backend, MNIST_MLP, repeat=i, epoch_time=t, final_acc=a, **kwargs)
        for i, (t, a) in enumerate(zip(times, accs, strict=True))
    ]


def host_a() -> list[CellResult]:
    cntk = "CNTK 2.7 ships wheels only for CPython 3.5 and 3.6; this is Python 3.11"
    return [
        *_repeats("tensorflow", [4.70, 4.65, 4.75], [0.9825, 0.9822, 0.9828]),
        *_repeats("theano", [17.3, 17.1], [0.9712, 0.9708]),
        make_result(
            "theano", MNIST_MLP, repeat=2, epoch_time=17.6, final_acc=0.9715, unstable=True
        ),
        make_result("cntk", MNIST_MLP, status="unavailable", reason=cntk),
        *_repeats("torch", [5.0, 5.2], [0.9830, 0.9833]),
        make_result("torch", MNIST_MLP, repeat=2, status="failed", reason="worker killed (-9)"),
        *_repeats("jax", [3.10, 3.20, 3.05], [0.9818, 0.9815, 0.9820]),
        make_result("numpy", MNIST_MLP, status="timeout", reason="timed out after 600 s"),
        *_repeats("native:torch", [2.80, 2.85, 2.75], [0.9829, 0.9831, 0.9827]),
        *_repeats("native:tensorflow", [4.90, 4.85, 4.95], [0.9824, 0.9826, 0.9821]),
        *_repeats("keras3:tensorflow", [4.60, 4.55, 4.62], [0.9820, 0.9827, 0.9823]),
        *_repeats("keras3:torch", [5.30, 5.25, 5.35], [0.9828, 0.9826, 0.9830]),
        *_repeats("native:jax", [2.942, 2.95, 2.93], [0.9816, 0.9819, 0.9814]),
        make_result("keras3:jax", MNIST_MLP, status="unavailable", reason=KERAS3_MISSING),
        make_result(
            "native:theano",
            MNIST_MLP,
            status="unavailable",
            reason="backends.theano.native is not written yet. use the other lanes of this "
            "framework",
        ),
        # An older run of jax on host-a: superseded by the run above.
        make_result("jax", MNIST_MLP, epoch_time=9.99, run_id="2026-01-09T09-00-00"),
        *[
            make_result(b, MNIST1D_CNN, epoch_time=t, quick=True, synthetic=True)
            for b, t in (
                ("tensorflow", 0.42),
                ("torch", 0.21),
                ("jax", 0.35),
                ("native:torch", 0.30),
                ("keras3:tensorflow", 0.30),
            )
        ],
        make_result(
            "theano",
            MNIST1D_CNN,
            status="skipped",
            quick=True,
            synthetic=True,
            reason="--max-time budget spent before this cell",
        ),
    ]


def host_b() -> list[CellResult]:
    run = {"machine": "host-b", "run_id": "2026-01-11T12-00-00"}
    gpu = {**run, "device": "gpu"}
    return [
        make_result("tensorflow", MNIST_MLP, epoch_time=6.0, final_acc=0.9831, **run),
        make_result("torch", MNIST_MLP, epoch_time=7.2, final_acc=0.9827, noisy=True, **run),
        *_repeats("tensorflow", [1.90, 1.95], [0.9826, 0.9824], gpu_bytes=2 * GIB, **gpu),
        *_repeats("torch", [1.30, 1.28], [0.9832, 0.9829], gpu_bytes=GIB, **gpu),
        *_repeats("jax", [1.50, 1.52], [0.9821, 0.9823], gpu_bytes=3 * GIB, **gpu),
        *_repeats("native:torch", [1.20, 1.22], [0.9830, 0.9828], gpu_bytes=GIB, **gpu),
        make_result(
            "theano",
            MNIST_MLP,
            status="unavailable",
            reason="backend 'theano' cannot run on 'gpu': PyTensor has no CUDA support",
            **gpu,
        ),
    ]


def host_a_default_mnist1d() -> list[CellResult]:
    """mnist1d_cnn at its default setting on real data: a column of its own on host-a."""
    run = {"run_id": "2026-01-12T08-00-00"}
    return [
        make_result("tensorflow", MNIST1D_CNN, epoch_time=0.16, final_acc=0.921, **run),
        make_result("torch", MNIST1D_CNN, epoch_time=0.15, final_acc=0.918, **run),
        make_result("jax", MNIST1D_CNN, epoch_time=0.07, final_acc=0.925, **run),
        make_result("numpy", MNIST1D_CNN, status="failed", reason="MemoryError", **run),
    ]


HOSTILE = "<script>alert(1)</script>"


def hostile_results() -> list[CellResult]:
    """Results whose every string tries to break out of a table, a tag or a plot label."""
    workload = dict(
        MNIST_MLP,
        name="<img src=x onerror=alert(2)>",
        description="</p><script>alert(3)</script>",
        reference={"low": 0.9, "high": 0.99, "source": '"><script>alert(4)</script>'},
    )
    evil = 'evil"<b>$x$</b>|**'
    common = {"machine": HOSTILE, "run_id": "run-<1>"}
    return [
        make_result("torch", workload, epoch_time=1.0, **common),
        make_result(evil, workload, epoch_time=2.0, **common),
        make_result(
            "jax",
            workload,
            status="failed",
            reason="</td><script>alert(5)</script> | **bold** `code` [x](https://example.com)",
            **common,
        ),
    ]


def write_all(root: Path = RESULTS_DIR) -> list[Path]:
    """Writes every fixture result under `root`/<machine>/<run-id>/, replacing what was there."""
    shutil.rmtree(root, ignore_errors=True)
    cells = host_a() + host_b() + host_a_default_mnist1d()
    return [write_result(root / r.machine / r.run_id, r) for r in cells]


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
