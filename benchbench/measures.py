"""Measures (the results' metrics): what reports show and `check` compares, read from a cell's
result, with their direction (lower or higher is better); and the two order statistics every
summary uses. (`benchbench.metrics` is Keras's namespace of model metrics.)

A workload is judged on one *quality* measure (`QUALITY_METRICS`), which its ``quality`` names
(`benchbench.workloads.Workload`): the final validation accuracy (higher is better), or, for a
workload judged on how well it fits its training data (Keras's text generation), the final
training loss (lower is better). Its published band applies to that measure.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchbench.results import CellResult


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    higher_is_better: bool

    def value(self, result: CellResult) -> float | None:
        t, m = result.timing, result.memory
        if result.status != "ok":
            return None
        getters = {
            "epoch_time": lambda: t and t.epoch_time,
            "first_epoch_time": lambda: t and t.first_epoch_time,
            "step_time": lambda: t and t.step_time_median,
            "throughput": lambda: t and t.throughput,
            "val_accuracy": lambda: result.final_val_accuracy,
            "train_loss": lambda: result.final_train_loss,
            "peak_host_memory": lambda: m and m.peak_host_bytes,
            "peak_gpu_memory": lambda: m and m.peak_gpu_bytes,
        }
        value = getters[self.name]()
        return None if value is None else float(value)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("epoch_time", "s/epoch (steady state)", "s", False),
        Metric("first_epoch_time", "first epoch (incl. compile)", "s", False),
        Metric("step_time", "median step", "s", False),
        Metric("throughput", "throughput", "samples/s", True),
        Metric("val_accuracy", "final validation accuracy", "", True),
        Metric("train_loss", "final training loss", "nats", False),
        Metric("peak_host_memory", "peak host memory", "bytes", False),
        Metric("peak_gpu_memory", "peak GPU memory", "bytes", False),
    )
}


#: Measures a workload can be judged on (``Workload.quality``); the first is the default.
QUALITY_METRICS = ("val_accuracy", "train_loss")
DEFAULT_QUALITY = QUALITY_METRICS[0]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, as numpy's default."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)
