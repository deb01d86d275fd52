"""The cost of the abstraction: each adapter's throughput beside its reference lanes.

A lane (``native:<framework>``, ``keras3:<framework>``; see `benchbench.lanes`) trains the same
model with the same batches in the same fit loop, with its framework used directly or through
Keras 3, so adapter / lane throughput is what benchbench's layer costs (ratio > 1: the adapter
is faster). One table per workload and column (device · machine) that has a lane; rows are the
adapters that have lanes. The targets are benchbench's own: on CPU, for the Keras examples of
Jeong-Yoon Lee's benchmark that have lanes (mnist_mlp, mnist_cnn, imdb_bilstm, imdb_fasttext,
lstm_text_generation) and the recurrent workloads (mnist1d_gru, addition_rnn), every adapter at
least 0.95x its native lane and 1.0x its Keras 3 lane;
a ratio below its target is flagged, unless the two cells' ranges overlap (``≈``: the ratio is
within the noise, so no miss is claimed). The keras3 target is against Keras 3's default
``jit_compile``; ``keras3-jit`` lanes (``jit_compile=True``) get columns only where they ran, and
no target: they compile with XLA or ``torch.compile``, which the adapters do only when asked
(``BENCHBENCH_TF_JIT``). A lane whose update rule is not Keras 2's (its framework's fast kernel
computes another) is marked § with the deviation it recorded.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from benchbench import lanes
from benchbench.report import formats
from benchbench.report.data import Column, ReportData, order_backends
from benchbench.report.flags import (
    DEGRADED_LEGEND,
    MARK_OVERLAP,
    NOISY_LEGEND,
    UNSTABLE_LEGEND,
    mark,
    overlaps,
)
from benchbench.report.tables import (
    Cell,
    Spec,
    Table,
    cell_notes,
    row_label,
    stats_by_column,
    value_cell,
)

#: Lane kind -> the adapter/lane throughput ratio each adapter should reach.
TARGETS = {"native": 0.95, "keras3": 1.0}
#: Lane kinds shown only where they ran, without a target.
OPTIONAL_KINDS = ("keras3-jit",)
TARGET_DEVICE = "cpu"
TARGET_WORKLOADS = (
    "mnist_mlp",
    "mnist_cnn",
    "imdb_bilstm",
    "imdb_fasttext",
    "lstm_text_generation",
    "mnist1d_gru",
    "addition_rnn",
)
MARK_MISS = "✗"
MARK_DEVIATION = "§"
RATE = Spec("throughput", "throughput", "samples/s", formats.rate, reasons=True)


def lane_of(backend: str) -> tuple[str, str] | None:
    """``native:torch`` -> ('native', 'torch'); None for a backend that is not a lane."""
    kind, sep, framework = backend.partition(":")
    return (kind, framework) if sep and (kind in TARGETS or kind in OPTIONAL_KINDS) else None


def targets_apply(workload: str, column: Column) -> bool:
    return workload in TARGET_WORKLOADS and column.device == TARGET_DEVICE


def kinds_in(backends) -> list[str]:
    """The lane kinds a table shows: every targeted kind, and optional kinds that ran."""
    ran = {lane[0] for lane in map(lane_of, backends) if lane}
    return [*TARGETS, *(k for k in OPTIONAL_KINDS if k in ran)]


def headers(kinds=tuple(TARGETS)) -> list[str]:
    columns = ["adapter (samples/s)"]
    for kind in kinds:
        columns += [f"{kind} lane (samples/s)", f"adapter / {kind}"]
    return columns


def abstraction_tables(data: ReportData, workload: str) -> list[Table]:
    """One table per column of `workload` that has at least one lane cell."""
    stats = stats_by_column(data, workload, "throughput")
    found = []
    for column in data.columns(workload):
        column_stats = stats.get(column, pd.DataFrame())
        if any(lane_of(b) for b in column_stats.index):
            found.append(_table(data, workload, column, column_stats))
    return found


def _table(data: ReportData, workload: str, column: Column, stats: pd.DataFrame) -> Table:
    applies = targets_apply(workload, column)
    adapters = _adapters(stats.index)
    kinds = kinds_in(stats.index)
    rows, footnotes, reasons, deviations = [], [], [], []
    for adapter in adapters:
        row = [_rate(stats, adapter)]
        for kind in kinds:
            lane, target = f"{kind}:{adapter}", TARGETS.get(kind)
            rate, ratio = _rate(stats, lane), _ratio(stats, adapter, lane, target, applies)
            labels = _deviations(data, workload, lane, column)
            if labels:
                rate = dataclasses.replace(rate, text=f"{rate.text} {MARK_DEVIATION}")
                deviations += [f"{MARK_DEVIATION} {lane}: {label}." for label in labels]
            row += [rate, ratio]
            if lane in stats.index:
                reasons += cell_notes(lane, column, stats.loc[lane], rate, reasons=True)
            if "below-target" in ratio.flags:
                footnotes.append(
                    f"{MARK_MISS} {adapter} on {column.label}: {_ratio_text(ratio)} its {lane} "
                    f"lane, below the target of {target:.2f}x."
                )
        rows.append(row)
    frame = pd.DataFrame(rows, index=pd.Index(adapters, name="adapter"), columns=headers(kinds))
    footnotes += legends(frame) + deviations
    return Table(
        name="abstraction",
        title=f"Cost of the abstraction · {column.label}",
        caption=caption(
            applies, optional=[k for k in kinds if k in OPTIONAL_KINDS], deviations=deviations
        ),
        frame=frame,
        labels={a: row_label(a, data.engine(a)) for a in adapters},
        references=frozenset(),
        footnotes=tuple(footnotes + reasons),
        row_header="adapter",
    )


def legends(frame: pd.DataFrame) -> list[str]:
    """What the marks in this table mean; the noise figures are in the speed table's notes."""
    flags = {flag for cell in frame.to_numpy().ravel() for flag in cell.flags}
    found = []
    if "overlap" in flags:
        found.append(
            f"{MARK_OVERLAP}: the adapter's and the lane's ranges overlap, so the ratio is within "
            "the noise and no miss is claimed."
        )
    if "noisy" in flags:
        found.append(NOISY_LEGEND + " Its figures are in the notes of the speed table.")
    if "unstable" in flags:
        found.append(UNSTABLE_LEGEND)
    if "degraded" in flags:
        found.append(DEGRADED_LEGEND + " The reasons are in the notes of the speed table.")
    return found


