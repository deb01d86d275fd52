"""Matplotlib figures as PNG bytes: speed bars, quality curves (accuracy, or the training loss of
a workload judged on it), time relative to a baseline.

Each figure has one panel per column (device · machine), because machines are not compared with
each other. A backend has the same colour in every figure (`colour`). Matplotlib is imported
when a figure is drawn, through its object API and the Agg canvas: no pyplot, no global state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math

import pandas as pd

from benchbench.report import formats
from benchbench.report.data import Column, ReportData
from benchbench.report.tables import row_label, stats_by_column

COLOURS = {
    "tensorflow": "#ff7f0e",
    "theano": "#2ca02c",
    "cntk": "#9467bd",
    "torch": "#d62728",
    "jax": "#1f77b4",
    "numpy": "#7f7f7f",
}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
EXTRA = ("#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39")
PANEL_WIDTH, MIN_WIDTH, HEIGHT, DPI = 3.9, 5.6, 3.3, 110
MAX_PANELS_PER_ROW = 3


@dataclasses.dataclass(frozen=True)
class Plot:
    title: str
    alt: str
    png: bytes


def colour(backend: str) -> str:
    """A fixed colour per backend name; a reference lane ``x:engine`` gets a lighter engine's."""
    if ":" in backend:
        engine = backend.rsplit(":", 1)[1]
        base = COLOURS.get(engine, _hashed(backend))
        return _lighter(base)
    return COLOURS.get(backend, _hashed(backend))


def workload_plots(data: ReportData, workload: str, baseline: str | None) -> list[Plot]:
    """The figures for one workload that have anything to show."""
    plots = [speed_plot(data, workload), quality_plot(data, workload)]
    if baseline:
        plots.append(relative_plot(data, workload, baseline))
    return [p for p in plots if p is not None]


def speed_plot(data: ReportData, workload: str) -> Plot | None:
    stats = stats_by_column(data, workload, "epoch_time")
    panels = {c: s.dropna(subset=["median"]) for c, s in stats.items()}
    panels = {c: s for c, s in panels.items() if not s.empty}
    if not panels:
        return None
    fig, axes = _figure(len(panels))
    for ax, (column, frame) in zip(axes, panels.items(), strict=False):
        low = frame["median"] - frame["lo"]
        high = frame["hi"] - frame["median"]
        _bars(ax, data, frame.index, frame["median"], yerr=[low.to_numpy(), high.to_numpy()])
        ax.set_title(_text(column.label), fontsize=9)
        ax.set_ylabel("seconds per epoch")
    fig.suptitle(_text(f"{workload}: seconds per epoch (median, whiskers min–max)"), fontsize=10)
    alt = f"Bar chart of seconds per epoch for each backend of {workload}"
    return Plot("Seconds per epoch", alt, _png(fig))


#: What a quality plot of each measure says: (y-axis label, plot title).
QUALITY_PLOTS = {
    "val_accuracy": ("validation accuracy", "Accuracy per epoch"),
    "train_loss": ("training loss (lower is better)", "Training loss per epoch"),
}


