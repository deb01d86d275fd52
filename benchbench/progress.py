"""Live progress of a run, and its summary table. Plain text only (no pandas), stdlib only.

The worker reports where it is through a small JSON file that `ProgressWriter` replaces
atomically (at most twice a second, never inside a timed step); the runner polls it and
`ProgressView` draws one refreshing line on a terminal, or plain lines when output is piped.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

from benchbench.callbacks import Callback


class ProgressWriter(Callback):
    """Worker side: writes ``{"phase", "epoch", "epochs", "step", "steps"}`` to `path`."""

    def __init__(self, path: str | Path | None, interval: float = 0.5):
        self.path = Path(path) if path else None
        self.interval = interval
        self.state = {"phase": "setup", "epoch": 0, "epochs": 0, "step": 0, "steps": 0}
        self._last = 0.0

    def write(self, force: bool = True, **state) -> None:
        self.state.update(state)
        now = time.monotonic()
        if self.path is None or (not force and now - self._last < self.interval):
            return
        self._last = now
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.write_text(json.dumps(self.state))
            os.replace(tmp, self.path)
        except OSError:  # progress is a nicety; never fail a cell over it
            pass

    def on_train_begin(self, logs):
        self.write(phase="train", epochs=logs.get("epochs", 0), steps=logs.get("steps", 0))

    def on_epoch_begin(self, epoch, logs):
        self.write(phase="train", epoch=epoch + 1, step=0)

    def on_train_batch_end(self, batch, logs):
        self.write(force=False, step=batch + 1)

    def on_validation_begin(self, epoch, logs):
        self.write(phase="validation")


def read_progress(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def cell_label(spec) -> str:
    repeat = f" r{spec.repeat}" if spec.repeat else ""
    return f"{spec.backend} × {spec.workload} ({spec.device}{repeat})"


class ProgressView:
    """Runner side: cell n of N, backend, workload, epoch and ETA.

    Args:
        total: cells in the plan (including those already done when resuming).
        stream: where to draw; default stdout.
        live: redraw one line in place; default: whether `stream` is a terminal.
    """

    def __init__(self, total: int, stream: TextIO | None = None, live: bool | None = None):
        self.total = total
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.durations: list[float] = []
        self.index = 0
        self._width = 0

    def start(self, index: int, spec, remaining: int) -> None:
        """Cell `index` (1-based) begins; `remaining` cells are still to run after it."""
        self.index, self.spec, self.remaining = index, spec, remaining
        self.started = time.monotonic()
        if not self.live:
            self._print(f"[{index}/{self.total}] {cell_label(spec)} ...")

    def eta(self) -> str:
        if not self.durations:
            return "?"
        per_cell = sum(self.durations) / len(self.durations)
        elapsed = time.monotonic() - self.started
        return _duration(max(per_cell - elapsed, 0.0) + per_cell * self.remaining)

    def update(self, state: dict) -> None:
        if not self.live:
            return
        where = state.get("phase", "starting")
        if state.get("epochs"):
            where = f"epoch {state.get('epoch', 0)}/{state['epochs']}"
            if state.get("phase") == "validation":
                where += " validating"
            elif state.get("steps"):
                where += f" step {state.get('step', 0)}/{state['steps']}"
        elapsed = _duration(time.monotonic() - self.started)
        line = (
            f"[{self.index}/{self.total}] {cell_label(self.spec)}: {where} "
            f"- {elapsed} - ETA {self.eta()}"
        )[: shutil.get_terminal_size().columns - 1]
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def finish(self, result, ran: bool = True) -> None:
        """The current cell ended with `result` (`ran`: a worker ran, so its time counts)."""
        if ran:
            self.durations.append(time.monotonic() - self.started)
        text = f"[{self.index}/{self.total}] {cell_label(result.spec)}: {outcome(result)}"
        if self.live:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self._print(text)

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


REASON_CHARS = 110


def outcome(result) -> str:
    """One phrase for a cell's result: its speed when ok, its status and reason otherwise."""
    if result.status == "ok" and result.timing:
        t = result.timing
        acc = result.final_val_accuracy
        acc_text = f", val acc {acc:.3f}" if acc is not None else ""
        return (
            f"ok, {t.epoch_time:.3f} s/epoch (first {t.first_epoch_time:.3f} s)"
            f"{acc_text}, {_duration(result.wall_time or 0)} wall"
        )
    reason = result.reason.splitlines()[0] if result.reason else ""
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 3] + "..."
    return f"{result.status}: {reason}" if reason else result.status


def counts(results) -> str:
    """'12 cells: 5 ok, 1 failed, ...' in the order of `STATUSES`."""
    from benchbench.results import STATUSES

    tally = {s: sum(r.status == s for r in results) for s in STATUSES}
    parts = [f"{n} {s}" for s, n in tally.items() if n]
    noun = "cell" if len(results) == 1 else "cells"
    return f"{len(results)} {noun}: {', '.join(parts)}"


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def summary_table(results) -> str:
    """A fixed-width table of cells: speed, accuracy and memory, or the reason it did not run."""
    header = (
        "workload",
        "backend",
        "device",
        "rep",
        "status",
        "s/epoch",
        "1st epoch",
        "step ms",
        "val acc",
        "peak MiB",
        "note",
    )
    rows = []
    for r in results:
        t, m = r.timing, r.memory
        note = (r.reason.splitlines()[0] if r.reason else "")[:60]
        if r.status == "ok" and not r.accuracy_meaningful:
            note = "synthetic data: accuracy not meaningful"
        rows.append(
            (
                r.spec.workload,
                r.spec.backend,
                r.spec.device,
                str(r.spec.repeat),
                r.status,
                _fmt(t and t.epoch_time, ".3f"),
                _fmt(t and t.first_epoch_time, ".3f"),
                _fmt(t and t.step_time_median * 1000, ".2f"),
                _fmt(r.final_val_accuracy, ".4f"),
                _fmt(m and m.peak_host_bytes / 1024**2, ".0f"),
                note,
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
