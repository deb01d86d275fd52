"""benchbench results as pytest-benchmark's saved JSON, for tools that read that format.

A saved pytest-benchmark run is one JSON object::

    {"machine_info": {...}, "commit_info": {...}, "datetime": "...", "version": "...",
     "benchmarks": [{"group", "name", "fullname", "params", "param", "extra_info", "options",
                     "stats": {"min", "max", "mean", "stddev", "rounds", "median", "iqr",
                               "q1", "q3", "iqr_outliers", "stddev_outliers", "outliers",
                               "ld15iqr", "hd15iqr", "ops", "total", "data", "iterations"}}]}

Each (workload, backend, device) becomes one benchmark whose rounds are seconds:

- ``step_time`` (default): one round per repeat, that repeat's median steady-state step time.
  Names match the pytest-benchmark suite (``benchmarks/test_train_step.py``), so an export
  and a ``pytest benchmarks/`` run can be compared with ``pytest-benchmark compare``.
- ``epoch_time``: one round per steady-state epoch of every repeat.
- ``first_epoch_time``: one round per repeat (compilation included).

The statistics are computed as pytest-benchmark computes them (its quartile method, Tukey
outliers). Nothing here imports pytest-benchmark or a framework.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from benchbench.errors import BenchbenchError
from benchbench.results import CellResult

#: The pytest-benchmark file version whose layout this writes.
FORMAT_VERSION = "5.1.0"
SUITE_FILE = "benchmarks/test_train_step.py"
MACHINE_KEYS = (
    "node",
    "processor",
    "machine",
    "python_compiler",
    "python_implementation",
    "python_implementation_version",
    "python_version",
    "python_build",
    "release",
    "system",
    "cpu",
)


def _steady(result: CellResult) -> list[float]:
    timing = result.timing
    return list(timing.steady_epoch_times) or [timing.epoch_time]


#: metric -> rounds of one repeat
ROUNDS: dict[str, Callable[[CellResult], list[float]]] = {
    "step_time": lambda r: [r.timing.step_time_median],
    "epoch_time": _steady,
    "first_epoch_time": lambda r: [r.timing.first_epoch_time],
}


def stats(data: Sequence[float]) -> dict:
    """pytest-benchmark's statistics of `data` (seconds per round), with the data itself."""
    data = list(data)
    ordered = sorted(data)
    n = len(data)
    mean = statistics.mean(data)
    stddev = statistics.stdev(data) if n > 1 else 0
    q1, q3 = _quartiles(ordered)
    iqr = q3 - q1
    low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    stddev_outliers = sum(1 for v in data if v < mean - stddev or v > mean + stddev)
    iqr_outliers = sum(1 for v in data if v < low or v > high)
    if n == 1:
        ld15iqr = hd15iqr = data[0]
    else:
        ld15iqr = ordered[bisect_left(ordered, low)]
        hd15iqr = ordered[bisect_right(ordered, high) - 1]  # as pytest-benchmark >= 5.3 has it
    total = sum(data)
    return {
        "min": ordered[0],
        "max": ordered[-1],
        "mean": mean,
        "stddev": stddev,
        "rounds": n,
        "median": statistics.median(data),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers,
        "outliers": f"{stddev_outliers};{iqr_outliers}",
        "ld15iqr": ld15iqr,
        "hd15iqr": hd15iqr,
        "ops": n / total if total else 0,
        "total": total,
        "data": data,
        "iterations": 1,
    }


