"""Per-workload tables in Jeong-Yoon Lee's form: rows are backends, columns device · machine
(and the setting, where a workload ran with more than one; see `benchbench.report.settings`).

Tables are pandas frames of `Cell`s: what a cell says and how it is flagged, with no markup, so
the HTML and Markdown renderers draw the same table. Speed cells carry their time relative to the
fastest backend of their column, ``(2.0x)``, or, when the two cells' ranges overlap, the interval
the ranges allow, ``(≈0.95–1.3x)``; the fastest is marked ``best``. Noisy and unstable cells are
marked in every table, with a footnote of the figures (`benchbench.report.flags`).

Reference lanes (backends named ``native:*`` or ``keras3:*``: a framework used directly or
through Keras 3) sit in the same tables and get ratios, but are never marked best: the ratios
answer "how far is each benchbench backend from the fastest one", and a reference lane shows
where the framework's own API lands on that scale (``(0.9x)``: faster than every adapter).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from benchbench.report import formats
from benchbench.report.data import Column, ReportData
from benchbench.report.flags import (
    MARK_OVERLAP,
    OVERLAP_LEGEND,
    QUIET_STATUSES,
    flag_notes,
    mark,
    not_run_notes,
    ratio_text,
)
from benchbench.results import METRICS

REASON_CHARS = 60
MARK_OUT_OF_BAND = "⚠"
MARK_SHORT = "‡"
NOT_MEANINGFUL = "n/m"


@dataclasses.dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes:
        text: what the cell says, markers included.
        best: the best value of its column.
        kind: 'value', 'missing', 'n/m' or a non-ok status ('failed', 'unavailable', ...).
        flags: 'out-of-band', 'short' (fewer epochs than the default profile), 'partial'
            (some repeats did not finish), 'noisy', 'unstable', 'overlap' (its range overlaps
            the fastest's: no ratio claimed).
        detail: a longer explanation (a tooltip in HTML).
    """

    text: str = "—"
    best: bool = False
    kind: str = "missing"
    flags: tuple[str, ...] = ()
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class Table:
    """A rendered-agnostic table: `frame` holds `Cell`s, indexed by backend, columns labelled."""

    name: str
    title: str
    caption: str
    frame: pd.DataFrame
    labels: dict[str, str]
    references: frozenset[str]
    footnotes: tuple[str, ...] = ()
    row_header: str = "backend"


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str
    metric: str
    title: str
    fmt: Callable[[float], str]
    ratios: bool = False
    spread: bool = False
    reasons: bool = False


SPEED = Spec("speed", "epoch_time", "Speed: seconds per epoch", formats.seconds, True, True, True)
DETAILS = (
    Spec(
        "first_epoch",
        "first_epoch_time",
        "First epoch, incl. compilation (s)",
        formats.seconds,
        ratios=True,
        spread=True,
    ),
    Spec("throughput", "throughput", "Throughput (samples/s)", formats.rate),
    Spec("host_memory", "peak_host_memory", "Peak host memory", formats.size),
    Spec("gpu_memory", "peak_gpu_memory", "Peak GPU memory", formats.size),
)

SPEED_CAPTION = (
    "Median over repeats of each repeat's median steady-state epoch time (training only: the "
    "first epoch and validation are excluded). ± bounds every repeat. (n.nx): time relative "
    "to the fastest backend in the column, which is in bold; (≈a–bx) where the two cells' "
    "ranges overlap."
)


def row_label(backend: str, engine: str) -> str:
    """``theano (pytensor)`` when a backend runs on an engine its name does not say."""
    if engine and engine not in backend.split(":"):
        return f"{backend} ({engine})"
    return backend


def has_values(data: ReportData, workload: str) -> bool:
    """Whether any cell of `workload` ran (else its section is only the reasons why not)."""
    cells = data.cells[data.cells["workload"] == workload]
    return bool((cells["status"] == "ok").any()) or not cells["status"].isin(QUIET_STATUSES).all()


def workload_tables(data: ReportData, workload: str) -> list[Table]:
    """Speed, quality (accuracy, or the training loss), then the detail tables that have any
    value, for one workload; none if every cell was skipped or unavailable
    (`flags.not_run_notes` says why, once)."""
    if not has_values(data, workload):
        return []
    tables = [metric_table(data, workload, SPEED), quality_table(data, workload)]
    for spec in DETAILS:
        table = metric_table(data, workload, spec)
        if any(cell.kind == "value" for cell in table.frame.to_numpy().ravel()):
            tables.append(table)
    return tables


