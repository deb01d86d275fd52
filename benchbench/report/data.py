"""Result records to tidy pandas frames: the one place a report reads `CellResult`s.

A *cell* is one result file (backend x workload x device x repeat on one machine). A *column* of
a report table is a (device, machine, setting) triple, where the *setting* is what makes two
cells comparable: the profile, epochs, training samples, batch size, threads and whether the
data was synthetic (`settings_of`). Cells with different settings never share a column, so no
ratio or spread is computed across them. A *group* is what repeats share: (workload, backend,
device, machine, setting). When the same group was run more than once, only its latest run
counts (older runs are superseded, and the report says how many, at the top).

Each row also carries the cell's interference flags (``noisy``, ``unstable``) and, for a single
repeat, the range of its steady epochs, which the tables use to decide whether two cells'
ranges overlap.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from benchbench import registry
from benchbench.errors import BenchbenchError
from benchbench.report.settings import describe_setting, setting_key, settings_of
from benchbench.results import (
    DEFAULT_QUALITY,
    METRICS,
    QUALITY_METRICS,
    CellResult,
    ResultsWarning,
    load_results,
)

GROUP = ["workload", "backend", "device", "machine", "setting"]
#: Metrics whose single-repeat range comes from the repeat's steady epochs.
EPOCH_RANGED = ("epoch_time", "throughput")


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a report table: a device on a machine, with one setting.

    ``setting_label`` names what distinguishes this column's setting from the other columns'
    of its workload ('' when every column has the same setting).
    """

    device: str
    machine: str
    device_name: str = dataclasses.field(default="", compare=False)
    setting: str = ""
    setting_label: str = dataclasses.field(default="", compare=False)

    @property
    def label(self) -> str:
        """``cpu · host-a``; a non-CPU device adds its name: ``gpu · host-b (H200)``; a setting
        that differs from other columns' is appended: ``cpu · host-a · 3 epochs``."""
        name = f" ({self.device_name})" if self.device_name else ""
        setting = f" · {self.setting_label}" if self.setting_label else ""
        return f"{self.device} · {self.machine}{name}{setting}"


@dataclasses.dataclass
class ReportData:
    """The results a report shows, and the tidy frame built from them.

    Attributes:
        results: the selected results (latest run per group).
        cells: one row per result, with spec fields, status and one column per metric.
        superseded: how many older results were left out.
        skipped: warnings about unreadable files.
        settings: setting key -> the setting as a dict (see `settings_of`).
    """

    results: list[CellResult]
    cells: pd.DataFrame
    superseded: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)
    settings: dict[str, dict] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self._memo: dict[tuple, object] = {}
        by_backend = self.cells.groupby("backend")
        self._references = {b: bool(g["reference"].any()) or ":" in b for b, g in by_backend}
        self._engines = {b: next((e for e in g["engine"] if e), "") for b, g in by_backend}

    def workloads(self) -> list[str]:
        return sorted(self.cells["workload"].unique())

    def columns(self, workload: str | None = None) -> list[Column]:
        return self.memo(
            ("columns", workload), lambda: _columns(self._frame(workload), self.settings)
        )

    def common_setting(self, workload: str) -> str:
        """What every column of `workload` shares: 'default profile · 200 epochs · batch 100'."""
        keys = sorted(set(self._frame(workload)["setting"]))
        return describe_setting(self.settings, keys, common=True)

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
        rows = self.cells[
            (self.cells["workload"] == workload)
            & (self.cells["backend"] == backend)
            & (self.cells["device"] == column.device)
            & (self.cells["machine"] == column.machine)
            & (self.cells["setting"] == column.setting)
        ]
        found = [self.results[i] for i in rows["index"]]
        return sorted(found, key=lambda r: r.spec.repeat)

    def workload_info(self, workload: str) -> dict:
        for result in self.results:
            if result.spec.workload == workload and result.workload_info:
                return result.workload_info
        return {}

    def quality(self, workload: str) -> str:
        """The measure `workload` is judged on (`benchbench.measures.QUALITY_METRICS`)."""
        info = self.workload_info(workload)
        name = info.get("quality") or DEFAULT_QUALITY
        return name if name in QUALITY_METRICS else DEFAULT_QUALITY

    def memo(self, key: tuple, compute):
        """`compute()`, once per key: tables, findings and plots share aggregates."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _frame(self, workload: str | None) -> pd.DataFrame:
        if workload is None:
            return self.cells
        return self.cells[self.cells["workload"] == workload]


def _columns(frame: pd.DataFrame, settings: dict[str, dict]) -> list[Column]:
    columns = []
    keys = sorted(set(frame["setting"]))
    for (device, machine, setting), group in frame.groupby(["device", "machine", "setting"]):
        names = group.loc[~group["device_name"].isin(["", "cpu", device]), "device_name"]
        name = names.mode().iloc[0] if device != "cpu" and not names.empty else ""
        label = describe_setting(settings, keys, only=setting) if len(keys) > 1 else ""
        columns.append(Column(device, machine, name, setting, label))
    return sorted(columns, key=lambda c: (c.device != "cpu", c.device, c.machine, c.setting))


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
    setting_by_index = settings_of(found)
    keys = [setting_key(setting_by_index[i]) for i in range(len(found))]
    settings = {keys[i]: s for i, s in setting_by_index.items()}
    chosen = latest_runs(found, keys)
    selected = [found[i] for i in chosen]
    cells = tidy(selected, [keys[i] for i in chosen])
    return ReportData(selected, cells, len(found) - len(selected), skipped, settings)


def latest_runs(results: list[CellResult], settings: list[str]) -> list[int]:
    """Indices of the results to show: for every group (its setting included), only those of
    the latest run that has it."""
    started: dict[tuple[str, str], str] = {}
    for r in results:
        run = (r.machine, r.run_id)
        started[run] = min(started.get(run, r.started_at), r.started_at)

    def group(i: int) -> tuple:
        r = results[i]
        return (r.spec.workload, r.spec.backend, r.spec.device, r.machine, settings[i])

    def when(i: int) -> tuple[str, str]:
        return (started[(results[i].machine, results[i].run_id)], results[i].run_id)

    latest: dict[tuple, tuple[str, str]] = {}
    for i in range(len(results)):
        latest[group(i)] = max(latest.get(group(i), when(i)), when(i))
    return [i for i in range(len(results)) if latest[group(i)] == when(i)]


def aggregate(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per group: repeats, and over the 'ok' repeats with a value the median, min and max.

    Returns:
        A frame indexed by `GROUP` with columns ``n`` (repeats), ``n_ran`` (repeats with
        status 'ok'), ``n_ok`` (those with a value), ``median``, ``lo``, ``hi``; ``range_lo``
        and ``range_hi``, the range two cells must not share for a ratio between them to be a
        finding (``lo``-``hi`` over repeats; for a single repeat of a metric in
        `EPOCH_RANGED`, that of its steady epochs); ``n_noisy``, ``n_unstable`` and
        ``n_degraded`` (flagged repeats); and, for groups with repeats that did not finish,
        ``status`` and ``reason`` of the first such repeat and ``n_bad``.
    """
    ran = cells.assign(ran=cells["status"] == "ok")
    total = ran.groupby(GROUP).agg(n=("ran", "size"), n_ran=("ran", "sum"))
    ok = cells[(cells["status"] == "ok") & cells[metric].notna()]
    ok = ok.assign(is_degraded=ok["degraded"] != "")
    values = ok.groupby(GROUP).agg(
        median=(metric, "median"),
        lo=(metric, "min"),
        hi=(metric, "max"),
        n_ok=(metric, "count"),
        n_noisy=("noisy", "sum"),
        n_unstable=("unstable", "sum"),
        n_degraded=("is_degraded", "sum"),
    )
    if metric in EPOCH_RANGED:
        inner = ok.groupby(GROUP).agg(
            inner_lo=(f"{metric}_lo", "min"), inner_hi=(f"{metric}_hi", "max")
        )
        values = values.join(inner)
    bad = cells[cells["status"] != "ok"].groupby(GROUP)
    failures = bad.agg(
        status=("status", "first"), reason=("reason", "first"), n_bad=("status", "size")
    )
    frame = total.join(values).join(failures)
    for column in ("n_ok", "n_bad", "n_noisy", "n_unstable", "n_degraded"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["range_lo"], frame["range_hi"] = frame["lo"], frame["hi"]
    if metric in EPOCH_RANGED:
        single = (frame["n_ok"] == 1) & frame["inner_lo"].notna()
        if single.any():  # pandas refuses an empty object-typed assignment into floats
            frame.loc[single, "range_lo"] = frame.loc[single, "inner_lo"]
            frame.loc[single, "range_hi"] = frame.loc[single, "inner_hi"]
        frame = frame.drop(columns=["inner_lo", "inner_hi"])
    return frame


def tidy(results: list[CellResult], settings: list[str] | None = None) -> pd.DataFrame:
    """One row per result: identity, status, settings, interference flags and every metric in
    `METRICS`; ``index`` is the result's position in `results`."""
    settings = settings or [""] * len(results)
    rows = [_row(r, i, settings[i]) for i, r in enumerate(results)]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["workload", "backend", "device", "machine", "repeat"]).reset_index(
        drop=True
    )


