"""Efficiency: the throughput table also says how many FLOP/s a backend achieves, and on CPU
what share of the machine's measured float32 matmul peak that is.

Achieved GFLOP/s = samples/s x training FLOPs per sample / 1e9, where the worker counts FLOPs
per sample from the model definition (`benchbench.flops`) and the runner measures the peak
once per run with NumPy (`benchbench.environment.gemm_gflops`). Both are medians over repeats.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from benchbench.report import formats
from benchbench.report.data import ReportData
from benchbench.report.flags import split_marks
from benchbench.report.tables import Table, stats_by_column

TITLE = "Throughput (samples/s · GFLOP/s · share of matmul peak)"


def annotate(data: ReportData, workload: str, table: Table) -> Table:
    """`table` (throughput) with GFLOP/s and peak shares added to its cells, where known."""
    gflops = stats_by_column(data, workload, "gflops")
    shares = stats_by_column(data, workload, "peak_share")
    frame = table.frame.copy()
    changed = False
    for column in data.columns(workload):
        rates = gflops.get(column, pd.DataFrame())
        for backend, cell in frame[column.label].items():
            rate = _median(rates, backend)
            if cell.kind != "value" or rate is None:
                continue
            extra = f" · {formats.rate(rate)} GFLOP/s"
            share = _median(shares.get(column, pd.DataFrame()), backend)
            if share is not None:
                extra += f" ({percent(share)})"
            text, marks = split_marks(cell.text)
            frame.at[backend, column.label] = dataclasses.replace(cell, text=text + extra + marks)
            changed = True
    if not changed:
        return table
    caption = " ".join(filter(None, [table.caption, caption_text(data, workload)]))
    return dataclasses.replace(table, title=TITLE, caption=caption, frame=frame)


def caption_text(data: ReportData, workload: str) -> str:
    cells = data.cells[data.cells["workload"] == workload]
    flops = cells["flops_per_sample"].dropna()
    peaks = cells.dropna(subset=["gemm_gflops"]).groupby("machine")["gemm_gflops"].median()
    text = (
        "Training samples per second in the steady state (median over repeats) · achieved "
        "GFLOP/s = samples/s × training FLOPs per sample / 1e9"
    )
    if not flops.empty:
        text += f", with {flops.median() / 1e6:.3g} MFLOP per sample counted from the model"
        text += " (forward + gradients of weights and inputs; benchbench.flops)"
    text += "."
    if not peaks.empty:
        machines = ", ".join(f"{m} {formats.rate(v)} GFLOP/s" for m, v in peaks.items())
        text += (
            " On CPU, in brackets: the share of the machine's float32 matmul peak, measured "
            f"with NumPy at the start of the run ({machines}); one large matmul is an upper "
            "bound that a training step, with its small and elementwise ops, does not reach."
        )
    return text


def percent(share: float) -> str:
    value = 100 * share
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def _median(stats: pd.DataFrame, backend: str) -> float | None:
    if stats.empty or backend not in stats.index or not stats.at[backend, "n_ok"]:
        return None
    value = stats.at[backend, "median"]
    return None if pd.isna(value) else float(value)