def _quartiles(data: list[float]) -> tuple[float, float]:
    """Quartiles by the methods pytest-benchmark uses (Wikipedia's methods 3 and 2)."""
    n = len(data)
    if n == 1:
        return data[0], data[0]
    if n % 2 == 0:
        return statistics.median(data[: n // 2]), statistics.median(data[n // 2 :])
    k, r = n // 4, n % 4
    if r == 1:
        return (0.25 * data[k - 1] + 0.75 * data[k], 0.75 * data[3 * k] + 0.25 * data[3 * k + 1])
    return (0.75 * data[k] + 0.25 * data[k + 1], 0.25 * data[3 * k + 1] + 0.75 * data[3 * k + 2])


def benchmark_name(metric: str, workload: str, backend: str, device: str) -> tuple[str, str]:
    """(name, param) as the pytest-benchmark suite names the same cell."""
    param = f"{backend}-{workload}" + ("" if device == "cpu" else f"-{device}")
    test = "test_train_step" if metric == "step_time" else f"benchbench_{metric}"
    return f"{test}[{param}]", param


def benchmark_entry(results: Sequence[CellResult], metric: str) -> dict:
    """One benchmark from the ok repeats of one (workload, backend, device)."""
    workload, backend, device = results[0].spec.key
    name, param = benchmark_name(metric, workload, backend, device)
    params = {"backend": backend, "workload": workload}
    if device != "cpu":
        params["device"] = device
    return {
        "group": workload if metric == "step_time" else f"{workload} ({metric})",
        "name": name,
        "fullname": f"{SUITE_FILE}::{name}",
        "params": params,
        "param": param,
        "extra_info": {
            "source": "benchbench export",
            "metric": metric,
            "repeats": len(results),
            "machine": results[0].machine,
            "run_ids": sorted({r.run_id for r in results}),
            "batch_size": results[0].spec.batch_size,
            "quick": results[0].spec.quick,
        },
        "options": {
            "disable_gc": False,
            "timer": "perf_counter",
            "min_rounds": len(results),
            "max_time": 0,
            "min_time": 0,
            "warmup": metric != "first_epoch_time",
        },
        "stats": stats([v for r in results for v in ROUNDS[metric](r)]),
    }


#: pytest-benchmark machine_info key -> the `benchbench.environment` fact it comes from.
MACHINE_FACTS = {
    "node": "hostname",
    "python_version": "python",
    "python_implementation": "python_implementation",
    "system": "os",
}


def machine_info(results: Sequence[CellResult]) -> dict:
    """pytest-benchmark's machine_info keys, from the first result's recorded environment."""
    env = results[0].environment
    info = {key: env.get(key, env.get(MACHINE_FACTS.get(key, ""), "")) for key in MACHINE_KEYS}
    info["node"] = info["node"] or results[0].machine
    if not isinstance(info["cpu"], dict):
        info["cpu"] = {
            "brand_raw": env.get("cpu_model", ""),
            "count": env.get("cpu_cores_logical", 0),
        }
    info["benchbench"] = {"machine": results[0].machine, "fingerprint": env.get("fingerprint")}
    return info


def commit_info(results: Sequence[CellResult]) -> dict:
    """pytest-benchmark's commit_info, from the environment's ``git`` facts."""
    git = results[0].environment.get("git")
    git = git if isinstance(git, dict) else {}
    return {
        "id": git.get("commit") or "unversioned",
        "time": git.get("time"),
        "author_time": git.get("author_time"),
        "dirty": bool(git.get("dirty", False)),
        "project": "benchbench",
        "branch": git.get("branch") or "(unknown)",
    }


def export(results: Sequence[CellResult], metric: str = "step_time") -> dict:
    """benchbench results as one pytest-benchmark saved run.

    Raises:
        BenchbenchError: unknown metric, or no 'ok' cell with timings.
    """
    if metric not in ROUNDS:
        raise BenchbenchError(
            f"cannot export metric {metric!r}; expected one of: {', '.join(ROUNDS)}"
        )
    ok = [r for r in results if r.status == "ok" and r.timing is not None]
    if not ok:
        raise BenchbenchError(
            f"no successful cells to export among {len(results)} results; "
            "only cells with status 'ok' carry timings"
        )
    cells: dict[tuple, list[CellResult]] = {}
    for result in sorted(ok, key=lambda r: (r.spec.key, r.spec.repeat)):
        cells.setdefault(result.spec.key, []).append(result)
    finished = [r.finished_at for r in ok if r.finished_at]
    return {
        "machine_info": machine_info(ok),
        "commit_info": commit_info(ok),
        "benchmarks": [benchmark_entry(rs, metric) for rs in cells.values()],
        "datetime": max(finished) if finished else datetime.now(timezone.utc).isoformat(),
        "version": FORMAT_VERSION,
    }
