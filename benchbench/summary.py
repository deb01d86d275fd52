"""The run's terminal summary: one line per finished cell, and a table of the run at the end.

Plain text, stdlib only, at most `WIDTH` (100) columns: the table has one row per workload,
backend and device (repeats pooled: median, and ± bounding every repeat), marks noisy,
unstable and degraded cells (a backend that ran handicapped, e.g. PyTensor with no BLAS), and
lists each reason a cell did not run or ran degraded once, below the table, with the figures
of every noisy repeat.
"""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Sequence

from benchbench.interference import UNSTABLE_CV, percent
from benchbench.results import STATUSES, CellResult

WIDTH = 100
REASON_CHARS = 110


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def flags(result: CellResult) -> list[str]:
    """'noisy: others 48% of 2 CPUs', 'unstable: CV 14%', 'gave up waiting' where they apply."""
    found = []
    measured = result.interference
    if result.noisy and measured is not None:
        cpus = len(measured.cpus)
        found.append(
            f"NOISY: others used {percent(measured.others_cpu)} of {cpus} CPU{'s' * (cpus != 1)}"
        )
    if result.unstable and result.timing and result.timing.epoch_time_cv is not None:
        found.append(f"UNSTABLE: epoch times vary {percent(result.timing.epoch_time_cv)}")
    if result.degraded:
        found.append(f"DEGRADED: {result.degraded.split(':')[0]}")
    if measured is not None and measured.quiet_wait is not None and measured.quiet_wait.gave_up:
        found.append(measured.quiet_wait.describe())
    return found


def outcome(result: CellResult) -> str:
    """One phrase for a cell's result: its speed when ok, its status and reason otherwise."""
    if result.status == "ok" and result.timing:
        t = result.timing
        acc_text = _quality_text(result, ".3f")
        acc_text = f", {acc_text}" if acc_text else ""
        marks = "".join(f"; {flag}" for flag in flags(result))
        return (
            f"ok, {t.epoch_time:.3g} s/epoch (first {t.first_epoch_time:.3g} s)"
            f"{acc_text}, {duration(result.wall_time or 0)} wall{marks}"
        )
    reason = result.reason.splitlines()[0] if result.reason else ""
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 3] + "..."
    return f"{result.status}: {reason}" if reason else result.status


def _quality_text(result: CellResult, spec: str) -> str:
    """'val acc 0.981', or 'loss 1.402' for a workload judged on its training loss."""
    if result.quality_metric == "train_loss":
        loss = result.final_train_loss
        return f"loss {loss:{spec}}" if loss is not None else ""
    acc = result.final_val_accuracy
    return f"val acc {acc:{spec}}" if acc is not None else ""


def counts(results: Sequence[CellResult]) -> str:
    """'12 cells: 5 ok, 1 failed, ...' in the order of `STATUSES`, then the noisy ones."""
    tally = {s: sum(r.status == s for r in results) for s in STATUSES}
    parts = [f"{n} {s}" for s, n in tally.items() if n]
    noisy = sum(r.noisy for r in results)
    if noisy:
        parts.append(f"{noisy} noisy")
    noun = "cell" if len(results) == 1 else "cells"
    return f"{len(results)} {noun}: {', '.join(parts)}"


# -- the table -----------------------------------------------------------------------------------

HEADER = ("workload", "backend", "dev", "reps", "s/epoch", "1st ep", "val acc", "MiB", "notes")
#: The 'val acc' column of a workload judged on its training loss shows 'loss 1.4012'.


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _groups(results: Sequence[CellResult]) -> dict[tuple, list[CellResult]]:
    groups: dict[tuple, list[CellResult]] = {}
    for r in results:
        groups.setdefault(r.spec.key, []).append(r)
    return groups


def _speed(ok: list[CellResult]) -> str:
    times = [r.timing.epoch_time for r in ok if r.timing]
    middle = _median(times)
    if middle is None:
        return "-"
    text = f"{middle:.3g}"
    if len(times) > 1:
        text += f" ±{max(max(times) - middle, middle - min(times)):.2g}"
    return text


def _row(cells: list[CellResult], reasons: dict[str, int]) -> tuple[str, ...]:
    spec = cells[0].spec
    ok = [r for r in cells if r.status == "ok"]
    notes = []
    noisy = [r.spec.repeat for r in ok if r.noisy]
    if noisy:
        notes.append(f"noisy r{','.join(map(str, noisy))}")
    if any(r.unstable for r in ok):
        notes.append("unstable")
    for reason in dict.fromkeys(r.degraded for r in ok if r.degraded):
        text = f"degraded: {reason}"
        reasons.setdefault(text, len(reasons) + 1)
        notes.append(f"degraded [{reasons[text]}]")
    for r in cells:
        if r.status != "ok":
            text = f"{r.status}: {r.reason}".strip().rstrip(":")
            reasons.setdefault(text, len(reasons) + 1)
            notes.append(f"{r.status} [{reasons[text]}]")
    if ok and ok[0].quality_metric == "train_loss":
        losses = [r.final_train_loss for r in ok if r.final_train_loss is not None]
        quality = f"loss {_fmt(_median(losses), '.4f')}" if losses else "-"
    else:
        accuracy = [r.final_val_accuracy for r in ok if r.final_val_accuracy is not None]
        quality = _fmt(_median(accuracy), ".4f")
    memory = [r.memory.peak_host_bytes / 2**20 for r in ok if r.memory]
    return (
        spec.workload,
        spec.backend,
        spec.device,
        f"{len(ok)}/{len(cells)}",
        _speed(ok),
        _fmt(_median([r.timing.first_epoch_time for r in ok if r.timing]), ".3g"),
        quality,
        _fmt(_median(memory), ".0f"),
        ", ".join(dict.fromkeys(notes)),
    )


def summary_table(results: Sequence[CellResult]) -> str:
    """The run as a table at most `WIDTH` columns wide, then its notes (see the module)."""
    reasons: dict[str, int] = {}
    rows = [_row(cells, reasons) for cells in _groups(results).values()]
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER) - 1)]
    room = max(WIDTH - sum(widths) - 2 * (len(widths)), 10)
    lines = []
    for row in [HEADER, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        last = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        lines.append("  ".join([*cells, last]).rstrip())
    lines.insert(1, "-" * min(max(len(line) for line in lines), WIDTH))
    return "\n".join(lines + notes(results, reasons))


def notes(results: Sequence[CellResult], reasons: dict[str, int]) -> list[str]:
    """Each reason once, numbered as in the table; the figures of every noisy repeat."""
    lines: list[str] = []
    for text, number in reasons.items():
        lines += _wrapped(f"[{number}] {text}")
    noisy = [r for r in results if r.noisy and r.interference]
    if noisy:
        lines += _wrapped(
            "noisy: other processes used more than the threshold of the CPUs given to these "
            "cells while they trained (see benchbench.interference); their timings are not "
            "comparable:"
        )
    for r in noisy:
        lines += _wrapped(
            f"  {r.spec.workload} {r.spec.backend} r{r.spec.repeat}: {r.interference.describe()}"
        )
    if any(r.unstable for r in results):
        lines += _wrapped(
            f"unstable: the steady epoch times of a repeat vary by more than "
            f"{UNSTABLE_CV:.0%} of their mean (pyperf's warning level)."
        )
    return ([""] if lines else []) + lines


def _wrapped(text: str) -> list[str]:
    indent = " " * (len(text) - len(text.lstrip()) + 4)
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False)
