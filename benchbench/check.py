"""Baseline against current results: the decisions behind ``benchbench check``.

For every (workload, backend, device) present in both sets and every checked metric, the
medians of the repeats are compared. A change is a **regression** when it is both

1. worse than the metric's threshold, in the metric's direction (time and memory: lower is
   better; throughput and accuracy: higher is better; see `benchbench.results.METRICS`), and
2. significant given the repeats: a one-sided Mann-Whitney U test (as asv uses) of the
   current repeats against the baseline repeats gives p <= alpha (default 0.05).

With a single repeat on either side, or too few repeats for the test ever to reach alpha (2
against 2 cannot), the threshold alone decides and the comparison says so. An improvement is
the mirror image. A change beyond the threshold that is not significant is 'unclear': listed,
not a failure. A cell whose repeats all failed or timed out in the current results, after
running in the baseline, is a failure too.

Default thresholds (identical code varies 2.5-3% between runs on shared CI machines)::

    epoch_time        10%   steady-state seconds per epoch
    throughput        10%   training samples per second
    val_accuracy      1pt   final validation accuracy, in percentage points
    peak_host_memory  10%
    peak_gpu_memory   10%   (where both sides recorded it)
    step_time         off   (says what epoch_time says; e.g. step_time=10% turns it on)
    first_epoch_time  off   (includes compilation, noisy; e.g. first_epoch_time=50%)

A threshold spec is ``METRIC=VALUE`` or, for one workload, ``WORKLOAD:METRIC=VALUE``; VALUE is
``N%`` (relative to the baseline median), ``Npt`` (absolute, in percentage points: accuracy
only) or ``off``. Later specs win; a workload's specs win over global ones. ``METRIC`` may be
an alias: ``time`` (epoch_time, step_time, first_epoch_time), ``accuracy`` (val_accuracy) or
``memory`` (both memory metrics). An alias changes the metrics of its group that are on; a
metric's own name also turns it on.

Nothing here imports a framework; scipy (the ``check`` extra) is imported only when a
significance test is needed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence

from benchbench.errors import BenchbenchError, UnknownNameError
from benchbench.results import METRICS, CellResult, median

Key = tuple[str, str, str]

DEFAULT_ALPHA = 0.05
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("epoch_time", "step_time", "first_epoch_time"),
    "accuracy": ("val_accuracy",),
    "memory": ("peak_host_memory", "peak_gpu_memory"),
}
#: Results whose repeats all ended so, in the current set only, make the check fail.
BROKEN_STATUSES = ("failed", "timeout")
#: Spec fields that must match for a comparison to mean anything.
SETTINGS = ("quick", "epochs", "batch_size", "synthetic", "threads")


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


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One metric of one cell, baseline against current."""

    key: Key
    metric: str
    baseline: tuple[float, ...]
    current: tuple[float, ...]
    threshold: Threshold
    change: float
    p_value: float | None
    test: str
    verdict: str  # "regression", "improvement", "unclear" or "ok"

    @property
    def baseline_median(self) -> float:
        return median(list(self.baseline))

    @property
    def current_median(self) -> float:
        return median(list(self.current))

    @property
    def reason(self) -> str:
        """Why the verdict, in one line."""
        change = format_change(self.change, self.threshold.unit)
        evidence = self.test if self.p_value is None else f"p={self.p_value:.3g}, {self.test}"
        return f"{self.metric} {change} (threshold {self.threshold}; {evidence})"