def metric_table(data: ReportData, workload: str, spec: Spec) -> Table:
    """One metric's table: median over repeats, bold best, ratios to the best if asked."""
    stats = stats_by_column(data, workload, spec.metric)
    higher = METRICS[spec.metric].higher_is_better
    references = frozenset(b for b in data.backends(workload) if data.is_reference(b))
    frame = _empty_frame(data, workload)
    footnotes: list[str] = []
    for column in data.columns(workload):
        column_stats = stats.get(column, pd.DataFrame())
        best, anchor = _best(column_stats, references, higher)
        anchor_row = column_stats.loc[anchor] if anchor is not None and spec.ratios else None
        for backend, row in column_stats.iterrows():
            own_best = best if backend not in references else None
            cell = value_cell(row, spec, own_best, anchor_row)
            frame.at[backend, column.label] = cell
            footnotes += cell_notes(backend, column, row, cell, spec.reasons)
    footnotes += flag_notes(data, workload, frame)
    if any("overlap" in c.flags for c in frame.to_numpy().ravel()):
        footnotes.append(OVERLAP_LEGEND)
    caption = SPEED_CAPTION if spec is SPEED else ""
    if spec is SPEED and references:
        footnotes.append(
            "ref: a reference lane (the framework used directly or through Keras 3), shown "
            "for comparison with a ratio to the fastest benchbench backend; never bold."
        )
    return _table(data, workload, spec.name, spec.title, caption, frame, footnotes)


#: The quality table of each measure: (table name, title, caption's first sentence).
QUALITY_TABLES = {
    "val_accuracy": ("accuracy", "Accuracy", "Final validation accuracy (median over repeats)."),
    "train_loss": (
        "loss",
        "Training loss",
        "Final training loss, the mean over the last epoch's batches (median over repeats); "
        "lower is better.",
    ),
}


def quality_table(data: ReportData, workload: str) -> Table:
    """The workload's quality measure per cell (validation accuracy, or the training loss of a
    workload judged on it), flagged against the reference band."""
    metric = data.quality(workload)
    stats = stats_by_column(data, workload, metric)
    info = data.workload_info(workload)
    band = info.get("reference") or None
    default_epochs = (info.get("default") or {}).get("epochs")
    cells = data.cells[data.cells["workload"] == workload]
    frame = _empty_frame(data, workload)
    footnotes: list[str] = []
    for column in data.columns(workload):
        for backend, row in stats.get(column, pd.DataFrame()).iterrows():
            group = cells[
                (cells["backend"] == backend)
                & (cells["device"] == column.device)
                & (cells["machine"] == column.machine)
                & (cells["setting"] == column.setting)
                & (cells["status"] == "ok")
            ]
            short = bool(group["quick"].any()) or (
                default_epochs is not None and bool((group["epochs"] != default_epochs).any())
            )
            cell = _quality_cell(row, group, band, short, metric)
            frame.at[backend, column.label] = cell
            footnotes += cell_notes(backend, column, row, cell, reasons=True)
    footnotes = _quality_notes(frame) + footnotes + flag_notes(data, workload, frame)
    name, title, caption = QUALITY_TABLES[metric]
    if band:
        band_text = formats.quality_band(band["low"], band["high"], metric)
        caption += f" Reference band: {band_text} ({band.get('source', 'source not recorded')})."
    return _table(data, workload, name, title, caption, frame, footnotes)


def stats_by_column(data: ReportData, workload: str, metric: str) -> dict[Column, pd.DataFrame]:
    """Aggregated repeats per column, each frame indexed by backend in report order."""
    return data.memo(("stats", workload, metric), lambda: _stats(data, workload, metric))


def _stats(data: ReportData, workload: str, metric: str) -> dict[Column, pd.DataFrame]:
    agg = data.aggregate(metric)
    found = {}
    for column in data.columns(workload):
        try:
            sub = agg.xs(
                (workload, column.device, column.machine, column.setting), level=[0, 2, 3, 4]
            )
        except KeyError:
            continue
        found[column] = sub.reindex([b for b in data.backends(workload) if b in sub.index])
    return found


def _best(stats: pd.DataFrame, references: frozenset[str], higher: bool):
    """(best value among benchbench backends or None, the backend ratios are relative to)."""
    if stats.empty:
        return None, None
    medians = stats["median"].dropna()
    own = medians[~medians.index.isin(references)]
    pick = (lambda s: s.idxmax()) if higher else (lambda s: s.idxmin())
    best = own[pick(own)] if not own.empty else None
    anchor = pick(own) if not own.empty else (pick(medians) if not medians.empty else None)
    return best, anchor