def quality_plot(data: ReportData, workload: str) -> Plot | None:
    """The workload's quality measure per epoch (validation accuracy, or the training loss of
    a workload judged on it), one line per backend, with the reference band."""
    metric = data.quality(workload)
    panels = {}
    for column in data.columns(workload):
        curves = {b: _curve(data, workload, b, column, metric) for b in data.backends(workload)}
        curves = {b: c for b, c in curves.items() if c is not None}
        if curves:
            panels[column] = curves
    if not panels:
        return None
    band = _applicable_band(data, workload)
    ylabel, title = QUALITY_PLOTS[metric]
    fig, axes = _figure(len(panels))
    for ax, (column, curves) in zip(axes, panels.items(), strict=False):
        for i, (backend, curve) in enumerate(curves.items()):
            # Backends often agree to the digit: distinct hollow markers keep overlaps visible.
            ax.plot(
                curve.index,
                curve.values,
                "--" if data.is_reference(backend) else "-",
                color=colour(backend),
                marker=MARKERS[i % len(MARKERS)],
                fillstyle="none",
                label=_text(row_label(backend, data.engine(backend))),
            )
        if band:
            ax.axhspan(
                band["low"], band["high"], color="#999999", alpha=0.2, label="reference band"
            )
        ax.set_title(_text(column.label), fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
    fig.suptitle(_text(f"{workload}: {ylabel} per epoch (median of repeats)"), fontsize=10)
    alt = f"Line chart of {ylabel} against epoch for each backend of {workload}"
    return Plot(title, alt, _png(fig))


def relative_plot(data: ReportData, workload: str, baseline: str) -> Plot | None:
    stats = stats_by_column(data, workload, "epoch_time")
    panels = {}
    for column, frame in stats.items():
        medians = frame["median"].dropna()
        if baseline in medians.index:
            panels[column] = medians / medians[baseline]
    if not panels:
        return None
    fig, axes = _figure(len(panels))
    for ax, (column, ratios) in zip(axes, panels.items(), strict=False):
        _bars(ax, data, ratios.index, ratios, labels=[formats.ratio(r) for r in ratios])
        ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
        ax.set_title(_text(column.label), fontsize=9)
        ax.set_ylabel(_text(f"time relative to {baseline}"))
    fig.suptitle(
        _text(f"{workload}: time per epoch relative to {baseline} (dashed: 1.0x)"), fontsize=10
    )
    alt = f"Bar chart of each backend's time per epoch relative to {baseline} for {workload}"
    return Plot(f"Relative to {baseline}", alt, _png(fig))


def _applicable_band(data: ReportData, workload: str) -> dict | None:
    """The reference band, if every run of the workload used the default number of epochs."""
    info = data.workload_info(workload)
    epochs = (info.get("default") or {}).get("epochs")
    ran = data.cells[(data.cells["workload"] == workload) & (data.cells["status"] == "ok")]
    if not info.get("reference") or ran["quick"].any() or (ran["epochs"] != epochs).any():
        return None
    return info["reference"]


def _curve(
    data: ReportData, workload: str, backend: str, column: Column, metric: str
) -> pd.Series | None:
    rows = []
    for result in data.group(workload, backend, column):
        if result.status != "ok" or not result.accuracy_meaningful:
            continue
        for record in result.epochs:
            if metric == "train_loss":
                value = record.loss
            else:
                value = record.val_accuracy if record.val_accuracy is not None else record.accuracy
            if value is not None:
                rows.append((record.epoch + 1, value))
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["epoch", "value"])
    return frame.groupby("epoch")["value"].median()


def _bars(ax, data: ReportData, backends, heights, yerr=None, labels=None) -> None:
    names = list(backends)
    positions = range(len(names))
    colours = [colour(b) for b in names]
    hatches = ["//" if data.is_reference(b) else "" for b in names]
    bars = ax.bar(
        positions,
        list(heights),
        color=colours,
        yerr=yerr,
        capsize=3,
        edgecolor="#333333",
        linewidth=0.5,
    )
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    if labels is None:
        labels = [formats.seconds(h) for h in heights]
    ax.bar_label(bars, labels=labels, fontsize=7, padding=2)
    ax.set_xticks(list(positions))
    ax.set_xticklabels(
        [_text(_short(row_label(b, data.engine(b)))) for b in names],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    if len(heights) and max(heights) / max(min(heights), 1e-12) > 30:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_plain_formatter())
    ax.margins(y=0.15)


def _figure(panels: int):
    from matplotlib.figure import Figure

    cols = min(panels, MAX_PANELS_PER_ROW)
    rows = math.ceil(panels / cols)
    width = max(PANEL_WIDTH * cols + 0.4, MIN_WIDTH)
    fig = Figure(figsize=(width, HEIGHT * rows + 0.5), dpi=DPI)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(labelsize=8)
    return fig, axes


def _plain_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:g}")


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _text(text: str) -> str:
    """Text that matplotlib draws as itself (``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hashed(name: str) -> str:
    return EXTRA[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(EXTRA)]


def _lighter(hex_colour: str, amount: float = 0.45) -> str:
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02x}" for c in mixed)