def caption(applies: bool, optional=(), deviations=()) -> str:
    jit = (
        "; keras3-jit, the same with jit_compile=True (no target: the adapters compile with "
        "XLA only when asked)"
        if optional
        else ""
    )
    text = (
        "Training throughput (samples/s, median over repeats) of each adapter beside its "
        "reference lanes on the same device and machine: native, its framework used directly "
        f"as an expert would; keras3, the same model in Keras 3's own fit loop{jit}. "
        + (
            f"{MARK_DEVIATION}: the lane's update rule deviates from Keras 2's (see the notes). "
            if deviations
            else ""
        )
        + "adapter / lane above 1: the adapter is faster. "
        f"Targets: on {TARGET_DEVICE.upper()}, for {_names(TARGET_WORKLOADS)}, every "
        "adapter at least "
        + " and ".join(f"{t:.2f}x its {k} lane" for k, t in TARGETS.items())
        + "; "
    )
    if applies:
        return text + f"{MARK_MISS} marks a miss."
    return text + "they do not apply to this table, so nothing is flagged."


def _names(names) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _adapters(backends) -> list[str]:
    """Adapters of this column that have a lane kind, or whose lanes ran here, report order."""
    with_lanes = {lanes.framework_of(name) for name in lanes.LANES}
    found = {lane[1] for lane in map(lane_of, backends) if lane}
    found |= {b for b in backends if b in with_lanes}
    return order_backends(found)


def _rate(stats: pd.DataFrame, backend: str) -> Cell:
    if backend not in stats.index:
        return Cell()
    return value_cell(stats.loc[backend], RATE)


def _deviations(data: ReportData, workload: str, lane: str, column: Column) -> list[str]:
    """The update-rule deviations `lane`'s results recorded, each once."""
    found: dict[str, None] = {}
    for result in data.group(workload, lane, column):
        found.update(dict.fromkeys((result.backend_info or {}).get("deviations") or []))
    return list(found)


def _ratio(stats, adapter: str, lane: str, target: float | None, applies: bool) -> Cell:
    mine, theirs = _median(stats, adapter), _median(stats, lane)
    if mine is None or theirs is None:
        return Cell()
    value = mine / theirs
    text = f"{value:.2f}x"
    if target is not None and round(value, 2) >= target > value:  # "0.95x" must not pass 0.95
        text = f"{value:.3f}x"
    detail = f"{formats.rate(mine)} / {formats.rate(theirs)} samples/s = {value:.4f}"
    rows = stats.loc[adapter], stats.loc[lane]
    if overlaps(*rows):
        low, high = (
            rows[0]["range_lo"] / rows[1]["range_hi"],
            rows[0]["range_hi"] / rows[1]["range_lo"],
        )
        detail += f"; the ranges overlap: {low:.2f}–{high:.2f}x"
        cell = Cell(f"{text} {MARK_OVERLAP}", False, "value", ("overlap",), detail)
    elif applies and target is not None and value < target:
        cell = Cell(f"{text} {MARK_MISS}", False, "value", ("below-target",), detail)
    else:
        cell = Cell(text, False, "value", (), detail)
    flagged = rows[0].copy()
    flagged["n_noisy"] = rows[0]["n_noisy"] + rows[1]["n_noisy"]
    flagged["n_unstable"] = rows[0]["n_unstable"] + rows[1]["n_unstable"]
    flagged["n_degraded"] = rows[0]["n_degraded"] + rows[1]["n_degraded"]
    return mark(cell, flagged)


def _ratio_text(cell: Cell) -> str:
    return cell.text.removesuffix(f" {MARK_MISS}")


def _median(stats: pd.DataFrame, backend: str) -> float | None:
    if backend not in stats.index or not stats.at[backend, "n_ok"]:
        return None
    value = stats.at[backend, "median"]
    return None if pd.isna(value) else float(value)
