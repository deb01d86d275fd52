"""Result records to tidy pandas frames: the one place a report reads `CellResult`s.

A *cell* is one result file (backend x workload x device x repeat on one machine). A *column* of
a report table is a (device, machine) pair; a *group* is what repeats share: (workload, backend,
device, machine). When the same group was run more than once on a machine, only its latest run
counts (older runs are superseded, and the report says how many).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchbench import registry
from benchbench.errors import BenchbenchError
from benchbench.results import METRICS, CellResult, ResultsWarning, load_results

GROUP = ["workload", "backend", "device", "machine"]


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a report table: a device on a machine."""

    device: str
    machine: str
    device_name: str = dataclasses.field(default="", compare=False)

    @property
    def label(self) -> str:
        """``cpu · host-a``; a non-CPU device adds its name: ``gpu · host-b (H200)``."""
        name = f" ({self.device_name})" if self.device_name else ""
        return f"{self.device} · {self.machine}{name}"


@dataclasses.dataclass
class ReportData:
    """The results a report shows, and the tidy frame built from them.

    Attributes:
        results: the selected results (latest run per group).
        cells: one row per result, with spec fields, status and one column per metric.
        superseded: how many older results were left out.
        skipped: warnings about unreadable files.
    """

    results: list[CellResult]
    cells: pd.DataFrame
    superseded: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self._memo: dict[tuple, object] = {}
        by_backend = self.cells.groupby("backend")
        self._references = {b: bool(g["reference"].any()) or ":" in b for b, g in by_backend}
        self._engines = {b: next((e for e in g["engine"] if e), "") for b, g in by_backend}

    def workloads(self) -> list[str]:
        return sorted(self.cells["workload"].unique())

    def columns(self, workload: str | None = None) -> list[Column]:
        return self.memo(("columns", workload), lambda: _columns(self._frame(workload)))

    def backends(self, workload: str | None = None) -> list[str]:
        return order_backends(self._frame(workload)["backend"].unique())

    def is_reference(self, backend: str) -> bool:
        return self._references.get(backend, ":" in backend)

    def engine(self, backend: str) -> str:
        return self._engines.get(backend, "")

    def aggregate(self, metric: str) -> pd.DataFrame:
        """`aggregate` of one metric over every workload, computed once."""
        return self.memo(("aggregate", metric), lambda: aggregate(self.cells, metric))

    def group(self, workload: str, backend: str, column: Column) -> list[CellResult]:
        """Results of one table cell, ordered by repeat."""
        found = [
            r
            for r in self.results
            if (r.spec.workload, r.spec.backend, r.spec.device, r.machine)
            == (workload, backend, column.device, column.machine)
        ]
        return sorted(found, key=lambda r: r.spec.repeat)

    def workload_info(self, workload: str) -> dict:
        for result in self.results:
            if result.spec.workload == workload and result.workload_info:
                return result.workload_info
        return {}

    def memo(self, key: tuple, compute):
        """`compute()`, once per key: tables, findings and plots share aggregates."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _frame(self, workload: str | None) -> pd.DataFrame:
        if workload is None:
            return self.cells
        return self.cells[self.cells["workload"] == workload]


def _columns(frame: pd.DataFrame) -> list[Column]:
    columns = []
    for (device, machine), group in frame.groupby(["device", "machine"]):
        names = group.loc[~group["device_name"].isin(["", "cpu", device]), "device_name"]
        name = names.mode().iloc[0] if device != "cpu" and not names.empty else ""
        columns.append(Column(device, machine, name))
    return sorted(columns, key=lambda c: (c.device != "cpu", c.device, c.machine))


def order_backends(names: Iterable[str]) -> list[str]:
    """Registry order first (the order of ``--backend all``), then others, then references in
    lane order (native lanes, then Keras 3 lanes, each in framework order)."""
    known = registry.backend_names() + registry.lane_names()

    def key(name: str) -> tuple:
        reference = ":" in name
        return (reference, known.index(name) if name in known else len(known), name)

    return sorted(set(names), key=key)


def load(paths: Iterable[Path]) -> ReportData:
    """Reads every result under `paths` (files or directories, any machines) for a report.

    Raises:
        BenchbenchError: a path does not exist, or no result files were found.
    """
    paths = [Path(p) for p in paths]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResultsWarning)
        try:
            found = load_results(paths)
        except FileNotFoundError as exc:
            raise BenchbenchError(
                f"{exc}; expected a results directory or result file "
                "(run `python -m benchbench run` first, or pass the directory it wrote)"
            ) from exc
    skipped = [str(w.message) for w in caught if issubclass(w.category, ResultsWarning)]
    for message in skipped:
        warnings.warn(message, ResultsWarning, stacklevel=2)
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise BenchbenchError(
            f"no result files under {where}; expected <machine>/<run>/<cell>.json files "
            "written by `python -m benchbench run`"
        )
    selected = latest_runs(found)
    return ReportData(selected, tidy(selected), len(found) - len(selected), skipped)


def latest_runs(results: list[CellResult]) -> list[CellResult]:
    """Keeps, for every group, only the results of the latest run that has it."""
    started: dict[tuple[str, str], str] = {}
    for r in results:
        run = (r.machine, r.run_id)
        started[run] = min(started.get(run, r.started_at), r.started_at)
    latest: dict[tuple, tuple[str, str]] = {}
    for r in results:
        group = (r.spec.workload, r.spec.backend, r.spec.device, r.machine)
        when = (started[(r.machine, r.run_id)], r.run_id)
        latest[group] = max(latest.get(group, when), when)
    return [
        r
        for r in results
        if latest[(r.spec.workload, r.spec.backend, r.spec.device, r.machine)]
        == (started[(r.machine, r.run_id)], r.run_id)
    ]


def aggregate(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per group: repeats, and over the 'ok' repeats with a value the median, min and max.

    Returns:
        A frame indexed by `GROUP` with columns ``n`` (repeats), ``n_ran`` (repeats with
        status 'ok'), ``n_ok`` (those with a value), ``median``, ``lo``,
        ``hi``, and, for groups with repeats that did not finish, ``status`` and ``reason`` of
        the first such repeat and ``n_bad``.
    """
    ran = cells.assign(ran=cells["status"] == "ok")
    total = ran.groupby(GROUP).agg(n=("ran", "size"), n_ran=("ran", "sum"))
    ok = cells[(cells["status"] == "ok") & cells[metric].notna()]
    values = ok.groupby(GROUP)[metric].agg(median="median", lo="min", hi="max", n_ok="count")
    bad = cells[cells["status"] != "ok"].groupby(GROUP)
    failures = bad.agg(
        status=("status", "first"), reason=("reason", "first"), n_bad=("status", "size")
    )
    frame = total.join(values).join(failures)
    frame["n_ok"] = frame["n_ok"].fillna(0).astype(int)
    frame["n_bad"] = frame["n_bad"].fillna(0).astype(int)
    return frame


