"""The runner: runs the planned cells of each machine, each in a fresh worker process.

The parent imports no framework. Each cell is a `CellSpec` handed to ``python -m
benchbench.worker`` as a JSON file on the cell's machine (`executors.cell.CellRunner`); the
worker writes its outcome to a file, and the runner owns the rest: a per-cell timeout that
kills the worker's whole process group, crash capture (exit status, signal, the tail of
stderr), bounded draining of the worker's output, Ctrl-C, and the results directory::

    <out>/<machine>/<run-id>/manifest.json     plan, argv, environment, per-cell status
    <out>/<machine>/<run-id>/<cell-id>.json    one `CellResult` per cell, written atomically

An executor (`benchbench.executors`) decides where a cell's process starts: on this machine
(`Runner`), or on the machines of a Dask cluster, where every machine gets its own run
directory under one run id, and results stream back to this process as cells end
(`run_machines`). One cell at a time runs on each machine.

Statuses: 'ok'; 'failed' and 'timeout' (these make the exit code 1); 'unavailable' (the
backend cannot run here, e.g. CNTK: known from its probe before any worker starts, so it reads
'unavailable' for every workload) and 'skipped' (the device or the dataset is missing) are
recorded with their reason and are not failures. Planning (order, seeds, the time budget of
repeats) is `benchbench.planner`'s; a cell's interference is measured by its worker
(`benchbench.interference`).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import re
import signal
import socket
from pathlib import Path

from benchbench import environment, planner
from benchbench.errors import BenchbenchError
from benchbench.executors import Finished
from benchbench.executors.cell import CellRunner, cell_result, now
from benchbench.executors.local import LocalExecutor
from benchbench.progress import ProgressView
from benchbench.results import (
    MANIFEST,
    CellResult,
    CellSpec,
    RunManifest,
    finished_cells,
    read_manifest,
    write_manifest,
    write_result,
)

FAILED = ("failed", "timeout")
#: Manifest state of a planned cell that the time budget left out (`planner.RepeatBudget`).
DROPPED = "dropped"


# -- run directories -----------------------------------------------------------------------------


def machine_name(name: str | None = None) -> str:
    raw = name or socket.gethostname() or "machine"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)


def new_run_dir(out: Path, machine: str) -> Path:
    return new_run_dirs(out, [machine])[machine]


def new_run_dirs(out: Path, machines: list[str]) -> dict[str, Path]:
    """A new run directory for each machine, all with one run id (a time stamp)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        run_id = stamp if n == 1 else f"{stamp}-{n}"
        paths = {m: Path(out) / m / run_id for m in machines}
        made = []
        try:
            for path in paths.values():
                path.mkdir(parents=True)
                made.append(path)
            return paths
        except FileExistsError:
            for path in made:
                path.rmdir()
    raise BenchbenchError(f"cannot create a new run directory under {out}")


def find_run_dir(out: Path, machine: str) -> Path:
    """The run to resume: `out` itself if it holds a manifest, else the latest run of `machine`
    under `out`. Raises `BenchbenchError` if there is none."""
    out = Path(out)
    if (out / "manifest.json").is_file():
        return out
    runs = sorted(p.parent for p in (out / machine).glob("*/manifest.json"))
    if not runs:
        raise BenchbenchError(
            f"--resume: no run to resume in {out} (no manifest.json there, nor under "
            f"{out / machine}/*/); pass --out RUN_DIR, or run without --resume first"
        )
    return runs[-1]


