"""A cluster machine's side of a Dask run: the worker benchbench starts, and the tasks it runs.

``python -m benchbench worker SCHEDULER [--machine NAME]`` (`serve`) starts a Dask worker set
up for benchmarking:

- **one thread**, and the resource ``cell=1`` that every cell asks for: one cell at a time on
  the machine, whoever submits it;
- **named after the machine** (``--machine``, default the host name): its results go under
  ``results/<name>/<run-id>/`` and it is the machine's column in the report;
- its **devices advertised as resources**: ``cpu=1``, and ``gpu=N`` where it sees N GPUs
  (``CUDA_VISIBLE_DEVICES`` if set, else ``nvidia-smi``);
- **no nanny** (the worker is the command's own process, so a cell's environment starts from
  the one the command was started with) and no memory limit (the worker holds no data; each
  cell is a process of its own, which dies with the worker);
- **quiet** while a cell runs (`QUIET`): Dask's sampling profiler, which would sample the
  thread waiting for the cell every 10 ms, is off, and its event-loop tick and system monitor
  run every 1 s and 2 s instead of every 20 ms and 0.5 s: the worker's own CPU time is spent on
  the machine the cell measures.

The same worker from Dask's own command line (README, "Run on a cluster")::

    DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False \\
    DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s \\
    DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL=2s \\
    dask worker SCHEDULER --name NAME --nthreads 1 --no-nanny --memory-limit 0 \\
        --resources "cell=1 cpu=1"

Under a nanny (plain ``dask worker``) the worker process gets ``OMP_NUM_THREADS=1`` and the
other variables of Dask's ``distributed.nanny.pre-spawn-environ``; a cell starts from the
environment less those (`base_environment`) and then gets exactly the variables a local run
sets (`isolation.worker_env`), and its worker pins its own CPUs.

The tasks the head submits (the scheduler and the worker import them from here):
`machine_facts`, before anything runs (benchbench's version and commit, the machine's facts);
`run_cell`, one cell through `executors.cell.CellRunner`, with the worker's progress sent to
the head as Dask events on topic `PROGRESS_TOPIC`, and the cell's process killed when the head
cancels the task or the worker is stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time

from benchbench import environment
from benchbench.errors import BenchbenchError
from benchbench.executors.cell import CellRunner
from benchbench.results import CellSpec

#: The resource each cell asks for; a benchbench worker has one of it.
CELL = "cell"
#: Dask event topic of the workers' progress.
PROGRESS_TOPIC = "benchbench-progress"
#: Seconds between two progress events of a cell.
PROGRESS_INTERVAL = 0.5
#: Task states in which a running cell must stop (the head cancelled it, or let it go).
STOPPED_STATES = ("cancelled", "released", "forgotten")
#: Dask settings of a benchmarking worker: as little of its own work as possible beside a cell.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}

_stopping = threading.Event()
_runners: dict[tuple[str, str], CellRunner] = {}


class CellStopped(Exception):
    """The cell's task was cancelled, or its worker is stopping: its process is killed."""


# -- the worker ----------------------------------------------------------------------------------