def tidy(results: list[CellResult]) -> pd.DataFrame:
    """One row per result: identity, status, settings and every metric in `METRICS`."""
    rows = [_row(r) for r in results]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["workload", "backend", "device", "machine", "repeat"]).reset_index(
        drop=True
    )


def _row(r: CellResult) -> dict:
    info = r.backend_info or {}
    row = {
        "workload": r.spec.workload,
        "backend": r.spec.backend,
        "device": r.spec.device,
        "machine": r.machine,
        "repeat": r.spec.repeat,
        "run_id": r.run_id,
        "status": r.status,
        "reason": r.reason,
        "reference": bool(info.get("reference")) or ":" in r.spec.backend,
        "engine": str(info.get("engine") or ""),
        "version": str(info.get("version") or ""),
        "device_name": str(info.get("device_name") or ""),
        "fingerprint": str((r.environment or {}).get("fingerprint") or ""),
        "epochs": len(r.epochs),
        "quick": r.spec.quick,
        "synthetic": r.spec.synthetic,
        "accuracy_meaningful": r.accuracy_meaningful,
    }
    for name, metric in METRICS.items():
        row[name] = metric.value(r)
    row.update(_efficiency(r, row["throughput"]))
    return row


def _efficiency(r: CellResult, throughput: float | None) -> dict:
    """Achieved GFLOP/s (throughput x training FLOPs per sample) and its share of the matmul
    peak measured on the machine (a CPU figure: no share for other devices)."""
    flops = (r.workload_info or {}).get("flops_per_sample")
    peak = (r.environment or {}).get("gemm_gflops")
    gflops = throughput * flops / 1e9 if throughput and flops else None
    share = gflops / peak if gflops and peak and r.spec.device == "cpu" else None
    return {"flops_per_sample": flops, "gemm_gflops": peak, "gflops": gflops, "peak_share": share}