def value_cell(
    row: pd.Series, spec: Spec, best: float | None = None, anchor: pd.Series | None = None
) -> Cell:
    """A cell of a metric's aggregate `row`: its median (± spread), its ratio to the `anchor`
    row (the fastest) if given, and its marks."""
    if row["n_ok"] == 0:
        return _status_cell(row, spec.reasons)
    median, n_ok, n = row["median"], int(row["n_ok"]), int(row["n"])
    spread = max(row["hi"] - median, median - row["lo"]) if spec.spread and n_ok > 1 else None
    text = formats.seconds(median, spread) if spec.spread else spec.fmt(median)
    is_best = best is not None and median == best
    flags: list[str] = []
    if anchor is not None and not is_best and anchor["median"]:
        ratio = ratio_text(row, anchor)
        text += f" ({ratio})"
        flags += ["overlap"] if ratio.startswith(MARK_OVERLAP) else []
    if row["n_bad"]:
        text += f" [{n_ok}/{n}]"
        flags.append("partial")
    return mark(Cell(text, is_best, "value", tuple(flags), _detail(row)), row)


def _quality_cell(
    row: pd.Series, group: pd.DataFrame, band: dict | None, short: bool, metric: str
) -> Cell:
    if row["n_ok"] == 0:
        if row["n_ran"] and not group["accuracy_meaningful"].all():
            return Cell(NOT_MEANINGFUL, kind=NOT_MEANINGFUL, detail="synthetic data")
        return _status_cell(row, reasons=True)
    median = row["median"]
    text, flags = formats.quality(median, metric), []
    if band and short:
        text += f" {MARK_SHORT}"
        flags.append("short")
    elif band and not band["low"] <= median <= band["high"]:
        text += f" {MARK_OUT_OF_BAND}"
        flags.append("out-of-band")
    if row["n_bad"]:
        text += f" [{int(row['n_ok'])}/{int(row['n'])}]"
        flags.append("partial")
    return mark(Cell(text, False, "value", tuple(flags), _detail(row)), row)


def _status_cell(row: pd.Series, reasons: bool) -> Cell:
    if not row["n_bad"] or row["n_ran"]:
        return Cell()
    status, reason = str(row["status"]), str(row["reason"] or "")
    text = status
    if reasons and reason and status not in QUIET_STATUSES:
        short = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
        text = f"{status}: {short}"
    return Cell(text, kind=status, detail=f"{status}: {reason}" if reason else status)


def _detail(row: pd.Series) -> str:
    parts = [f"{int(row['n_ok'])} of {int(row['n'])} repeats"]
    if row["n_ok"] > 1:
        parts.append(f"range {row['lo']:.6g}–{row['hi']:.6g}")
    if row["n_bad"]:
        parts.append(f"{int(row['n_bad'])} {row['status']}: {row['reason']}")
    return "; ".join(parts)


def cell_notes(backend, column, row, cell: Cell, reasons: bool) -> list[str]:
    """Footnotes for what a cell cannot say itself: reasons of failed repeats, long reasons.
    Skipped and unavailable cells have none: `flags.not_run_notes` gives their reasons once."""
    if not reasons or not row["n_bad"] or cell.kind in QUIET_STATUSES:
        return []
    where = f"{backend} on {column.label}"
    if "partial" in cell.flags:
        bad = f"{int(row['n_bad'])} of {int(row['n'])} repeats {row['status']}"
        return [f"{where}: {bad}: {row['reason']}"]
    if cell.kind == row["status"] and len(str(row["reason"] or "")) > REASON_CHARS:
        return [f"{where}: {row['status']}: {row['reason']}"]
    return []


def _quality_notes(frame: pd.DataFrame) -> list[str]:
    cells = list(frame.to_numpy().ravel())
    notes = []
    if any("out-of-band" in c.flags for c in cells):
        notes.append(f"{MARK_OUT_OF_BAND} outside the reference band.")
    if any("short" in c.flags for c in cells):
        notes.append(
            f"{MARK_SHORT} fewer epochs than the default setting (quick profile or --epochs): "
            "the band does not apply."
        )
    if any(c.kind == NOT_MEANINGFUL for c in cells):
        notes.append(f"{NOT_MEANINGFUL}: not meaningful, trained on synthetic data.")
    return notes


def _empty_frame(data: ReportData, workload: str) -> pd.DataFrame:
    columns = [c.label for c in data.columns(workload)]
    backends = data.backends(workload)
    values = [[Cell() for _ in columns] for _ in backends]
    return pd.DataFrame(values, index=pd.Index(backends, name="backend"), columns=columns)


def workload_notes(data: ReportData, workload: str) -> list[str]:
    """Said once above a workload's tables: its shared setting, why backends did not run."""
    notes = []
    setting = data.common_setting(workload)
    if setting:
        notes.append(f"Setting of every column: {setting}.")
    return notes + not_run_notes(data, workload)


def _table(data, workload, name, title, caption, frame, footnotes) -> Table:
    backends = list(frame.index)
    labels = {b: row_label(b, data.engine(b)) for b in backends}
    references = frozenset(b for b in backends if data.is_reference(b))
    return Table(name, title, caption, frame, labels, references, tuple(footnotes))
