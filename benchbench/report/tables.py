"""Per-workload tables in Jeong-Yoon Lee's form: rows are backends, columns device · machine.

Tables are pandas frames of `Cell`s: what a cell says and how it is flagged, with no markup, so
the HTML and Markdown renderers draw the same table. Speed cells carry their time relative to the
fastest backend of their column, ``(2.0x)``; the fastest is marked ``best``.

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
            (some repeats did not finish).
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
    "to the fastest backend in the column, which is in bold."
)


def row_label(backend: str, engine: str) -> str:
    """``theano (pytensor)`` when a backend runs on an engine its name does not say."""
    if engine and engine not in backend.split(":"):
        return f"{backend} ({engine})"
    return backend


def workload_tables(data: ReportData, workload: str) -> list[Table]:
    """Speed, accuracy, then the detail tables that have any value, for one workload."""
    tables = [metric_table(data, workload, SPEED), accuracy_table(data, workload)]
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
        for backend, row in column_stats.iterrows():
            cell = _value_cell(row, spec, best if backend not in references else None, anchor)
            frame.at[backend, column.label] = cell
            footnotes += _cell_notes(backend, column, row, cell, spec.reasons)
    caption = SPEED_CAPTION if spec is SPEED else ""
    if spec is SPEED and references:
        footnotes.append(
            "ref: a reference lane (the framework used directly or through Keras 3), shown "
            "for comparison with a ratio to the fastest benchbench backend; never bold."
        )
    return _table(data, workload, spec.name, spec.title, caption, frame, footnotes)


def accuracy_table(data: ReportData, workload: str) -> Table:
    """Final validation accuracy per cell, flagged against the reference band."""
    stats = stats_by_column(data, workload, "val_accuracy")
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
                & (cells["status"] == "ok")
            ]
            short = bool(group["quick"].any()) or (
                default_epochs is not None and bool((group["epochs"] != default_epochs).any())
            )
            cell = _accuracy_cell(row, group, band, short)
            frame.at[backend, column.label] = cell
            footnotes += _cell_notes(backend, column, row, cell, reasons=True)
    footnotes = _accuracy_notes(frame) + footnotes
    caption = "Final validation accuracy (median over repeats)."
    if band:
        band_text = formats.band(band["low"], band["high"])
        caption += f" Reference band: {band_text} ({band.get('source', 'source not recorded')})."
    return _table(data, workload, "accuracy", "Accuracy", caption, frame, footnotes)


def stats_by_column(data: ReportData, workload: str, metric: str) -> dict[Column, pd.DataFrame]:
    """Aggregated repeats per column, each frame indexed by backend in report order."""
    return data.memo(("stats", workload, metric), lambda: _stats(data, workload, metric))


def _stats(data: ReportData, workload: str, metric: str) -> dict[Column, pd.DataFrame]:
    agg = data.aggregate(metric)
    found = {}
    for column in data.columns(workload):
        try:
            sub = agg.xs((workload, column.device, column.machine), level=[0, 2, 3])
        except KeyError:
            continue
        found[column] = sub.reindex([b for b in data.backends(workload) if b in sub.index])
    return found


def _best(stats: pd.DataFrame, references: frozenset[str], higher: bool):
    """(best value among benchbench backends or None, the value ratios are relative to)."""
    if stats.empty:
        return None, None
    medians = stats["median"].dropna()
    own = medians[~medians.index.isin(references)]
    pick = (lambda s: s.max()) if higher else (lambda s: s.min())
    best = pick(own) if not own.empty else None
    anchor = best if best is not None else (pick(medians) if not medians.empty else None)
    return best, anchor


def _value_cell(row: pd.Series, spec: Spec, best: float | None, anchor: float | None) -> Cell:
    if row["n_ok"] == 0:
        return _status_cell(row, spec.reasons)
    median, n_ok, n = row["median"], int(row["n_ok"]), int(row["n"])
    spread = max(row["hi"] - median, median - row["lo"]) if spec.spread and n_ok > 1 else None
    text = formats.seconds(median, spread) if spec.spread else spec.fmt(median)
    is_best = best is not None and median == best
    if spec.ratios and not is_best and anchor:
        text += f" ({formats.ratio(median / anchor)})"
    flags: tuple[str, ...] = ()
    if row["n_bad"]:
        text += f" [{n_ok}/{n}]"
        flags = ("partial",)
    return Cell(text, is_best, "value", flags, _detail(row))


def _accuracy_cell(row: pd.Series, group: pd.DataFrame, band: dict | None, short: bool) -> Cell:
    if row["n_ok"] == 0:
        if row["n_ran"] and not group["accuracy_meaningful"].all():
            return Cell(NOT_MEANINGFUL, kind=NOT_MEANINGFUL, detail="synthetic data")
        return _status_cell(row, reasons=True)
    median = row["median"]
    text, flags = formats.percent(median), []
    if band and short:
        text += f" {MARK_SHORT}"
        flags.append("short")
    elif band and not band["low"] <= median <= band["high"]:
        text += f" {MARK_OUT_OF_BAND}"
        flags.append("out-of-band")
    if row["n_bad"]:
        text += f" [{int(row['n_ok'])}/{int(row['n'])}]"
        flags.append("partial")
    return Cell(text, False, "value", tuple(flags), _detail(row))


def _status_cell(row: pd.Series, reasons: bool) -> Cell:
    if not row["n_bad"] or row["n_ran"]:
        return Cell()
    status, reason = str(row["status"]), str(row["reason"] or "")
    text = status
    if reasons and reason:
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


def _cell_notes(backend, column, row, cell: Cell, reasons: bool) -> list[str]:
    """Footnotes for what a cell cannot say itself: reasons of failed repeats, long reasons."""
    if not reasons or not row["n_bad"]:
        return []
    where = f"{backend} on {column.label}"
    if "partial" in cell.flags:
        bad = f"{int(row['n_bad'])} of {int(row['n'])} repeats {row['status']}"
        return [f"{where}: {bad}: {row['reason']}"]
    if cell.kind == row["status"] and len(str(row["reason"] or "")) > REASON_CHARS:
        return [f"{where}: {row['status']}: {row['reason']}"]
    return []


def _accuracy_notes(frame: pd.DataFrame) -> list[str]:
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


def _table(data, workload, name, title, caption, frame, footnotes) -> Table:
    backends = list(frame.index)
    labels = {b: row_label(b, data.engine(b)) for b in backends}
    references = frozenset(b for b in backends if data.is_reference(b))
    return Table(name, title, caption, frame, labels, references, tuple(footnotes))