@dataclasses.dataclass(frozen=True)
class CellNote:
    """A cell that could not be compared: 'new', 'missing', 'failed' or 'not run'."""

    key: Key
    kind: str
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class CheckResult:
    comparisons: tuple[Comparison, ...]
    notes: tuple[CellNote, ...]
    warnings: tuple[str, ...]
    environment_differs: bool
    alpha: float

    def with_verdict(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    def notes_of(self, kind: str) -> list[CellNote]:
        return [n for n in self.notes if n.kind == kind]

    @property
    def passed(self) -> bool:
        return not self.with_verdict("regression") and not self.notes_of("failed")

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def format_change(change: float, unit: str) -> str:
    if unit == "pt":
        return f"{change:+.2f} pt"
    return f"{change:+.1f}%" if math.isfinite(change) else f"{'+' if change > 0 else '-'}inf%"


# -- significance --------------------------------------------------------------------------------


def one_sided_p(baseline: Sequence[float], current: Sequence[float], greater: bool) -> float:
    """Mann-Whitney U p-value that `current` is stochastically greater (or less) than baseline.

    Raises:
        BenchbenchError: scipy is not installed (it comes with the ``check`` extra).
    """
    try:
        from scipy import stats
    except ImportError as exc:
        raise BenchbenchError(
            "the significance test needs scipy; install it with: pip install 'benchbench[check]'"
        ) from exc
    if len(set(baseline) | set(current)) == 1:
        return 1.0
    result = stats.mannwhitneyu(current, baseline, alternative="greater" if greater else "less")
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


def smallest_p(n_baseline: int, n_current: int) -> float:
    """The smallest one-sided p-value that Mann-Whitney U can give for these sample sizes."""
    return 1.0 / math.comb(n_baseline + n_current, n_baseline)


def compare_metric(
    key: Key,
    metric: str,
    baseline: Sequence[float],
    current: Sequence[float],
    threshold: Threshold,
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """Compares one metric's repeats; see the module docstring for the rule."""
    base_med, cur_med = median(list(baseline)), median(list(current))
    change = threshold.change(base_med, cur_med)
    lower_is_better = not METRICS[metric].higher_is_better
    worse = change > threshold.value if lower_is_better else change < -threshold.value
    better = change < -threshold.value if lower_is_better else change > threshold.value
    n_b, n_c = len(baseline), len(current)
    p_value = None
    if min(n_b, n_c) == 1:
        test = "single repeat: threshold only"
    elif smallest_p(n_b, n_c) > alpha:
        test = f"{n_b} vs {n_c} repeats cannot reach p<={alpha:g}: threshold only"
    else:
        test = f"Mann-Whitney U, {n_b} vs {n_c}"
        p_value = one_sided_p(baseline, current, greater=cur_med >= base_med)
    significant = p_value is None or p_value <= alpha
    if worse or better:
        verdict = ("regression" if worse else "improvement") if significant else "unclear"
    else:
        verdict = "ok"
    return Comparison(
        key, metric, tuple(baseline), tuple(current), threshold, change, p_value, test, verdict
    )


# -- cells ---------------------------------------------------------------------------------------


def by_key(results: Iterable[CellResult]) -> dict[Key, list[CellResult]]:
    cells: dict[Key, list[CellResult]] = {}
    for result in results:
        cells.setdefault(result.spec.key, []).append(result)
    return {key: sorted(rs, key=lambda r: r.spec.repeat) for key, rs in sorted(cells.items())}


def metric_values(results: Sequence[CellResult], metric: str) -> list[float]:
    values = (METRICS[metric].value(r) for r in results)
    return [v for v in values if v is not None]


def _statuses(results: Sequence[CellResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def _cell_note(key: Key, base: list[CellResult], cur: list[CellResult]) -> CellNote | None:
    base_ok = any(r.status == "ok" for r in base)
    if not base_ok or any(r.status == "ok" for r in cur):
        return None
    reason = next((r.reason for r in cur if r.reason), "")
    detail = _statuses(cur) + (f": {reason.splitlines()[0]}" if reason else "")
    broken = all(r.status in BROKEN_STATUSES for r in cur)
    return CellNote(key, "failed" if broken else "not run", detail)


def compare(
    baseline: Sequence[CellResult],
    current: Sequence[CellResult],
    thresholds: Thresholds | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> CheckResult:
    """Compares every (workload, backend, device, metric) present in both result sets.

    Raises:
        BenchbenchError: either set is empty, or they have no cell in common.
    """
    thresholds = thresholds or Thresholds()
    if not 0 < alpha < 1:
        raise BenchbenchError(f"alpha must be between 0 and 1, got {alpha}")
    base, cur = by_key(baseline), by_key(current)
    for name, cells in (("baseline", base), ("current", cur)):
        if not cells:
            raise BenchbenchError(
                f"the {name} results hold no benchmark cells; point check at "
                "a directory written by 'benchbench run --out DIR'"
            )
    common = [key for key in base if key in cur]
    if not common:
        raise BenchbenchError(
            f"baseline and current have no (workload, backend, device) in "
            f"common: baseline has {_keys(base)}; current has {_keys(cur)}"
        )
    notes = [CellNote(k, "new") for k in cur if k not in base]
    notes += [CellNote(k, "missing") for k in base if k not in cur]
    comparisons = []
    for key in common:
        note = _cell_note(key, base[key], cur[key])
        if note:
            notes.append(note)
        for metric, threshold in thresholds.for_workload(key[0]).items():
            b, c = metric_values(base[key], metric), metric_values(cur[key], metric)
            if b and c:
                comparisons.append(compare_metric(key, metric, b, c, threshold, alpha))
    warnings, env_differs = _warnings(base, cur, common, thresholds)
    return CheckResult(tuple(comparisons), tuple(notes), tuple(warnings), env_differs, alpha)


def _keys(cells: dict[Key, list]) -> str:
    shown = ", ".join("/".join(k) for k in list(cells)[:4])
    return shown + (f" and {len(cells) - 4} more" if len(cells) > 4 else "")


# -- warnings ------------------------------------------------------------------------------------


def _warnings(
    base: dict, cur: dict, common: list[Key], thresholds: Thresholds
) -> tuple[list[str], bool]:
    warnings = []
    env = environment_difference(
        [r for k in common for r in base[k]], [r for k in common for r in cur[k]]
    )
    if env:
        warnings.append(env)
    for key in common:
        differs = settings_difference(base[key][0], cur[key][0])
        if differs:
            warnings.append(
                f"{'/'.join(key)} ran with different settings ({differs}): "
                "its numbers may not be comparable"
            )
        partial = [r for r in cur[key] if r.status in BROKEN_STATUSES]
        if partial and len(partial) < len(cur[key]):
            warnings.append(
                f"{'/'.join(key)}: {len(partial)} of {len(cur[key])} current "
                "repeats failed; compared the rest"
            )
    compared = {k[0] for k in common}
    for workload in sorted(thresholds.workloads - compared):
        warnings.append(f"a --threshold names workload {workload!r}, which no compared cell has")
    return warnings, env is not None


def environment_difference(
    baseline: Sequence[CellResult], current: Sequence[CellResult]
) -> str | None:
    """A warning if the two sides ran in different environments (by fingerprint), else None."""
    prints = [
        {r.environment.get("fingerprint") for r in side} - {None} for side in (baseline, current)
    ]
    if prints[0] == prints[1]:
        return None
    if not prints[0] or not prints[1]:
        which = "baseline" if not prints[0] else "current"
        return (
            f"the {which} results carry no environment fingerprint: cannot tell whether "
            "both ran in the same environment"
        )
    envs = (baseline[0].environment, current[0].environment)
    keys = sorted(
        k
        for k in set(envs[0]) | set(envs[1])
        if k != "fingerprint" and envs[0].get(k) != envs[1].get(k)
    )
    shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
    detail = f" (differing: {shown})" if keys else ""
    return (
        f"environment fingerprints differ: baseline {_short(prints[0])}, current "
        f"{_short(prints[1])}{detail}; differences may come from the environment, not "
        "the code"
    )


def _short(fingerprints: set) -> str:
    return ", ".join(sorted(str(f)[:12] for f in fingerprints))


def settings_difference(baseline: CellResult, current: CellResult) -> str:
    a, b = baseline.spec, current.spec
    return ", ".join(
        f"{name} {getattr(a, name)} -> {getattr(b, name)}"
        for name in SETTINGS
        if getattr(a, name) != getattr(b, name)
    )
