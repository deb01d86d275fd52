"""The runner: plans the cells of a run and runs each in a fresh worker process.

The parent imports no framework. Each cell is a `CellSpec` handed to ``python -m
benchbench.worker`` as a JSON file; the worker writes its outcome to a file, and the runner owns
the rest: a per-cell timeout that kills the worker's whole process group, crash capture (exit
status, signal, the tail of stderr), bounded draining of the worker's output, Ctrl-C, and the
results directory::

    <out>/<machine>/<run-id>/manifest.json     plan, argv, environment, per-cell status
    <out>/<machine>/<run-id>/<cell-id>.json    one `CellResult` per cell, written atomically

Statuses: 'ok'; 'failed' and 'timeout' (these make the exit code 1); 'unavailable' (the
backend cannot run here, e.g. CNTK: known from its probe before any worker starts, so it reads
'unavailable' for every workload) and 'skipped' (the device or the dataset is missing) are
recorded with their reason and are not failures. Planning (order, seeds, the time budget of
repeats) is `benchbench.planner`'s; a cell's interference is measured by its worker
(`benchbench.interference`).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import signal
import socket
import sys
from pathlib import Path

from benchbench import environment, planner, registry
from benchbench import workloads as workloads_mod
from benchbench.errors import BenchbenchError
from benchbench.interference import Interference
from benchbench.isolation import classify, execute, worker_env
from benchbench.progress import ProgressView
from benchbench.results import (
    CellResult,
    CellSpec,
    EpochRecord,
    Memory,
    RunManifest,
    Timing,
    finished_cells,
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


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_run_dir(out: Path, machine: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(out) / machine
    for n in range(1, 1000):
        path = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise BenchbenchError(f"cannot create a new run directory under {base}")


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


# -- one cell ------------------------------------------------------------------------------------


def _records(payload: dict) -> dict:
    timing, memory = payload.get("timing"), payload.get("memory")
    measured = payload.get("interference")
    return {
        "epochs": [EpochRecord.from_dict(e) for e in payload.get("epochs", [])],
        "timing": Timing.from_dict(timing) if timing else None,
        "memory": Memory.from_dict(memory) if memory else None,
        "interference": Interference.from_dict(measured) if measured else None,
        "accuracy_meaningful": payload.get("accuracy_meaningful", True),
        "backend_info": payload.get("backend_info", {}),
        "workload_info": payload.get("workload_info", {}),
    }


def cell_environment(host: dict, spec: CellSpec, payload: dict | None) -> dict:
    payload = payload or {}
    process = payload.get("process", {})
    info = payload.get("backend_info", {})
    merged = {**host, **process, "threads": spec.threads}
    frameworks = {info["engine"]: info.get("version", "")} if info.get("engine") else {}
    merged["frameworks"] = frameworks
    merged["fingerprint"] = environment.fingerprint(merged, frameworks, spec.threads)
    return merged


class Runner:
    """Runs a plan into a run directory, one worker per cell.

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
        self.run_dir = Path(run_dir)
        self.manifest = manifest
        self.pythons = pythons
        self.view = view or ProgressView(len(manifest.plan))
        self.host = manifest.environment
        self.known_skips: dict[tuple, tuple[str, str]] = {}
        self.workloads = workloads_mod.discover()
        self.budget = planner.RepeatBudget(budget, manifest.specs())

    def result(self, spec: CellSpec, status: str, reason: str, **fields) -> CellResult:
        fields.setdefault("environment", cell_environment(self.host, spec, None))
        return CellResult(
            spec=spec,
            status=status,
            machine=self.manifest.machine,
            run_id=self.manifest.run_id,
            reason=reason,
            **fields,
        )

    def skip_keys(self, spec: CellSpec) -> list[tuple]:
        return [
            ("backend", spec.backend),
            ("device", spec.backend, spec.device),
            ("data", spec.workload, spec.synthetic),
            ("lane", spec.backend, spec.workload),
        ]

    def precheck(self, spec: CellSpec) -> CellResult | None:
        """A result for a cell that cannot run: its backend is unavailable (from its probe),
        or that is known from an earlier cell, or its data is missing."""
        self.probe_backend(spec)
        for key in self.skip_keys(spec):
            if key in self.known_skips:
                return self.result(spec, *self.known_skips[key])
        if not spec.synthetic and not spec.workload_file:  # a user's file: its worker checks
            ok, reason = dataset_availability(self.workloads.get(spec.workload))
            if not ok:
                self.known_skips[("data", spec.workload, False)] = ("skipped", reason)
                return self.result(spec, "skipped", reason)
        return None

    def probe_backend(self, spec: CellSpec) -> None:
        """Records an unavailable backend from its cheap probe (no framework is imported), so
        that it reads 'unavailable' for every workload, even one whose data is missing. Lanes
        and backends run under another interpreter (--python) are left to their worker."""
        key = ("backend", spec.backend)
        if key in self.known_skips or spec.backend in self.pythons or ":" in spec.backend:
            return
        try:
            info = registry.probe(spec.backend)
        except Exception:  # an adapter that fails to import: its worker will say how
            return
        if not info.available:
            self.known_skips[key] = ("unavailable", f"{info.reason}. {info.remedy}")

    def run_cell(self, spec: CellSpec) -> tuple[CellResult, bool]:
        """Runs one cell; returns its result and whether a worker actually ran."""
        early = self.precheck(spec)
        if early is not None:
            return early, False
        python = self.pythons.get(spec.backend, sys.executable)
        started = now()
        outcome = execute(spec, python, worker_env(spec), on_poll=self.view.update)
        status, reason = classify(spec, outcome)
        payload = outcome.payload or {}
        scope = payload.get("scope")
        if status in ("unavailable", "skipped") and scope:
            key = next(k for k in self.skip_keys(spec) if k[0] == scope)
            self.known_skips[key] = (status, reason)
        fields = _records(payload) if status == "ok" else {}
        tail = "" if status == "ok" else outcome.stderr_tail
        return self.result(
            spec,
            status,
            reason,
            exit_code=outcome.returncode,
            stderr_tail=tail,
            environment=cell_environment(self.host, spec, payload),
            started_at=started,
            finished_at=now(),
            wall_time=outcome.wall_time,
            **fields,
        ), True

    def record(self, result: CellResult) -> None:
        write_result(self.run_dir, result)
        self.set_status(result.spec.cell_id, result.status)

    def set_status(self, cell_id: str, status: str, **changes) -> None:
        cells = {**self.manifest.cells, cell_id: status}
        self.manifest = dataclasses.replace(self.manifest, cells=cells, **changes)
        write_manifest(self.run_dir, self.manifest)

    def mark_interrupted(self) -> None:
        """Records that Ctrl-C stopped this invocation after its cells (e.g. in the report)."""
        self.manifest = dataclasses.replace(self.manifest, interrupted=True, finished_at=now())
        write_manifest(self.run_dir, self.manifest)

    def run(self) -> tuple[list[CellResult], bool]:
        """Runs every cell without a final result; returns all results and whether Ctrl-C
        stopped the run. The manifest is up to date whatever happens."""
        specs = self.manifest.specs()
        done = finished_cells(self.run_dir)
        todo = [s for s in specs if s.cell_id not in done]
        interrupted = False
        current = previous_handler = None
        position = len(specs) - len(todo)
        try:
            for n, spec in enumerate(todo):
                if not self.budget.allows(spec, done):
                    self.set_status(spec.cell_id, DROPPED)
                    self.view.total -= 1
                    continue
                current, position = spec, position + 1
                self.view.start(position, spec, len(todo) - n - 1)
                self.set_status(spec.cell_id, "running")
                result, ran = self.run_cell(spec)
                self.record(result)
                done[spec.cell_id] = result
                self.view.finish(result, ran)
                current = None
        except KeyboardInterrupt:
            interrupted = True  # a second Ctrl-C must not cut the manifest write short
            previous_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        finally:
            cells = dict(self.manifest.cells)
            if current is not None:
                cells[current.cell_id] = "interrupted"
            self.manifest = dataclasses.replace(
                self.manifest, cells=cells, finished_at=now(), interrupted=interrupted
            )
            write_manifest(self.run_dir, self.manifest)
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
        return [done[s.cell_id] for s in specs if s.cell_id in done], interrupted


def dataset_availability(workload) -> tuple[bool, str]:
    """Whether a workload's data is here, without loading it (never raises)."""
    if workload is None or workload.data is not None:
        return True, ""
    try:
        from benchbench import datasets
    except ImportError:  # the worker will say precisely what is missing
        return True, ""
    try:
        ok, reason = datasets.availability(workload.dataset)
    except Exception as exc:  # availability must not stop a run; the worker will retry
        return True, f"availability check failed: {exc}"
    return bool(ok), "" if ok else reason


def new_manifest(
    specs: list[CellSpec], machine: str, run_dir: Path, argv: list[str], options: dict
) -> RunManifest:
    return RunManifest(
        run_id=run_dir.name,
        machine=machine,
        argv=list(argv),
        plan=[s.to_dict() for s in specs],
        environment=environment.host_facts(threads=specs[0].threads if specs else None),
        cells={s.cell_id: "pending" for s in specs},
        started_at=now(),
        options=options,
    )


def exit_code(results: list[CellResult], interrupted: bool) -> int:
    if interrupted:
        return 130
    return 1 if any(r.status in FAILED for r in results) else 0