def visible_gpus() -> int:
    """GPUs a cell on this machine may use: those ``CUDA_VISIBLE_DEVICES`` names where it is
    set, else those ``nvidia-smi`` lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [part.strip() for part in visible.split(",") if part.strip()]
        return 0 if not ids or ids[0].startswith("-") else len(ids)
    return len(environment.gpus())


def worker_resources() -> dict[str, float]:
    """One cell at a time, and the devices: ``{"cell": 1, "cpu": 1[, "gpu": N]}``."""
    resources = {CELL: 1.0, "cpu": 1.0}
    gpus = visible_gpus()
    if gpus:
        resources["gpu"] = float(gpus)
    return resources


def dask_command(scheduler: str, machine: str, resources: dict[str, float]) -> str:
    """The ``dask worker`` command line that starts the same worker as `serve`."""
    listed = " ".join(f"{k}={v:g}" for k, v in resources.items())
    settings = " ".join(
        f"DASK_{key.upper().replace('.', '__').replace('-', '_')}={value}"
        for key, value in QUIET.items()
    )
    return (
        f"{settings} dask worker {scheduler} --name {machine} --nthreads 1 --no-nanny "
        f'--memory-limit 0 --resources "{listed}"'
    )


def serve(scheduler: str, machine: str, host: str | None = None, timeout: float = 30.0) -> int:
    """Runs a benchmarking Dask worker until SIGINT or SIGTERM, or until its scheduler goes.

    Raises:
        BenchbenchError: the scheduler cannot be reached within `timeout` seconds, or it
            refused the worker (another worker already has this machine's name).
    """
    import dask
    from distributed import Worker

    dask.config.set(QUIET)
    resources = worker_resources()
    devices = ", ".join(k if v == 1 else f"{k}×{v:g}" for k, v in resources.items() if k != CELL)

    async def main() -> None:
        worker = Worker(
            scheduler,
            name=machine,
            nthreads=1,
            resources=resources,
            host=host,
            dashboard=False,
            memory_limit=0,
            death_timeout=timeout,
        )
        try:
            await worker
        except (OSError, TimeoutError, RuntimeError) as exc:
            await worker.close(reason="could not start")
            raise BenchbenchError(refused(scheduler, machine, timeout, exc)) from exc
        print(
            f"benchbench worker {machine!r} ({devices}) at {worker.address}, serving cells for "
            f"{scheduler}, one at a time; Ctrl-C stops it\n"
            f"  the same from Dask: {dask_command(scheduler, machine, resources)}",
            flush=True,
        )
        if not await until_stopped(worker):
            raise BenchbenchError(
                f"the Dask scheduler at {scheduler} went away; the worker of {machine!r} stopped"
            )

    asyncio.run(main())
    return 0


def refused(scheduler: str, machine: str, timeout: float, exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    if "name taken" in str(cause):
        return (
            f"the scheduler at {scheduler} already has a worker named {machine!r}; give this "
            "one another --machine NAME (one worker per machine, or per GPU)"
        )
    return (
        f"cannot join the Dask scheduler at {scheduler!r} within {timeout:g} s "
        f"({str(cause) or type(cause).__name__}); "
        "start it first (dask scheduler) and pass its address, e.g. tcp://HEAD:8786"
    )


async def until_stopped(worker) -> bool:
    """Waits for SIGINT/SIGTERM (then stops the running cell and the worker: True) or the
    worker's own end (its scheduler went away: False)."""
    loop = asyncio.get_running_loop()
    signalled = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signalled.set)
    waiters = [asyncio.ensure_future(signalled.wait()), asyncio.ensure_future(worker.finished())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if signalled.is_set():
        _stopping.set()  # the running cell's poll kills its process group
        print(f"benchbench worker {worker.name!r}: stopping", file=sys.stderr, flush=True)
        await worker.close(reason="benchbench worker stopped by a signal", executor_wait=False)
    for waiter in waiters:
        waiter.cancel()
    return signalled.is_set()


# -- what runs in its tasks ----------------------------------------------------------------------


def base_environment() -> dict[str, str]:
    """This process's environment less what a Dask nanny added to it: a variable of Dask's
    ``distributed.nanny.pre-spawn-environ`` or ``distributed.nanny.environ`` that holds
    exactly Dask's value, and Dask's ``__DASK_PARENT_PID``, in a worker started by a nanny.
    Without a nanny: all of it."""
    from distributed import get_worker

    env = dict(os.environ)
    if not get_worker().nanny:
        return env
    import dask

    env.pop("__DASK_PARENT_PID", None)
    for key in ("distributed.nanny.pre-spawn-environ", "distributed.nanny.environ"):
        added = dask.config.get(key, default=None) or {}
        for name, value in added.items():
            if env.get(name) == str(value):
                del env[name]
    return env


def machine_facts(threads: int | None, measure: bool, files: tuple[str, ...] = ()) -> dict:
    """Task: what the head checks and records before anything runs on this machine.

    Returns:
        ``identity`` (`environment.code_identity`), ``files`` (each of the run's workload
        `files` -> `environment.file_digest` here), ``cpus`` (allowed here), ``threads``
        (`threads`, else ``cpus``) and, with `measure`, ``host`` (`environment.host_facts`,
        whose matmul probe uses those threads).
    """
    cpus = len(environment.allowed_cpus())
    threads = threads or cpus
    return {
        "identity": environment.code_identity(),
        "files": {path: environment.file_digest(path) for path in files},
        "cpus": cpus,
        "threads": threads,
        "host": environment.host_facts(threads=threads) if measure else {},
    }


def run_cell(machine: str, run_id: str, host: dict, spec: dict) -> dict:
    """Task: runs one cell on this machine, as a local run would.

    Returns:
        ``{"result": CellResult.to_dict(), "ran": bool}``, or ``{"stopped": why}`` when the
        task was cancelled or the worker is stopping (the cell's process was killed).
    """
    from distributed import get_worker
    from distributed.worker import thread_state

    worker, key = get_worker(), thread_state.key
    cells = _cell_runner(machine, run_id, host)
    cell = CellSpec.from_dict(spec)
    try:
        result, ran = cells.run(cell, on_poll=_watcher(worker, key, run_id, machine))
    except CellStopped as exc:
        return {"stopped": str(exc)}
    return {"result": result.to_dict(), "ran": ran}


def _cell_runner(machine: str, run_id: str, host: dict) -> CellRunner:
    """The run's `CellRunner` on this worker, kept between its cells (it remembers which
    backends, devices and datasets are missing here)."""
    if (machine, run_id) not in _runners:
        _runners.clear()
        _runners[(machine, run_id)] = CellRunner(
            machine, run_id, host, base_env=base_environment(), die_with_parent=True
        )
    return _runners[(machine, run_id)]


def _watcher(worker, key, run_id: str, machine: str):
    """The cell's poll: stops it when its task is no longer wanted, and sends its progress."""
    last = 0.0

    def on_poll(state: dict) -> None:
        nonlocal last
        if _stopping.is_set():
            raise CellStopped(f"the worker of machine {machine!r} was stopped")
        task = worker.state.tasks.get(key)
        if task is None or task.state in STOPPED_STATES:
            raise CellStopped("the head cancelled the cell")
        if state and time.monotonic() - last >= PROGRESS_INTERVAL:
            last = time.monotonic()
            worker.log_event(PROGRESS_TOPIC, {"run": run_id, "machine": machine, "state": state})

    return on_poll
