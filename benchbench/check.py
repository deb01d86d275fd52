"""Baseline against current results: the decisions behind ``benchbench check``.

For every (workload, backend, device) present in both sets and every checked metric, the
medians of the repeats are compared. A change is a **regression** when it is both

1. worse than the metric's threshold, in the metric's direction (time, memory and loss: lower
   is better; throughput and accuracy: higher is better; see `benchbench.results.METRICS`),
   and
2. significant given the repeats: a one-sided Mann-Whitney U test (as asv uses) of the
   current repeats against the baseline repeats gives p <= alpha (default 0.05).

With a single repeat on either side, or too few repeats for the test ever to reach alpha (2
against 2 cannot), the threshold alone decides and the comparison says so. An improvement is
the mirror image. A change beyond the threshold that is not significant is 'unclear': listed,
not a failure. A change in a timing metric (epoch, step and first-epoch time, throughput) of a
cell that was **noisy** on either side (other processes used its CPUs while it trained; see
`benchbench.interference`) is 'unclear (noisy)', never a regression: the change may be the
neighbours'. Accuracy and memory are judged as usual. A cell whose repeats all failed or timed
out in the current results, after running in the baseline, is a failure too.

Missing data is an error, not a pass: a cell that ran in the baseline and is missing from the
current results, or did not run there (skipped, unavailable, interrupted), and a result file
that cannot be read on either side make ``check`` exit 2 (a data error) unless it is told
``allow_missing`` (``--allow-missing``), which lists them and goes on.

Default thresholds (identical code varies 2.5-3% between runs on shared CI machines)::

    epoch_time        10%   steady-state seconds per epoch
    throughput        10%   training samples per second
    val_accuracy      1pt   final validation accuracy, in percentage points
    train_loss        2%    final training loss, lower is better
    peak_host_memory  10%
    peak_gpu_memory   10%   (where both sides recorded it)
    step_time         off   (says what epoch_time says; e.g. step_time=10% turns it on)
    first_epoch_time  off   (includes compilation, noisy; e.g. first_epoch_time=50%)

A workload is judged on one quality measure (`benchbench.measures.QUALITY_METRICS`): its final
validation accuracy, or, for a workload such as Keras's text generation, its final training
loss. Only that one is compared for it.

Override them with threshold specs such as ``time=15%``, ``accuracy=2pt`` or
``mnist_cnn:time=20%``; their syntax and precedence are in `benchbench.thresholds`.

Nothing here imports a framework; scipy (the ``check`` extra) is imported only when a
significance test is needed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

from benchbench.comparability import (
    TIMING_METRICS,
    environment_difference,
    noise_note,
    settings_difference,
    unstable_note,
)
from benchbench.errors import BenchbenchError
from benchbench.results import DEFAULT_QUALITY, METRICS, QUALITY_METRICS, CellResult, median
from benchbench.thresholds import ALIASES, DEFAULT_THRESHOLDS, Rule, Threshold, Thresholds

__all__ = [
    "ALIASES",
    "DEFAULT_ALPHA",
    "DEFAULT_THRESHOLDS",
    "CheckResult",
    "CellNote",
    "Comparison",
    "Rule",
    "Threshold",
    "Thresholds",
    "compare",
    "compare_metric",
    "one_sided_p",
]

Key = tuple[str, str, str]

DEFAULT_ALPHA = 0.05
#: Results whose repeats all ended so, in the current set only, make the check fail.
BROKEN_STATUSES = ("failed", "timeout")
#: Cell notes that mean the current results lack data the baseline has.
MISSING_KINDS = ("missing", "not run")


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
    noise: str = ""  # why a change is unclear (noisy): which side's repeats were noisy

    @property
    def label(self) -> str:
        """The verdict as printed: 'regression', 'unclear (noisy)', ..."""
        return (
            f"{self.verdict} (noisy)" if self.verdict == "unclear" and self.noise else self.verdict
        )

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
        noise = f"; not judged, noisy: {self.noise}" if self.noise else ""
        return f"{self.metric} {change} (threshold {self.threshold}; {evidence}{noise})"


@dataclasses.dataclass(frozen=True)
class CellNote:
    """A cell that could not be compared: 'new', 'missing', 'failed' or 'not run'."""

    key: Key
    kind: str
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The comparisons, the cells that could not be compared, and the files that could not be
    read (``unreadable``: 'side: message' strings).

    Exit code: 2 when data is missing or unreadable (unless ``allow_missing``), else 1 on a
    regression or a cell that now fails, else 0.
    """

    comparisons: tuple[Comparison, ...]
    notes: tuple[CellNote, ...]
    warnings: tuple[str, ...]
    environment_differs: bool
    alpha: float
    unreadable: tuple[str, ...] = ()
    allow_missing: bool = False

    def with_verdict(self, verdict: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == verdict]

    def notes_of(self, kind: str) -> list[CellNote]:
        return [n for n in self.notes if n.kind == kind]

    @property
    def passed(self) -> bool:
        return not self.with_verdict("regression") and not self.notes_of("failed")

    @property
    def missing_data(self) -> bool:
        """A baseline cell missing or not run in the current results, or an unreadable file."""
        return bool(self.unreadable) or any(n.kind in MISSING_KINDS for n in self.notes)

    @property
    def exit_code(self) -> int:
        if self.missing_data and not self.allow_missing:
            return 2
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
    noise: str = "",
) -> Comparison:
    """Compares one metric's repeats; see the module docstring for the rule.

    `noise` says which side was noisy ('' if neither): a timing metric's change is then
    'unclear (noisy)'.
    """
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
    noise = noise if metric in TIMING_METRICS and (worse or better) else ""
    if worse or better:
        verdict = "regression" if worse else "improvement"
        verdict = verdict if significant and not noise else "unclear"
    else:
        verdict = "ok"
    return Comparison(
        key,
        metric,
        tuple(baseline),
        tuple(current),
        threshold,
        change,
        p_value,
        test,
        verdict,
        noise,
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
    unreadable: Sequence[str] = (),
    allow_missing: bool = False,
) -> CheckResult:
    """Compares every (workload, backend, device, metric) present in both result sets.

    Args:
        unreadable: result files that could not be read, as 'side: message' (a data error).
        allow_missing: missing and unreadable data is listed, not an error.

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
        noise = noise_note(base[key], cur[key])
        quality = _quality_metric(base[key] + cur[key])
        for metric, threshold in thresholds.for_workload(key[0]).items():
            if metric in QUALITY_METRICS and metric != quality:
                continue  # another workload's measure of quality
            b, c = metric_values(base[key], metric), metric_values(cur[key], metric)
            if b and c:
                comparisons.append(compare_metric(key, metric, b, c, threshold, alpha, noise))
    warnings, env_differs = _warnings(base, cur, common, thresholds)
    return CheckResult(
        tuple(comparisons),
        tuple(notes),
        tuple(warnings),
        env_differs,
        alpha,
        tuple(unreadable),
        allow_missing,
    )


def _quality_metric(results: Sequence[CellResult]) -> str:
    """The measure a cell's workload is judged on, from its results (the current side wins)."""
    for result in reversed(results):
        if result.workload_info:
            return result.quality_metric
    return DEFAULT_QUALITY


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
        unstable = unstable_note(base[key], cur[key])
        if unstable:
            warnings.append(
                f"{'/'.join(key)}: epoch times unstable (coefficient of variation over 10%) in "
                f"{unstable}: its timing changes may be noise"
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