def find_cluster_run(out: Path) -> tuple[str, dict[str, Path]]:
    """The cluster run to resume: (run id, machine -> run directory).

    `out` is a results root (its latest cluster run is taken) or one machine's directory of
    the run (``<out>/<machine>/<run-id>``). Raises `BenchbenchError` if there is none."""
    out = Path(out)
    if (out / MANIFEST).is_file():
        run_id, root = out.name, out.parent.parent
        candidates = [p.parent for p in root.glob(f"*/{run_id}/{MANIFEST}")]
    else:
        candidates = [p.parent for p in out.glob(f"*/*/{MANIFEST}")]
    runs: dict[str, dict[str, Path]] = {}
    for run_dir in candidates:
        try:
            manifest = read_manifest(run_dir)
        except (OSError, ValueError, TypeError):
            continue
        if manifest.options.get("cluster"):
            runs.setdefault(manifest.run_id, {})[manifest.machine] = run_dir
    if not runs:
        raise BenchbenchError(
            f"--resume --cluster: no cluster run to resume in {out} (expected "
            f"{out}/<machine>/<run-id>/manifest.json written by run --cluster); pass "
            "--out RESULTS or --out RESULTS/<machine>/<run-id>"
        )
    run_id = max(runs)
    return run_id, dict(sorted(runs[run_id].items()))


# -- a run on each machine ----------------------------------------------------------------------


class MachineRun:
    """One machine's run directory while its cells run: what is left to do (the plan less the
    cells with a final result), the time budget of its repeats, its manifest and progress.

    Args:
        run_dir: where the machine's results and manifest go.
        manifest: the machine's manifest (new, or read back for ``--resume``).
        view: the machine's live progress (`ProgressView`'s calls).
        budget: seconds within which repeats after the first must end
            (`planner.RepeatBudget`; None: run every planned cell).
    """

    def __init__(self, run_dir: Path, manifest: RunManifest, view, budget: float | None = None):
        self.run_dir, self.manifest, self.view = Path(run_dir), manifest, view
        self.specs = manifest.specs()
        self.budget = planner.RepeatBudget(budget, self.specs)
        self.done = finished_cells(self.run_dir)
        self.todo = collections.deque(s for s in self.specs if s.cell_id not in self.done)
        self.position = len(self.specs) - len(self.todo)
        self.current: CellSpec | None = None
        self.lost = ""

    @property
    def machine(self) -> str:
        return self.manifest.machine

    def next_cell(self) -> CellSpec | None:
        """The next cell to run (now 'running'), skipping those the time budget leaves out."""
        while self.todo and not self.lost:
            spec = self.todo.popleft()
            if not self.budget.allows(spec, self.done):
                self.set_status(spec.cell_id, DROPPED)
                self.view.total -= 1
                continue
            self.current, self.position = spec, self.position + 1
            self.view.start(self.position, spec, len(self.todo))
            self.set_status(spec.cell_id, "running")
            return spec
        return None

    def record(self, finished: Finished) -> None:
        """Writes a finished cell's result; a lost machine's cell is recorded as failed, and
        the machine gets no more cells in this invocation."""
        result = finished.result
        if finished.lost:
            self.lost = finished.lost
            result = cell_result(
                finished.spec,
                "failed",
                finished.lost,
                machine=self.machine,
                run_id=self.manifest.run_id,
                host=self.manifest.environment,
                finished_at=now(),
                machine_lost=True,
            )
        write_result(self.run_dir, result)
        self.set_status(result.spec.cell_id, result.status)
        self.done[result.spec.cell_id] = result
        self.current = None
        self.view.finish(result, finished.ran)

    def set_status(self, cell_id: str, status: str, **changes) -> None:
        cells = {**self.manifest.cells, cell_id: status}
        self.manifest = dataclasses.replace(self.manifest, cells=cells, **changes)
        write_manifest(self.run_dir, self.manifest)

    def close(self, interrupted: bool) -> None:
        """The invocation ends (`interrupted`: by Ctrl-C): a cell still running was
        interrupted, and so was the machine's run if cells were left to do."""
        cells = dict(self.manifest.cells)
        if self.current is not None:
            cells[self.current.cell_id] = "interrupted"
        stopped = interrupted and (self.current is not None or bool(self.todo))
        self.manifest = dataclasses.replace(
            self.manifest, cells=cells, finished_at=now(), interrupted=stopped
        )
        write_manifest(self.run_dir, self.manifest)

    def mark_interrupted(self) -> None:
        """Records that Ctrl-C stopped this invocation after its cells (e.g. in the report)."""
        self.manifest = dataclasses.replace(self.manifest, interrupted=True, finished_at=now())
        write_manifest(self.run_dir, self.manifest)

    def results(self) -> list[CellResult]:
        """Every cell with a result, in plan order."""
        return [self.done[s.cell_id] for s in self.specs if s.cell_id in self.done]

    def missing(self) -> int:
        """Planned cells that ``--resume`` would run (a lost machine's cell among them)."""
        return sum(
            1
            for s in self.specs
            if s.cell_id not in self.done or self.done[s.cell_id].machine_lost
        )


