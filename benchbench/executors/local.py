"""The local executor: every cell on this machine, one after the other, each in a new process."""

from __future__ import annotations

from collections.abc import Callable

from benchbench.executors import Finished
from benchbench.executors.cell import CellRunner
from benchbench.results import CellSpec


class LocalExecutor:
    """Runs the cells of one machine, this one, through `CellRunner` in this process.

    `wait` runs the submitted cell to its end (a few polls a second of its progress go to
    `on_progress`); Ctrl-C there kills the cell's worker and propagates.
    """

    def __init__(self, cells: CellRunner):
        self.cells = cells
        self.pending: CellSpec | None = None

    def ready(self, machine: str) -> bool:
        return machine == self.cells.machine and self.pending is None

    def submit(self, machine: str, spec: CellSpec) -> None:
        self.pending = spec

    def wait(self, on_progress: Callable[[str, dict], None]) -> list[Finished]:
        spec, machine = self.pending, self.cells.machine
        if spec is None:
            return []
        try:
            result, ran = self.cells.run(spec, lambda state: on_progress(machine, state))
        finally:
            self.pending = None
        return [Finished(machine, spec, result, ran)]

    def cancel(self) -> None:
        self.pending = None  # the cell's worker was killed where it was interrupted
