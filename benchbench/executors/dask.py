"""The head's side of a Dask cluster run: connect, find the machines, check them, run cells.

The head (``run --cluster``) plans the cells and writes every result; each machine is a Dask
worker started by ``python -m benchbench worker`` (`executors.dask_worker`), and runs its
cells there, one at a time, each in a fresh process. `DaskExecutor` keeps at most one cell
per machine in flight, pinned to the machine's worker (``workers=[address]``,
``allow_other_workers=False``, ``resources={"cell": 1}``, ``pure=False``: identical cells are
never merged), and notices a machine whose worker leaves the cluster while its cell runs: that
cell is lost (recorded as failed, with the reason; ``--resume`` runs it again) and the
machine gets no more cells in this invocation, while the others go on.

Distributed is imported only here and in `executors.dask_worker`, only for a cluster run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import time
import uuid
from collections.abc import Callable

from benchbench import environment
from benchbench.errors import BenchbenchError
from benchbench.executors import Finished
from benchbench.executors import dask_worker as remote
from benchbench.results import CellResult, CellSpec

#: Seconds `DaskExecutor.wait` waits before returning (with or without finished cells).
POLL = 0.2
#: Seconds between two checks that the running cells' workers are still there.
LIVENESS_INTERVAL = 1.0
#: Seconds to fetch a finished cell's result from its worker.
RESULT_TIMEOUT = 60.0
#: Seconds for `machine_facts` on every machine (it measures the machine's matmul peak).
FACTS_TIMEOUT = 300.0


@dataclasses.dataclass(frozen=True)
class Machine:
    """A benchbench worker connected to the scheduler."""

    name: str
    address: str
    resources: dict
    nthreads: int

    def devices(self) -> str:
        return ", ".join(
            k if v == 1 else f"{k}×{v:g}" for k, v in self.resources.items() if k != remote.CELL
        )


def require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise BenchbenchError(
            "--cluster needs Dask distributed, which is not installed; install the extra: "
            "pip install 'benchbench[cluster]'"
        ) from exc


def connect(address: str, timeout: float):
    """A `distributed.Client` of the scheduler at `address`.

    Raises:
        BenchbenchError: distributed is missing, or the scheduler cannot be reached within
            `timeout` seconds (the message names the address tried).
    """
    require_distributed()
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BenchbenchError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s ({exc}); "
            "start one with `dask scheduler` (see README, 'Run on a cluster') and pass its "
            "address, e.g. --cluster tcp://HEAD:8786"
        ) from exc


def connected_machines(client) -> dict[str, Machine]:
    """Name -> machine for every benchbench worker (one with the ``cell`` resource)."""
    workers = client.scheduler_info()["workers"]
    found = {}
    for address, info in workers.items():
        resources = info.get("resources") or {}
        if remote.CELL in resources:
            name = str(info.get("name", address))
            found[name] = Machine(name, address, dict(resources), int(info.get("nthreads", 1)))
    return dict(sorted(found.items()))


def gather_facts(
    client,
    machines: dict[str, Machine],
    threads: int | None,
    measure: bool,
    files: tuple[str, ...] = (),
) -> dict[str, dict]:
    """`dask_worker.machine_facts` of every machine, run as a cell would be (pinned, one at a
    time on the machine). Raises `BenchbenchError` when a machine cannot answer."""
    futures = {
        name: client.submit(
            remote.machine_facts,
            threads,
            measure,
            tuple(files),
            key=f"benchbench-facts-{name}-{uuid.uuid4().hex[:8]}",
            **placement(machine),
        )
        for name, machine in machines.items()
    }
    facts = {}
    for name, future in futures.items():
        try:
            facts[name] = future.result(timeout=FACTS_TIMEOUT)
        except Exception as exc:
            said = " ".join(str(exc).split())
            raise BenchbenchError(
                f"machine {name!r} did not answer the head ({type(exc).__name__}: {said}); the "
                "scheduler and every worker must import the head's benchbench (start them "
                "from its environment: see README, 'Run on a cluster')"
            ) from exc
    return facts


def check_identity(facts: dict[str, dict]) -> None:
    """Refuses machines whose benchbench is not the head's (another version, commit or
    uncommitted change), or whose copy of a workload file of the run is missing or differs.
    Raises `BenchbenchError` naming each with what differs."""
    head = environment.code_identity()
    wrong = [
        f"{name}: {describe_identity(f['identity'])}"
        for name, f in facts.items()
        if f["identity"] != head
    ]
    if wrong:
        raise BenchbenchError(
            f"refused: the head runs {describe_identity(head)}, but "
            + "; ".join(wrong)
            + ". A cell must run the head's code: update those machines (same version and "
            "commit, no other changes), restart their workers, or leave them out with "
            "--machines"
        )
    files = [
        f"{name}: {path} {'differs' if digest else 'is missing'}"
        for name, f in facts.items()
        for path, digest in f.get("files", {}).items()
        if digest != environment.file_digest(path)
    ]
    if files:
        raise BenchbenchError(
            "refused: a workload file must be at the same path, with the same contents, on "
            "every machine (" + "; ".join(files) + "); copy it there, or leave those "
            "machines out with --machines"
        )


def describe_identity(identity: dict) -> str:
    commit = identity.get("commit") or ""
    text = f"benchbench {identity.get('version')} "
    text += f"at commit {commit[:12]}" if commit else "outside a git checkout"
    if identity.get("changes"):
        text += f" with uncommitted changes {identity['changes']}"
    return text


def placement(machine: Machine) -> dict:
    """Submit options that pin a task to the machine's worker, one cell at a time there."""
    return {
        "workers": [machine.address],
        "allow_other_workers": False,
        "resources": {remote.CELL: 1},
        "pure": False,
    }


