"""Regression thresholds: how far each metric may move before `benchbench.check` looks closer.

Defaults (identical code varies 2.5-3% between runs on shared CI machines, hence 10%)::

    epoch_time        10%   steady-state seconds per epoch
    throughput        10%   training samples per second
    val_accuracy      1pt   final validation accuracy, in percentage points
    train_loss        2%    final training loss (workloads judged on it)
    peak_host_memory  10%
    peak_gpu_memory   10%   (where both sides recorded it)
    step_time         off   (says what epoch_time says; e.g. step_time=10% turns it on)
    first_epoch_time  off   (includes compilation, noisy; e.g. first_epoch_time=50%)

A spec is ``METRIC=VALUE`` or, for one workload, ``WORKLOAD:METRIC=VALUE``; VALUE is ``N%``
(relative to the baseline median), ``Npt`` (absolute, in percentage points: accuracy only) or
``off``. Later specs win; a workload's specs win over global ones. ``METRIC`` may be an alias:
``time`` (epoch_time, step_time, first_epoch_time and throughput: speed as a whole),
``accuracy`` (val_accuracy), ``loss`` (train_loss) or ``memory`` (both memory metrics).
An alias changes the metrics of its group that are on; a metric's own name also turns it on.
A quality measure (val_accuracy, train_loss) is compared only for the workloads judged on it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable

from benchbench.errors import BenchbenchError, UnknownNameError
from benchbench.results import METRICS

ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("epoch_time", "step_time", "first_epoch_time", "throughput"),
    "accuracy": ("val_accuracy",),
    "loss": ("train_loss",),
    "memory": ("peak_host_memory", "peak_gpu_memory"),
}


@dataclasses.dataclass(frozen=True)
class Threshold:
    """How far a metric may move in its bad direction: ``value`` percent or points."""

    value: float
    unit: str  # "%" (relative to the baseline median) or "pt" (absolute, percentage points)

    def __str__(self) -> str:
        return f"{self.value:g}{self.unit}"

    def change(self, baseline: float, current: float) -> float:
        """The change from baseline to current in this threshold's unit."""
        if self.unit == "pt":
            return (current - baseline) * 100.0
        if baseline == 0:
            return 0.0 if current == 0 else math.copysign(math.inf, current)
        return (current - baseline) / abs(baseline) * 100.0


DEFAULT_THRESHOLDS: dict[str, Threshold | None] = {
    "epoch_time": Threshold(10, "%"),
    "throughput": Threshold(10, "%"),
    "val_accuracy": Threshold(1, "pt"),
    "train_loss": Threshold(2, "%"),
    "peak_host_memory": Threshold(10, "%"),
    "peak_gpu_memory": Threshold(10, "%"),
    "step_time": None,
    "first_epoch_time": None,
}

_SPEC = re.compile(r"^(?:(?P<workload>[^:=\s]+):)?(?P<metric>[A-Za-z_]+)=(?P<value>\S+)$")
_VALUE = re.compile(r"^(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>%|pt)$")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One parsed ``--threshold``: set `target` (a metric or an alias) to `threshold`."""

    target: str
    threshold: Threshold | None
    workload: str | None = None

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """Parses ``[WORKLOAD:]METRIC=N%|Npt|off``.

        Raises:
            BenchbenchError: the spec is malformed or uses ``pt`` for a non-accuracy metric.
            UnknownNameError: the metric is neither a metric nor an alias.
        """
        example = "e.g. time=10%, accuracy=1pt, mnist_cnn:time=15% or first_epoch_time=off"
        match = _SPEC.match(spec.strip())
        if not match:
            raise BenchbenchError(
                f"bad threshold {spec!r}: expected [WORKLOAD:]METRIC=N% or =Npt or =off, {example}"
            )
        target, raw = match["metric"], match["value"]
        if target not in METRICS and target not in ALIASES:
            raise UnknownNameError("metric", target, [*METRICS, *ALIASES])
        if raw == "off":
            return cls(target, None, match["workload"])
        value = _VALUE.match(raw)
        if not value:
            raise BenchbenchError(
                f"bad threshold value {raw!r} in {spec!r}: expected a "
                f"number with % or pt, or off; {example}"
            )
        threshold = Threshold(float(value["number"]), value["unit"])
        if threshold.unit == "pt" and any(METRICS[m].unit for m in _members(target)):
            raise BenchbenchError(
                f"threshold {spec!r}: 'pt' (percentage points) is for "
                f"accuracy; give {target} a relative threshold such as 10%"
            )
        return cls(target, threshold, match["workload"])


def _members(target: str) -> tuple[str, ...]:
    return ALIASES.get(target, (target,))


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The defaults with the user's rules applied in order; see the module docstring."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Thresholds:
        return cls(tuple(Rule.parse(spec) for spec in specs))

    @property
    def workloads(self) -> set[str]:
        return {rule.workload for rule in self.rules if rule.workload}

    def for_workload(self, workload: str) -> dict[str, Threshold]:
        """The metrics checked for `workload`, with their thresholds."""
        table = dict(DEFAULT_THRESHOLDS)
        ordered = [r for r in self.rules if r.workload is None]
        ordered += [r for r in self.rules if r.workload == workload]
        for rule in ordered:
            if rule.target in ALIASES and rule.threshold is not None:
                for name in ALIASES[rule.target]:
                    if table[name] is not None:
                        table[name] = rule.threshold
            else:
                for name in _members(rule.target):
                    table[name] = rule.threshold
        return {name: t for name, t in table.items() if t is not None}
