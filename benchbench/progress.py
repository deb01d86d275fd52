"""Live progress of a run. Plain text only (no pandas), stdlib only; the final summary table is
`benchbench.summary`'s.

The worker reports where it is through a small JSON file that `ProgressWriter` replaces
atomically (at most twice a second, never inside a steady-state step); the runner polls it and
`ProgressView` draws one refreshing line on a terminal, or plain lines when output is piped.
Phases: 'importing backend', 'loading data', 'waiting' (``--quiet-wait``), 'compiling' (the
first step of a backend that compiles it: a cold PyTensor cache takes tens of seconds there),
'train', 'validation'.
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
from benchbench.summary import duration, outcome


class ProgressWriter(Callback):
    """Worker side: writes ``{"phase", "epoch", "epochs", "step", "steps"}`` to `path` (and
    ``others_cpu``, ``waited``, ``limit`` while waiting for a quiet machine)."""

    def __init__(self, path: str | Path | None, interval: float = 0.5):
        self.path = Path(path) if path else None
        self.interval = interval
        self.state = {"phase": "setup", "epoch": 0, "epochs": 0, "step": 0, "steps": 0}
        self._last = 0.0
        self._first = False

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
        self._first = True

    def on_epoch_begin(self, epoch, logs):
        self.write(phase="train", epoch=epoch + 1, step=0)

    def on_train_batch_begin(self, batch, logs):
        if self._first and _compiles(getattr(self, "model", None)):
            self.write(phase="compiling")  # the first epoch is timed apart: no steady step here

    def on_train_batch_end(self, batch, logs):
        if self._first:
            self._first = False
            self.write(phase="train", step=batch + 1)
        else:
            self.write(force=False, step=batch + 1)

    def on_validation_begin(self, epoch, logs):
        model = getattr(self, "model", None)
        self.write(phase="validation", compiling=epoch == 0 and _compiles(model))


def _compiles(model) -> bool:
    backend = getattr(model, "backend", None)
    return bool(getattr(getattr(backend, "capabilities", None), "compiled_step", False))


def read_progress(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def describe_state(state: dict) -> str:
    """Where a worker is, from its progress file: 'epoch 3/200 step 12/40', 'compiling'..."""
    phase = state.get("phase", "starting")
    if phase == "waiting":
        others = state.get("others_cpu")
        busy = f": others use {100 * others:.0f}% of its CPUs" if others is not None else ""
        limit = state.get("limit")
        waited = f" ({state.get('waited', 0):.0f}s of {limit:g}s)" if limit else ""
        return f"waiting for a quiet machine{busy}{waited}"
    if not state.get("epochs"):
        return phase
    where = f"epoch {state.get('epoch', 0)}/{state['epochs']}"
    if phase == "compiling":
        return where + " compiling the train step"
    if phase == "validation":
        return where + (" compiling validation" if state.get("compiling") else " validating")
    if state.get("steps"):
        where += f" step {state.get('step', 0)}/{state['steps']}"
    return where


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

    #: Put before the cell count: a cluster machine's name (see `MachineProgress`).
    tag = ""

    def __init__(self, total: int, stream: TextIO | None = None, live: bool | None = None):
        self.total = total
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.durations: list[float] = []
        self.index = 0
        self._width = 0

    def counter(self) -> str:
        return f"[{self.tag}{self.index}/{self.total}]"

    def start(self, index: int, spec, remaining: int) -> None:
        """Cell `index` (1-based) begins; `remaining` cells are still to run after it."""
        self.index, self.spec, self.remaining = index, spec, remaining
        self.started = time.monotonic()
        if not self.live:
            self._print(f"{self.counter()} {cell_label(spec)} ...")
        else:
            self._show(f"{self.counter()} {cell_label(spec)}: starting")

    def eta(self) -> str:
        if not self.durations:
            return "?"
        per_cell = sum(self.durations) / len(self.durations)
        elapsed = time.monotonic() - self.started
        return duration(max(per_cell - elapsed, 0.0) + per_cell * self.remaining)

    def update(self, state: dict) -> None:
        if not self.live:
            return
        where = describe_state(state)
        elapsed = duration(time.monotonic() - self.started)
        self._show(
            f"{self.counter()} {cell_label(self.spec)}: {where} - {elapsed} - ETA {self.eta()}"
        )

    def finish(self, result, ran: bool = True) -> None:
        """The current cell ended with `result` (`ran`: a worker ran, so its time counts)."""
        if ran:
            self.durations.append(time.monotonic() - self.started)
        text = f"{self.counter()} {cell_label(result.spec)}: {outcome(result)}"
        if self.live:
            self._clear()
        self._print(text)

    def _show(self, line: str) -> None:
        """Draws the live line in place."""
        line = line[: shutil.get_terminal_size().columns - 1]
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r" + " " * self._width + "\r")
        self._width = 0

    def _print(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class ClusterProgress:
    """Live progress of a run on several machines: one line per machine.

    On a terminal the machines' lines are a block redrawn in place, and each finished cell is
    printed above it; otherwise every cell prints a line when it starts and when it ends,
    tagged with its machine (``[a 3/12] torch × digits_mlp (cpu): ok, ...``).

    Args:
        totals: machine -> cells in its plan.
        stream: where to draw; default stdout.
        live: redraw the block in place; default: whether `stream` is a terminal.
    """

    def __init__(
        self, totals: dict[str, int], stream: TextIO | None = None, live: bool | None = None
    ):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.lines = {machine: f"{machine}: waiting" for machine in totals}
        self.views = {m: MachineProgress(self, m, n) for m, n in totals.items()}
        self._drawn = 0

    def view(self, machine: str) -> MachineProgress:
        return self.views[machine]

    def set_line(self, machine: str, text: str) -> None:
        self.lines[machine] = text
        if self.live:
            self._erase()
            self._draw()

    def print(self, text: str) -> None:
        """A line that stays, above the live block."""
        if self.live:
            self._erase()
        self.stream.write(text + "\n")
        if self.live:
            self._draw()
        self.stream.flush()

    def close(self) -> None:
        """Removes the live block (the run's summary follows)."""
        if self.live:
            self._erase()
            self.stream.flush()

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")  # up N lines, clear below
            self._drawn = 0

    def _draw(self) -> None:
        width = shutil.get_terminal_size().columns - 1
        for line in self.lines.values():
            self.stream.write(line[:width] + "\n")
        self._drawn = len(self.lines)
        self.stream.flush()


class MachineProgress(ProgressView):
    """One machine's progress within a `ClusterProgress` (the runner's view of the machine)."""

    def __init__(self, board: ClusterProgress, machine: str, total: int):
        super().__init__(total, stream=board.stream, live=board.live)
        self.board, self.machine = board, machine
        self.tag = f"{machine} "

    def finish(self, result, ran: bool = True) -> None:
        if getattr(result, "machine_lost", False):
            line = f"{self.machine}: lost, {result.reason}"
        else:
            line = f"{self.machine}: {self.index}/{self.total} done"
        self.board.lines[self.machine] = line  # drawn with the finished cell's line
        super().finish(result, ran)

    def _show(self, line: str) -> None:
        self.board.set_line(self.machine, line)

    def _clear(self) -> None:
        pass  # the board redraws the machine's line

    def _print(self, text: str) -> None:
        self.board.print(text)
