"""A tidy CSV: one row per cell (backend x workload x device x repeat x machine).

Identity and settings columns, then status and reason, then one column per metric in
`benchbench.results.METRICS` (seconds, samples/s, bytes, accuracy as a fraction, training
loss), then efficiency: ``flops_per_sample`` (training), ``gemm_gflops`` (the machine's measured
matmul peak), ``gflops`` (achieved) and ``peak_share`` (a fraction, CPU cells only); empty where
a cell has no value.
"""

from __future__ import annotations

from pathlib import Path

from benchbench.report.data import ReportData

INTEGERS = ("peak_host_memory", "peak_gpu_memory", "flops_per_sample")


def write(data: ReportData, out: Path) -> Path:
    frame = data.cells.astype({name: "Int64" for name in INTEGERS})
    frame.to_csv(out, index=False, lineterminator="\n", float_format="%.7g")
    return out
