"""``benchbench check BASELINE CURRENT``: is the current run worse than the baseline?"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

HELP = "compare results against a baseline; exit 1 on a regression, 2 on missing data"

EPILOG = """\
A change is a regression when it is beyond its metric's threshold in the metric's bad direction
(time, memory, loss: up; throughput, accuracy: down) and significant: one-sided Mann-Whitney U over
the repeats, p <= --alpha. With a single repeat the threshold alone decides, and the output
says so. A timing change in a cell that was noisy on either side (other processes used more
than 10% of its CPUs while it trained) is "unclear (noisy)": listed, never a regression.

default thresholds:
  epoch_time=10%  throughput=10%  val_accuracy=1pt  peak_host_memory=10%  peak_gpu_memory=10%
  train_loss=2% (only for a workload judged on its training loss, such as lstm_text_generation)
  step_time=off  first_epoch_time=off (compile-dominated and noisy; try first_epoch_time=50%)

threshold specs (repeatable; later ones win, a workload's win over global ones):
  --threshold time=15%             aliases: time (timings, throughput), accuracy, loss, memory
  --threshold accuracy=2pt         pt: percentage points (accuracy only)
  --threshold mnist_cnn:time=20%   one workload
  --threshold step_time=10%        a metric's own name turns it on; =off turns it off

exit status:
  0  no regression
  1  a regression, or a cell that ran in the baseline now fails
  2  usage or data error: among others, a cell of the baseline is missing from the current
     results or did not run there, or a result file cannot be read (--allow-missing lists
     these and decides on the rest)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("baseline", type=Path, help="baseline results: a directory or a file")
    parser.add_argument("current", type=Path, help="current results: a directory or a file")
    parser.add_argument(
        "--threshold",
        "-t",
        action="append",
        default=[],
        metavar="SPEC",
        help="[WORKLOAD:]METRIC=N%%|Npt|off (repeatable; see below)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=None,
        metavar="P",
        help="significance level of the Mann-Whitney U test (default 0.05)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) if the environment fingerprints differ",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="list baseline cells missing (or not run) in the current results and unreadable "
        "files instead of exiting 2",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="also write a Markdown summary (for a PR comment or job summary)",
    )


def run(args: argparse.Namespace) -> int:
    from benchbench import check
    from benchbench.errors import BenchbenchError

    thresholds = check.Thresholds.parse(args.threshold)
    (baseline, bad_base), (current, bad_cur) = (
        _load(args.baseline, "baseline"),
        _load(args.current, "current"),
    )
    alpha = check.DEFAULT_ALPHA if args.alpha is None else args.alpha
    result = check.compare(
        baseline, current, thresholds, alpha, bad_base + bad_cur, args.allow_missing
    )
    if args.strict and result.environment_differs:
        raise BenchbenchError(
            f"{result.warnings[0]} (refused because of --strict; run both "
            "in the same environment, or drop --strict)"
        )
    print(format_text(result, args.baseline, args.current))
    if args.markdown:
        _write(args.markdown, format_markdown(result, args.baseline, args.current))
    return result.exit_code


def _load(path: Path, name: str) -> tuple[list, list[str]]:
    """The readable results under `path`, and one 'name: message' per unreadable file."""
    from benchbench import results
    from benchbench.errors import BenchbenchError

    if not path.exists():
        raise BenchbenchError(
            f"no {name} results at {path}: expected a results directory "
            "(written by 'benchbench run --out DIR') or a result file"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", results.ResultsWarning)
        loaded = results.load_results([path])
    unreadable = [f"{name}: {w.message}" for w in caught if w.category is results.ResultsWarning]
    for message in unreadable:
        print(f"benchbench check: unreadable result file, {message}", file=sys.stderr)
    return loaded, unreadable


def _write(path: Path, text: str) -> None:
    from benchbench.errors import BenchbenchError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise BenchbenchError(f"cannot write the Markdown summary to {path}: {exc}") from exc


# -- formatting ----------------------------------------------------------------------------------

COLUMNS = (
    "workload",
    "backend",
    "device",
    "metric",
    "baseline",
    "current",
    "change",
    "p-value",
    "verdict",
)


def format_value(metric: str, value: float) -> str:
    """A metric value with its unit, e.g. '12.3 ms', '97.50%', '512.0 MiB'."""
    from benchbench.results import METRICS

    unit = METRICS[metric].unit
    if unit == "s":
        return f"{value * 1e3:.3g} ms" if abs(value) < 1 else f"{value:.3f} s"
    if unit == "bytes":
        return f"{value / 2**20:.1f} MiB"
    if unit == "samples/s":
        return f"{value:,.1f}/s"
    if unit == "":
        return f"{value * 100:.2f}%"
    return f"{value:.4g} {unit}"


def _p_column(comparison) -> str:
    if comparison.p_value is None:
        return comparison.test
    n = f"{len(comparison.baseline)} vs {len(comparison.current)}"
    return f"{comparison.p_value:.3g} ({n})"


def rows(result) -> list[tuple[str, ...]]:
    from benchbench.check import format_change

    out = []
    for c in result.comparisons:
        verdict = c.label.upper() if c.verdict == "regression" else c.label
        out.append(
            (
                *c.key,
                c.metric,
                format_value(c.metric, c.baseline_median),
                format_value(c.metric, c.current_median),
                format_change(c.change, c.threshold.unit),
                _p_column(c),
                verdict,
            )
        )
    return out


def _table(rows_: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [COLUMNS, *rows_]) for i in range(len(COLUMNS))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [COLUMNS, *rows_]
    ]


def _note_lines(result) -> list[str]:
    data = "" if result.allow_missing else "DATA ERROR: "
    labels = {
        "failed": "FAILED in current",
        "not run": f"{data}not run in current",
        "new": "new in current (not compared)",
        "missing": f"{data}missing from current",
    }
    lines = [f"{data}unreadable result file, {message}" for message in result.unreadable]
    for kind, label in labels.items():
        for note in result.notes_of(kind):
            detail = f" ({note.detail})" if note.detail else ""
            lines.append(f"{label}: {'/'.join(note.key)}{detail}")
    return lines


def summary_line(result) -> str:
    regressions = result.with_verdict("regression")
    failed = result.notes_of("failed")
    noisy = sum(c.verdict == "unclear" and bool(c.noise) for c in result.comparisons)
    counts = (
        f"{len(result.comparisons)} comparisons, "
        f"{len(result.with_verdict('improvement'))} improved, "
        f"{len(result.with_verdict('unclear'))} unclear"
        + (f" ({noisy} noisy)" if noisy else "")
        + f", alpha {result.alpha:g}"
    )
    missing = [n for n in result.notes if n.kind in ("missing", "not run")]
    lost = len(missing) + len(result.unreadable)
    if result.missing_data and not result.allow_missing:
        what = []
        if missing:
            what.append(f"{len(missing)} baseline cell{'s' * (len(missing) != 1)} missing")
        if result.unreadable:
            n = len(result.unreadable)
            what.append(f"{n} unreadable result file{'s' * (n != 1)}")
        verdict = "regressions found too" if not result.passed else "the rest passes"
        return (
            f"DATA ERROR: {', '.join(what)} ({verdict}; {counts}); "
            "--allow-missing to judge without them"
        )
    if result.passed:
        allowed = f"; {lost} missing or unreadable, allowed" if lost else ""
        return f"PASS: no regression ({counts}{allowed})"
    problems = []
    if regressions:
        cells = {c.key for c in regressions}
        problems.append(
            f"{len(regressions)} regression{'s' * (len(regressions) != 1)} in "
            f"{len(cells)} cell{'s' * (len(cells) != 1)}"
        )
    if failed:
        problems.append(f"{len(failed)} cell{'s' * (len(failed) != 1)} now failing")
    return f"FAIL: {', '.join(problems)} ({counts})"


def format_text(result, baseline: Path, current: Path) -> str:
    """The terminal report: every compared metric, then notes, reasons and the verdict."""
    lines = [f"baseline: {baseline}", f"current:  {current}", ""]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += [""] * bool(result.warnings) + _table(rows(result)) + [""]
    notes = _note_lines(result)
    lines += notes + [""] * bool(notes)
    for verdict in ("regression", "improvement"):
        found = result.with_verdict(verdict)
        if found:
            lines.append(f"{verdict}s:")
            lines += [f"  {'/'.join(c.key)}: {c.reason}" for c in found]
    noisy = [c for c in result.with_verdict("unclear") if c.noise]
    if noisy:
        lines.append("unclear (noisy): changes measured while other processes used the CPUs:")
        lines += [f"  {'/'.join(c.key)}: {c.reason}" for c in noisy]
    lines.append(summary_line(result))
    return "\n".join(lines)


def format_markdown(result, baseline: Path, current: Path) -> str:
    """A Markdown summary: verdict first, then the table, notes and warnings."""
    mark = ":white_check_mark:" if result.exit_code == 0 else ":x:"
    lines = [
        f"### benchbench check {mark} {summary_line(result)}",
        "",
        f"Baseline `{baseline}`, current `{current}`.",
        "",
    ]
    lines += [f"> **Warning:** {w}" for w in result.warnings]
    lines += [""] * bool(result.warnings)
    table = rows(result)
    if table:
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        for row in table:
            cells = [f"**{cell}**" if cell == "REGRESSION" else cell for cell in row]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    lines += [f"- {line}" for line in _note_lines(result)]
    for c in result.with_verdict("regression"):
        lines.append(f"- **regression** {'/'.join(c.key)}: {c.reason}")
    return "\n".join(lines).rstrip() + "\n"
