"""Facts about the machine and the software a result was measured with, and their fingerprint.

`host_facts` is gathered once by the runner (no framework imported), with a short float32
matmul probe of this machine's peak (`gemm_gflops`); `process_facts` by each worker about itself
(its interpreter, threads, affinity, the thread pools actually loaded).
`fingerprint` hashes the facts that decide whether two results can be compared — hardware,
Python, framework versions and threads — and nothing that merely differs between runs (host
name, time, commit, the measured matmul rate).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

#: Environment variables that set a thread count; the runner sets all of them for every worker.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)

_GIB = 1024**3


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 5.0) -> str:
    """A command's stripped stdout, or '' if it is missing, fails or hangs."""
    if shutil.which(cmd[0]) is None:
        return ""
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[dict]:
    """NVIDIA GPUs from ``nvidia-smi`` (name, driver, memory); [] when there is none."""
    query = "--query-gpu=name,driver_version,memory.total"
    out = _run(["nvidia-smi", query, "--format=csv,noheader,nounits"])
    found = []
    for line in filter(None, out.splitlines()):
        name, driver, memory = ([p.strip() for p in line.split(",")] + ["", "", ""])[:3]
        mib = int(memory) if memory.isdigit() else 0
        found.append({"name": name, "driver": driver, "memory_bytes": mib * 1024**2})
    return found


def git_commit() -> dict:
    """benchbench's own commit and whether its tree has changes; '' outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    commit = _run(["git", "rev-parse", "HEAD"], cwd=root)
    dirty = bool(commit) and bool(
        _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root)
    )
    return {"commit": commit, "dirty": dirty}


def code_identity() -> dict:
    """What a cluster machine must share with the head to run its cells: benchbench's
    version, its commit ('' outside a git checkout) and a hash of the uncommitted changes to
    its tracked files ('' when there are none)."""
    import benchbench

    git = git_commit()
    changes = ""
    if git["dirty"]:
        root = Path(__file__).resolve().parent.parent
        diff = _run(["git", "diff", "HEAD", "--no-ext-diff", "--no-color"], cwd=root)
        changes = hashlib.sha256(diff.encode()).hexdigest()[:12]
    return {"version": benchbench.__version__, "commit": git["commit"], "changes": changes}


def file_digest(path: str) -> str:
    """A short hash of a file's bytes, or '' if it cannot be read (a workload file that a
    cluster machine must hold as the head does)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return ""


def blas() -> dict:
    """The BLAS NumPy was built against (name and version), or {} if NumPy cannot say."""
    try:
        import numpy as np

        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
    except Exception:  # older NumPy has no mode='dicts'; this is a nicety, not a requirement
        return {}
    info = deps.get("blas", {})
    return {"name": info.get("name", ""), "version": info.get("version", "")}


def gemm_gflops(threads: int | None = None, size: int = 1024, budget: float = 0.5) -> dict:
    """This machine's float32 matmul rate: NumPy ``a @ b`` on `size`-square matrices.

    The best of as many repeats as fit in about `budget` seconds (after one warm-up), so a
    background load lowers it less than an average would. `threads` caps NumPy's BLAS
    threads through threadpoolctl where it is installed; without it (or with None) BLAS uses
    its default, which is recorded as ``gemm_threads: None``.

    Returns:
        ``{"gemm_gflops": float, "gemm_size": int, "gemm_threads": int | None}``, or {} if
        NumPy is missing or the probe fails: it is a nicety, never a reason to stop a run.
    """
    try:
        import numpy as np

        rng = np.random.default_rng(0)
        a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
        with _blas_threads(threads) as applied:
            best = _best_matmul_time(a, b, budget)
    except Exception:  # no NumPy, no memory: report nothing rather than fail the run
        return {}
    return {
        "gemm_gflops": round(2 * size**3 / best / 1e9, 2),
        "gemm_size": size,
        "gemm_threads": applied,
    }


def _best_matmul_time(a, b, budget: float) -> float:
    a @ b  # warm-up: thread pool start, page faults
    best, deadline = float("inf"), time.perf_counter() + budget
    for _ in range(100):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() + best > deadline:
            break
    return best


@contextlib.contextmanager
def _blas_threads(threads: int | None) -> Iterator[int | None]:
    """Caps BLAS threads with threadpoolctl; yields the cap applied, or None."""
    try:
        with _environ_unchanged():  # threadpoolctl sets KMP_DUPLICATE_LIB_OK when imported
            from threadpoolctl import threadpool_limits
    except ImportError:
        threads = None
    if not threads:
        yield None
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield threads


@contextlib.contextmanager
def _environ_unchanged() -> Iterator[None]:
    """Undoes what an import does to ``os.environ``: the probes of `host_facts` run in the
    process that starts the cells' workers (the runner, a cluster worker), and a worker's
    environment must not depend on which probe ran before it."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(before):
            del os.environ[name]
        os.environ.update(before)


def host_facts(threads: int | None = None) -> dict:
    """The machine and benchbench itself, and its matmul peak. About a second; never raises.

    Args:
        threads: the run's thread count, for the matmul probe (`gemm_gflops`).
    """
    import psutil

    from benchbench import __version__

    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "cpu_model": cpu_model(),
        "cpu_cores_physical": psutil.cpu_count(logical=False) or 0,
        "cpu_cores_logical": psutil.cpu_count(logical=True) or 0,
        "ram_bytes": psutil.virtual_memory().total,
        "gpus": gpus(),
        "blas": blas(),
        "benchbench_version": __version__,
        "git": git_commit(),
        **gemm_gflops(threads),
    }


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on (all of them where affinity is not supported)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def process_facts() -> dict:
    """The calling process: interpreter, thread settings, CPU affinity, loaded thread pools."""
    facts = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "affinity": allowed_cpus(),
        "thread_vars": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
    }
    try:
        import threadpoolctl

        facts["threadpools"] = [
            {k: p.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
            for p in threadpoolctl.threadpool_info()
        ]
    except Exception:  # optional: not installed, or a library it cannot introspect
        pass
    return facts


def fingerprint(host: dict, frameworks: dict[str, str], threads: int | None) -> str:
    """A short hash of what makes two results comparable.

    Args:
        host: `host_facts` (the worker's Python version may be merged in as 'python').
        frameworks: engine name -> version, for the backends involved.
        threads: the thread count the cells ran with.
    """
    comparable = {
        "cpu_model": host.get("cpu_model"),
        "cpu_cores_logical": host.get("cpu_cores_logical"),
        "ram_gib": round((host.get("ram_bytes") or 0) / _GIB),
        "gpus": sorted(g.get("name", "") for g in host.get("gpus", [])),
        "python": ".".join(str(host.get("python", "")).split(".")[:2]),
        "frameworks": dict(sorted(frameworks.items())),
        "threads": threads,
    }
    text = json.dumps(comparable, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
