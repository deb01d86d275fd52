"""What a report says about trust: noisy and unstable cells, ratios within the noise, cells that
did not run.

- ``†`` (noisy): while the cell trained, other processes used more than 10% of the CPUs it was
  given (`benchbench.interference`); every table marks it and a footnote gives the figures.
- ``⇅`` (unstable): a repeat's steady epoch times vary by more than 10% of their mean.
- ``▽`` (degraded): the backend ran handicapped on that machine, as its adapter reported it
  (``backend_info['degraded']``, e.g. PyTensor with no BLAS linked): its timings say more about
  the installation than about the framework. A footnote gives the reason.
- ``≈``: two cells' ranges overlap (over repeats; for a single repeat, over its steady epochs),
  so the ratio between them is not a finding: it is shown as its interval, ``(≈0.95–1.3x)``.
- A backend that was skipped or unavailable says only so in its cells; the reason is given once
  per workload (`not_run_notes`).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from benchbench.interference import NOISY_OTHERS_CPU, UNSTABLE_CV, percent
from benchbench.report import formats
from benchbench.report.data import Column, ReportData

MARK_NOISY = "†"
MARK_UNSTABLE = "⇅"
MARK_DEGRADED = "▽"
MARK_OVERLAP = "≈"
#: Statuses whose reason is said once per workload rather than in every cell.
QUIET_STATUSES = ("skipped", "unavailable")

NOISY_LEGEND = (
    f"{MARK_NOISY} noisy: while it trained, other processes used more than "
    f"{NOISY_OTHERS_CPU:.0%} of the CPUs the cell was given, so its timings are not comparable."
)
UNSTABLE_LEGEND = (
    f"{MARK_UNSTABLE} unstable: the steady epoch times of a repeat vary by more than "
    f"{UNSTABLE_CV:.0%} of their mean."
)
DEGRADED_LEGEND = (
    f"{MARK_DEGRADED} degraded: the backend ran handicapped on this machine (its adapter says "
    "why below), so its timings are pessimistic against the others."
)
OVERLAP_LEGEND = (
    f"{MARK_OVERLAP}: the cell's range (over repeats; for one repeat, over its steady epochs) "
    "overlaps the fastest's, so no ratio is claimed; the interval is what the ranges allow."
)


def overlaps(a: pd.Series, b: pd.Series) -> bool:
    """Whether two aggregate rows' ranges (``range_lo``-``range_hi``) overlap."""
    return bool(a["range_lo"] <= b["range_hi"] and b["range_lo"] <= a["range_hi"])


def ratio_text(row: pd.Series, anchor: pd.Series) -> str:
    """``1.5x``, or ``≈0.95–1.3x`` when the two ranges overlap."""
    if not overlaps(row, anchor):
        return formats.ratio(row["median"] / anchor["median"])
    low = row["range_lo"] / anchor["range_hi"]
    high = row["range_hi"] / anchor["range_lo"]
    return f"{MARK_OVERLAP}{formats.ratio(low)[:-1]}–{formats.ratio(high)}"


MARKS = (MARK_NOISY, MARK_UNSTABLE, MARK_DEGRADED)


def split_marks(text: str) -> tuple[str, str]:
    """('3,468', ' † ⇅') from '3,468 † ⇅': a cell's text and its trailing marks."""
    marks = ""
    while text.endswith(tuple(f" {m}" for m in MARKS)):
        marks, text = text[-2:] + marks, text[:-2]
    return text, marks


def mark(cell, row: pd.Series):
    """`cell` (a `tables.Cell` with a value) with the noisy, unstable and degraded marks of its
    row."""
    text, flags = cell.text, list(cell.flags)
    if row.get("n_noisy", 0):
        text, flags = f"{text} {MARK_NOISY}", [*flags, "noisy"]
    if row.get("n_unstable", 0):
        text, flags = f"{text} {MARK_UNSTABLE}", [*flags, "unstable"]
    if row.get("n_degraded", 0):
        text, flags = f"{text} {MARK_DEGRADED}", [*flags, "degraded"]
    return dataclasses.replace(cell, text=text, flags=tuple(flags))


def flag_notes(data: ReportData, workload: str, frame: pd.DataFrame) -> list[str]:
    """The legends and figures of the noisy, unstable and degraded cells of a table (`frame`)."""
    noisy, unstable, degraded = [], [], {}
    for column in data.columns(workload):
        if column.label not in frame.columns:
            continue
        for backend, cell in frame[column.label].items():
            if "noisy" in cell.flags:
                noisy.append(_noise(data, workload, backend, column))
            if "unstable" in cell.flags:
                unstable.append(_instability(data, workload, backend, column))
            if "degraded" in cell.flags:
                degraded.setdefault(_degradation(data, workload, backend, column), None)
    notes = [NOISY_LEGEND, *noisy] if noisy else []
    notes += [UNSTABLE_LEGEND, *unstable] if unstable else []
    return notes + ([DEGRADED_LEGEND, *degraded] if degraded else [])


def _degradation(data: ReportData, workload: str, backend: str, column: Column) -> str:
    group = data.group(workload, backend, column)
    reasons = dict.fromkeys(r.degraded for r in group if r.degraded)
    return f"{MARK_DEGRADED} {backend} on {column.label}: {'; '.join(reasons)}."


def _noise(data: ReportData, workload: str, backend: str, column: Column) -> str:
    def compute() -> str:
        ran = [r for r in data.group(workload, backend, column) if r.status == "ok"]
        noisy = [r for r in ran if r.noisy]
        worst = max(noisy, key=lambda r: r.interference.others_cpu)
        return (
            f"{MARK_NOISY} {backend} on {column.label}: {len(noisy)} of {len(ran)} repeats "
            f"noisy; repeat {worst.spec.repeat}: {worst.interference.describe()}."
        )

    return data.memo(("noise", workload, backend, column), compute)


def _instability(data: ReportData, workload: str, backend: str, column: Column) -> str:
    ran = [r for r in data.group(workload, backend, column) if r.status == "ok"]
    parts = [
        f"{percent(r.timing.epoch_time_cv)} in repeat {r.spec.repeat}"
        for r in ran
        if r.unstable and r.timing.epoch_time_cv is not None
    ]
    return (
        f"{MARK_UNSTABLE} {backend} on {column.label}: the steady epochs vary by "
        f"{', '.join(parts)} (standard deviation / mean)."
    )


def not_run_notes(data: ReportData, workload: str) -> list[str]:
    """Each reason a backend was skipped or unavailable, once: 'skipped: <reason> (mnist_cnn
    on cpu · vm: every backend)'."""
    stats = data.aggregate("epoch_time")
    try:
        rows = stats.xs(workload, level="workload")
    except KeyError:
        return []
    quiet = rows[(rows["n_ran"] == 0) & rows["status"].isin(QUIET_STATUSES)]
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (backend, device, machine, setting), row in quiet.iterrows():
        column = next(
            c.label
            for c in data.columns(workload)
            if (c.device, c.machine, c.setting) == (device, machine, setting)
        )
        found.setdefault((row["status"], str(row["reason"] or "")), []).append((backend, column))
    all_backends = set(data.backends(workload))
    all_columns = {c.label for c in data.columns(workload)}
    notes = []
    for (status, reason), where in found.items():
        backends = [b for b in data.backends(workload) if b in {w[0] for w in where}]
        columns = sorted({w[1] for w in where})
        who = "every backend" if set(backends) == all_backends else ", ".join(backends)
        on = f" on {', '.join(columns)}" if len(all_columns) > 1 else ""
        notes.append(f"{status}: {reason or 'no reason recorded'} ({who}{on})")
    return notes