def run_machines(runs: dict[str, MachineRun], executor) -> bool:
    """Runs every machine's cells through `executor` (see `benchbench.executors`), one cell
    at a time per machine, until no machine has a cell left it can run; returns whether
    Ctrl-C stopped it. Every manifest is up to date whatever happens."""
    interrupted = False
    previous_handler = None

    def progress(machine: str, state: dict) -> None:
        runs[machine].view.update(state)

    try:
        while True:
            for name, run in runs.items():
                if run.current is None and executor.ready(name):
                    spec = run.next_cell()
                    if spec is not None:
                        executor.submit(name, spec)
            if all(run.current is None for run in runs.values()):
                break
            for finished in executor.wait(progress):
                runs[finished.machine].record(finished)
    except KeyboardInterrupt:
        interrupted = True  # a second Ctrl-C must not cut the manifest writes short
        previous_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        executor.cancel()
    finally:
        for run in runs.values():
            run.close(interrupted)
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
    return interrupted


class Runner:
    """Runs a plan into a run directory on this machine, one worker per cell.

    Args:
        run_dir: where results and the manifest go.
        manifest: the run's manifest (new, or read back for ``--resume``).
        pythons: backend -> interpreter for its workers (default: this one).
        view: the live progress display.
        budget: seconds within which repeats after the first must end (`planner.RepeatBudget`;
            None: run every planned cell).
    """

    def __init__(
        self,
        run_dir: Path,
        manifest: RunManifest,
        pythons: dict[str, str],
        view: ProgressView | None = None,
        budget: float | None = None,
    ):
        self.view = view or ProgressView(len(manifest.plan))
        self.machine_run = MachineRun(run_dir, manifest, self.view, budget)
        self.cells = CellRunner(manifest.machine, manifest.run_id, manifest.environment, pythons)

    @property
    def budget(self) -> planner.RepeatBudget:
        return self.machine_run.budget

    @property
    def manifest(self) -> RunManifest:
        return self.machine_run.manifest

    def mark_interrupted(self) -> None:
        self.machine_run.mark_interrupted()

    def run(self) -> tuple[list[CellResult], bool]:
        """Runs every cell without a final result; returns all results and whether Ctrl-C
        stopped the run. The manifest is up to date whatever happens."""
        run = self.machine_run
        interrupted = run_machines({run.machine: run}, LocalExecutor(self.cells))
        return run.results(), interrupted


def new_manifest(
    specs: list[CellSpec],
    machine: str,
    run_dir: Path,
    argv: list[str],
    options: dict,
    host: dict | None = None,
) -> RunManifest:
    """A new run's manifest; `host`: the machine's facts (default: this machine's, measured
    now with the run's threads)."""
    if host is None:
        host = environment.host_facts(threads=specs[0].threads if specs else None)
    return RunManifest(
        run_id=run_dir.name,
        machine=machine,
        argv=list(argv),
        plan=[s.to_dict() for s in specs],
        environment=host,
        cells={s.cell_id: "pending" for s in specs},
        started_at=now(),
        options=options,
    )


def exit_code(results: list[CellResult], interrupted: bool) -> int:
    if interrupted:
        return 130
    return 1 if any(r.status in FAILED for r in results) else 0
