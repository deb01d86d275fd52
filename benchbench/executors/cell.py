"""One cell on the machine it runs on: a fresh worker process, and the `CellResult` it becomes.

Every executor runs its cells through `CellRunner`, on the cell's own machine (the local one
in this process; a cluster machine inside its Dask worker), so a local and a cluster cell start
the same ``python -m benchbench.worker`` command line with the same environment rules
(`isolation.worker_env`), are timed by the same worker code and recorded in the same fields,
with the machine's own facts.

A cell that cannot run is recorded without a worker where that is known beforehand: its backend
is unavailable (from its cheap probe, so CNTK reads 'unavailable' for every workload), its data
is missing, or an earlier cell of the run found its device, data or lane unusable.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable

from benchbench import environment, registry
from benchbench import workloads as workloads_mod
from benchbench.interference import Interference
from benchbench.isolation import classify, execute, worker_env
from benchbench.results import CellResult, CellSpec, EpochRecord, Memory, Timing


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def cell_environment(host: dict, spec: CellSpec, payload: dict | None) -> dict:
    """The facts recorded with a cell: its machine's, its worker process's, its framework's."""
    payload = payload or {}
    process = payload.get("process", {})
    info = payload.get("backend_info", {})
    merged = {**host, **process, "threads": spec.threads}
    frameworks = {info["engine"]: info.get("version", "")} if info.get("engine") else {}
    merged["frameworks"] = frameworks
    merged["fingerprint"] = environment.fingerprint(merged, frameworks, spec.threads)
    return merged


def cell_result(
    spec: CellSpec, status: str, reason: str, *, machine: str, run_id: str, host: dict, **fields
) -> CellResult:
    """A `CellResult` of `machine`, with the machine's facts unless `fields` has its own."""
    fields.setdefault("environment", cell_environment(host, spec, None))
    return CellResult(
        spec=spec, status=status, machine=machine, run_id=run_id, reason=reason, **fields
    )


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


class CellRunner:
    """Runs the cells of one run on this machine, one worker process per cell.

    Args:
        machine: the machine's label in results.
        run_id: the run's id.
        host: the machine's facts (`environment.host_facts`), recorded with every cell.
        pythons: backend -> interpreter for its workers (default: this one).
        base_env: the environment workers start from, before `isolation.worker_env`'s rules
            (default: this process's).
        die_with_parent: the kernel kills a worker whose starting process dies (cluster
            machines: a cell must not outlive its Dask worker).
    """

    def __init__(
        self,
        machine: str,
        run_id: str,
        host: dict,
        pythons: dict[str, str] | None = None,
        base_env: dict[str, str] | None = None,
        die_with_parent: bool = False,
    ):
        self.machine, self.run_id, self.host = machine, run_id, host
        self.pythons = pythons or {}
        self.base_env, self.die_with_parent = base_env, die_with_parent
        self.known_skips: dict[tuple, tuple[str, str]] = {}
        self.workloads = workloads_mod.discover()

    def result(self, spec: CellSpec, status: str, reason: str, **fields) -> CellResult:
        return cell_result(
            spec,
            status,
            reason,
            machine=self.machine,
            run_id=self.run_id,
            host=self.host,
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

    def run(
        self, spec: CellSpec, on_poll: Callable[[dict], None] | None = None
    ) -> tuple[CellResult, bool]:
        """Runs one cell; returns its result and whether a worker actually ran.

        `on_poll` gets the worker's progress a few times a second; an exception it raises
        kills the worker and propagates (see `isolation.execute`).
        """
        early = self.precheck(spec)
        if early is not None:
            return early, False
        python = self.pythons.get(spec.backend, sys.executable)
        started = now()
        env = worker_env(spec, self.base_env)
        outcome = execute(spec, python, env, on_poll, die_with_parent=self.die_with_parent)
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