class DaskExecutor:
    """Runs cells on the machines of a Dask cluster (see the module docstring).

    Args:
        client: a connected `distributed.Client`.
        machines: name -> machine, those of the run.
        run_id: the run's id (its cells' task keys and progress events carry it).
        hosts: name -> the machine's facts, recorded with its cells.
    """

    def __init__(self, client, machines: dict[str, Machine], run_id: str, hosts: dict):
        self.client, self.machines, self.run_id, self.hosts = client, machines, run_id, hosts
        self.running: dict[str, tuple[object, CellSpec]] = {}
        self.gone: dict[str, str] = {}
        self.progress: queue.SimpleQueue = queue.SimpleQueue()
        self.checked = time.monotonic()
        client.subscribe_topic(remote.PROGRESS_TOPIC, self.progress.put)

    def ready(self, machine: str) -> bool:
        return machine not in self.running and machine not in self.gone

    def submit(self, machine: str, spec: CellSpec) -> None:
        future = self.client.submit(
            remote.run_cell,
            machine,
            self.run_id,
            self.hosts[machine],
            spec.to_dict(),
            key=f"benchbench-{self.run_id}-{machine}-{spec.cell_id}-{uuid.uuid4().hex[:8]}",
            **placement(self.machines[machine]),
        )
        self.running[machine] = (future, spec)

    def wait(self, on_progress: Callable[[str, dict], None]) -> list[Finished]:
        time.sleep(POLL)
        self._progress(on_progress)
        finished = [self._collect(m) for m, (f, _) in list(self.running.items()) if f.done()]
        if time.monotonic() - self.checked >= LIVENESS_INTERVAL:
            finished += self._check_workers()
        return finished

    def cancel(self) -> None:
        """Cancels every running cell: its worker kills the cell's process."""
        futures = [future for future, _ in self.running.values()]
        self.running.clear()
        if futures:
            self.client.cancel(futures)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a client that lost its scheduler may refuse
            self.client.unsubscribe_topic(remote.PROGRESS_TOPIC)

    def _progress(self, on_progress: Callable[[str, dict], None]) -> None:
        latest = {}
        while True:
            try:
                _, message = self.progress.get_nowait()
            except queue.Empty:
                break
            if isinstance(message, dict) and message.get("run") == self.run_id:
                latest[message.get("machine")] = message.get("state") or {}
        for machine, state in latest.items():
            if machine in self.running:
                on_progress(machine, state)

    def _collect(self, machine: str) -> Finished:
        """The end of a machine's cell whose future is done."""
        future, spec = self.running.pop(machine)
        try:
            payload = future.result(timeout=RESULT_TIMEOUT)
        except Exception as exc:  # the task failed, or its result went with its worker
            return self._lost(machine, spec, f"its task failed ({type(exc).__name__}: {exc})")
        if "stopped" in payload:
            return self._lost(machine, spec, payload["stopped"])
        return Finished(machine, spec, CellResult.from_dict(payload["result"]), payload["ran"])

    def _check_workers(self) -> list[Finished]:
        """Cells whose machine's worker is no longer connected."""
        self.checked = time.monotonic()
        try:
            present = set(self.client.scheduler_info()["workers"])
            why = "left the cluster (it died, was stopped or lost its connection)"
        except Exception as exc:  # the scheduler itself is gone: so is every machine
            present = set()
            why = f"could not be reached: the head lost the scheduler ({exc})"
        lost = []
        for name, machine in self.machines.items():
            if machine.address in present or name in self.gone:
                continue
            if name in self.running:
                future, spec = self.running[name]
                if not future.done():
                    self.running.pop(name)
                    future.cancel()
                    lost.append(self._lost(name, spec, f"its Dask worker {machine.address} {why}"))
            self.gone.setdefault(name, f"its Dask worker {machine.address} {why}")
        return lost

    def _lost(self, machine: str, spec: CellSpec, why: str) -> Finished:
        reason = (
            f"machine {machine!r} was lost before the cell ended: {why}; "
            "--resume runs the cell again when the machine is back"
        )
        self.gone.setdefault(machine, why)
        return Finished(machine, spec, lost=reason)
