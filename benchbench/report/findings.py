"""The report's answer in sentences: which backend is fastest, by how much, do they agree.

One `Finding` per workload and column (device · machine, and setting where a workload has more
than one). Reference lanes are named after the benchbench backends, with their ratio, and never
counted as fastest. A ratio is a finding only where the two cells' ranges do not overlap;
otherwise it reads ``≈`` with the interval the ranges allow.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from benchbench.report import formats
from benchbench.report.data import Column, ReportData
from benchbench.report.flags import MARK_NOISY, ratio_text
from benchbench.report.tables import row_label, stats_by_column


@dataclasses.dataclass(frozen=True)
class Finding:
    """One row of "at a glance": plain text, no markup.

    Attributes:
        workload: the workload.
        column: the device · machine column.
        fastest: the fastest benchbench backend and its seconds per epoch ('' if none).
        others: every other timed backend with its time relative to the fastest.
        missing: backends without a timing, with their status.
        accuracy: whether backends agree on the workload's quality measure (accuracy, or the
            training loss of a workload judged on it), and who is outside the reference band.
    """

    workload: str
    column: str
    fastest: str
    others: str
    missing: str
    accuracy: str

    HEADERS = (
        "workload",
        "device · machine",
        "fastest (s/epoch)",
        "others: time relative to the fastest",
        "no result",
        "accuracy",
    )

    def cells(self) -> tuple[str, ...]:
        fields = (self.fastest, self.others, self.missing, self.accuracy)
        return (self.workload, self.column, *(f or "—" for f in fields))


def findings(data: ReportData) -> list[Finding]:
    found = []
    for workload in data.workloads():
        speed = stats_by_column(data, workload, "epoch_time")
        metric = data.quality(workload)
        accuracy = stats_by_column(data, workload, metric)
        info = data.workload_info(workload)
        for column in data.columns(workload):
            fastest, others, missing = _speed(data, speed.get(column, pd.DataFrame()))
            agreement = _agreement(
                data, workload, column, accuracy.get(column, pd.DataFrame()), info, metric
            )
            found.append(Finding(workload, column.label, fastest, others, missing, agreement))
    return found


def _label(data: ReportData, backend: str) -> str:
    label = row_label(backend, data.engine(backend))
    return f"{label} (ref)" if data.is_reference(backend) else label


def _speed(data: ReportData, stats: pd.DataFrame) -> tuple[str, str, str]:
    """(fastest with its time, the others with ratios, backends without a time)."""
    if stats.empty:
        return "", "", ""
    medians = stats["median"].dropna().sort_values()
    own = medians[[not data.is_reference(b) for b in medians.index]]
    missing = [f"{b} ({_status(stats.at[b, 'status'])})" for b in stats.index if b not in medians]
    if own.empty:
        return "", "", ", ".join(missing)
    fastest, best = own.index[0], own.iloc[0]
    others = [
        f"{_label(data, b)} {ratio_text(stats.loc[b], stats.loc[fastest])}{_noisy(stats, b)}"
        for b in medians.index
        if b != fastest
    ]
    text = f"{_label(data, fastest)} ({formats.seconds(best)}){_noisy(stats, fastest)}"
    return text, ", ".join(others), ", ".join(missing)


def _noisy(stats: pd.DataFrame, backend: str) -> str:
    return f" {MARK_NOISY}" if stats.at[backend, "n_noisy"] else ""


def _status(status: object) -> str:
    return status if isinstance(status, str) and status else "no timing recorded"


def _agreement(
    data: ReportData,
    workload: str,
    column: Column,
    stats: pd.DataFrame,
    info: dict,
    metric: str,
) -> str:
    cells = data.cells
    group = cells[
        (cells["workload"] == workload)
        & (cells["device"] == column.device)
        & (cells["machine"] == column.machine)
        & (cells["setting"] == column.setting)
        & (cells["status"] == "ok")
    ]
    values = stats["median"].dropna() if not stats.empty else pd.Series(dtype=float)
    values = values[[not data.is_reference(b) for b in values.index]]
    if values.empty:
        if not group.empty and not group["accuracy_meaningful"].all():
            return "not meaningful (synthetic data)"
        return ""
    measure = "training loss: " if metric == "train_loss" else ""
    if len(values) == 1:
        value = formats.quality(values.iloc[0], metric)
        return f"{measure}only {_label(data, values.index[0])}: {value}"
    low, high = values.min(), values.max()
    text = (
        f"{measure}{len(values)} backends within {formats.quality_spread(high - low, metric)} "
        f"({formats.quality_band(low, high, metric)})"
    )
    band = info.get("reference")
    full = not group["quick"].any() and (
        (group["epochs"] == (info.get("default") or {}).get("epochs")).all()
    )
    if band and full:
        outside = [b for b, v in values.items() if not band["low"] <= v <= band["high"]]
        if outside:
            names = ", ".join(_label(data, b) for b in outside)
            text += (
                "; outside the reference band "
                f"{formats.quality_band(band['low'], band['high'], metric)}: "
            )
            text += names
    return text