def _row(r: CellResult, index: int, setting: str) -> dict:
    info = r.backend_info or {}
    measured = r.interference
    row = {
        "workload": r.spec.workload,
        "backend": r.spec.backend,
        "device": r.spec.device,
        "machine": r.machine,
        "setting": setting,
        "repeat": r.spec.repeat,
        "seed": r.spec.seed,
        "run_id": r.run_id,
        "index": index,
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
        "threads": r.spec.threads,
        "accuracy_meaningful": r.accuracy_meaningful,
        "noisy": r.noisy,
        "unstable": r.unstable,
        "degraded": r.degraded,
        "others_cpu": measured.others_cpu if measured else None,
        "epoch_time_cv": r.timing.epoch_time_cv if r.timing else None,
    }
    for name, metric in METRICS.items():
        row[name] = metric.value(r)
    row.update(_steady_range(r))
    row.update(_efficiency(r, row["throughput"]))
    return row


def _steady_range(r: CellResult) -> dict:
    """The range of a repeat's steady epochs, as epoch times and as throughputs."""
    steady = r.timing.steady_epoch_times if r.status == "ok" and r.timing else []
    if len(steady) < 2 or min(steady) <= 0:
        return {
            "epoch_time_lo": None,
            "epoch_time_hi": None,
            "throughput_lo": None,
            "throughput_hi": None,
        }
    samples = r.timing.samples_per_epoch
    return {
        "epoch_time_lo": min(steady),
        "epoch_time_hi": max(steady),
        "throughput_lo": samples / max(steady),
        "throughput_hi": samples / min(steady),
    }


def _efficiency(r: CellResult, throughput: float | None) -> dict:
    """Achieved GFLOP/s (throughput x training FLOPs per sample) and its share of the matmul
    peak measured on the machine (a CPU figure: no share for other devices)."""
    flops = (r.workload_info or {}).get("flops_per_sample")
    peak = (r.environment or {}).get("gemm_gflops")
    gflops = throughput * flops / 1e9 if throughput and flops else None
    share = gflops / peak if gflops and peak and r.spec.device == "cpu" else None
    return {"flops_per_sample": flops, "gemm_gflops": peak, "gflops": gflops, "peak_share": share}
