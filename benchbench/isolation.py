"""Process isolation for one cell: a fresh worker process, its output, its timeout, its end.

`execute` starts ``python -m benchbench.worker`` (or another interpreter) in a new session with
the spec as a JSON file, drains its stdout and stderr on threads into bounded buffers, polls
its progress file, kills its whole process group on timeout or Ctrl-C, and returns what it left:
exit status, result payload, output tails. Nothing here imports a framework.

The worker's environment follows one set of rules wherever it starts (`worker_env`): on a
cluster machine it starts from the environment its Dask worker was launched with, less what
Dask's nanny adds (`benchbench.executors.dask_worker`), and then gets exactly the variables a
local run sets.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchbench import environment
from benchbench.progress import read_progress
from benchbench.results import CellSpec

#: The worker prints its probe on a line starting with this (frameworks may print too).
PROBE_MARKER = "BENCHBENCH_PROBE "
POLL_INTERVAL = 0.2
STDERR_TAIL_CHARS = 4000


class TailBuffer:
    """Drains a pipe on a thread, keeping only its last `limit` bytes, so a worker that floods
    its output never blocks on a full pipe nor fills the parent's memory."""

    def __init__(self, pipe, limit: int = 64 * 1024, echo=None):
        self.pipe, self.limit, self.echo = pipe, limit, echo
        self.chunks: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while chunk := self.pipe.read1(65536):
            if self.echo is not None:
                self.echo.write(chunk)
                self.echo.flush()
            self.chunks.append(chunk)
            self.size += len(chunk)
            while self.size - len(self.chunks[0]) >= self.limit:
                self.size -= len(self.chunks.popleft())

    def text(self, chars: int | None = None) -> str:
        """The kept tail, once the pipe is drained (a straggler holding it open is waited
        for 5 s at most)."""
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.pipe.close()
        text = b"".join(self.chunks).decode("utf-8", errors="replace")
        return text[-chars:] if chars else text


@dataclasses.dataclass(frozen=True)
class WorkerOutcome:
    returncode: int | None
    payload: dict | None
    stdout_tail: str
    stderr_tail: str
    timed_out: bool
    wall_time: float


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILLs the worker's process group (the worker leads its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait(proc: subprocess.Popen, timeout: float | None, progress: Path, on_poll) -> bool:
    """Waits for the worker, polling its progress; returns True if it had to be killed."""
    start = time.monotonic()
    while True:
        try:
            proc.wait(timeout=POLL_INTERVAL)
            return False
        except subprocess.TimeoutExpired:
            pass
        if on_poll is not None:
            on_poll(read_progress(progress))
        if timeout and time.monotonic() - start > timeout:
            _kill_group(proc)
            proc.wait()
            return True


def _read_payload(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _echo(stream):
    return getattr(stream, "buffer", None)


def execute(
    spec: CellSpec,
    python: str,
    env: dict[str, str],
    on_poll=None,
    die_with_parent: bool = False,
) -> WorkerOutcome:
    """Runs one worker process for `spec` and collects what it left behind.

    With ``spec.verbose`` the worker's output is streamed through (a Keras progress bar on a
    terminal, one line per epoch otherwise). On Ctrl-C (KeyboardInterrupt), or any exception
    raised by `on_poll` (which is how a cluster cell is cancelled), the worker's process group
    is killed before re-raising. With `die_with_parent` the kernel also kills the worker if
    the process that started it dies (Linux; see `spawn`).
    """
    fit_verbose = (1 if sys.stdout.isatty() else 2) if spec.verbose else 0
    with tempfile.TemporaryDirectory(prefix="benchbench-cell-") as tmp:
        spec_path, result_path, progress = (
            Path(tmp) / n for n in ("spec.json", "result.json", "progress.json")
        )
        spec_path.write_text(json.dumps(spec.to_dict()))
        cmd = [
            python,
            "-m",
            "benchbench.worker",
            str(spec_path),
            str(result_path),
            "--progress",
            str(progress),
            "--fit-verbose",
            str(fit_verbose),
        ]
        start = time.monotonic()
        try:
            proc = spawn(cmd, env, die_with_parent)
        except OSError as exc:
            return WorkerOutcome(None, None, "", f"cannot start {python}: {exc}", False, 0.0)
        out = TailBuffer(proc.stdout, echo=_echo(sys.stdout) if spec.verbose else None)
        err = TailBuffer(proc.stderr, echo=_echo(sys.stderr) if spec.verbose else None)
        try:
            timed_out = _wait(proc, cell_timeout(spec), progress, on_poll)
        except BaseException:
            if proc.returncode is None:
                _kill_group(proc)
                proc.wait()
            raise
        return WorkerOutcome(
            returncode=proc.returncode,
            payload=_read_payload(result_path),
            stdout_tail=out.text(),
            stderr_tail=err.text(STDERR_TAIL_CHARS),
            timed_out=timed_out,
            wall_time=time.monotonic() - start,
        )


def cell_timeout(spec: CellSpec) -> float | None:
    """The worker's time limit: ``--timeout`` plus the ``--quiet-wait`` it may spend first."""
    if not spec.timeout:
        return None
    return spec.timeout + (spec.quiet_wait or 0.0)


def spawn(cmd: list[str], env: dict[str, str], die_with_parent: bool = False) -> subprocess.Popen:
    """Starts a worker in its own session (so a timeout can kill its whole process group),
    with no stdin and both output streams piped to the parent.

    With `die_with_parent` the kernel SIGKILLs the worker when the thread that started it
    exits (Linux's ``PR_SET_PDEATHSIG``): a worker in its own session would otherwise outlive
    a cluster worker that is killed, and go on using the machine's CPUs unseen.
    """
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=_parent_death_signal() if die_with_parent else None,
    )


PR_SET_PDEATHSIG = 1


def _parent_death_signal():
    """A preexec_fn setting ``PR_SET_PDEATHSIG`` to SIGKILL, or None where there is no prctl.

    The C function is looked up here, in the parent, so that the child only calls it between
    fork and exec; a parent that died before the call is noticed through the child's new
    parent id."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, kill = os.getpid(), int(signal.SIGKILL)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, kill)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def worker_env(spec: CellSpec, base: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's environment: same threads for every backend, no GPU for CPU cells, no GPU
    memory pre-allocation, and benchbench importable by any interpreter.

    Args:
        spec: the cell.
        base: the environment to start from (default: this process's).
    """
    env = dict(os.environ if base is None else base)
    if spec.threads:
        env.update({var: str(spec.threads) for var in environment.THREAD_VARS})
    if spec.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONHASHSEED"] = str(spec.seed)
    env["PYTHONUNBUFFERED"] = "1"
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def signal_reason(code: int) -> str:
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    reason = f"the worker was killed by {name}"
    if name == "SIGKILL":
        reason += " (out of memory? the kernel's OOM killer sends SIGKILL)"
    elif name == "SIGSEGV":
        reason += " (a segmentation fault in native code)"
    return reason


def classify(spec: CellSpec, outcome: WorkerOutcome) -> tuple[str, str]:
    """(status, reason) of a finished worker."""
    payload, code = outcome.payload, outcome.returncode
    if outcome.timed_out:
        return "timeout", (
            f"no result within {spec.timeout:g} s; the worker's process group was "
            "killed (raise --timeout, or --timeout 0 for none)"
        )
    if payload is not None:
        reason = payload.get("reason", "")
        if code and payload.get("status") != "failed":
            reason = f"{reason} (the worker exited with {code} after writing its result)".strip()
        return payload.get("status", "failed"), reason
    if code is None:
        return "failed", f"the worker did not start: {outcome.stderr_tail}"
    if code < 0:
        return "failed", signal_reason(code)
    last = outcome.stderr_tail.strip().splitlines()[-1:] or [""]
    return "failed", f"the worker exited with status {code} without a result. {last[0]}".strip()


PROBE_TIMEOUT = 120.0


def probe_backends(
    names: list[str], pythons: dict[str, str] | None = None, timeout: float = PROBE_TIMEOUT
) -> dict[str, dict]:
    """`registry.probe` of each backend, each in its own process, all at once.

    Probing imports an adapter and hence its framework, which the parent must not do; a
    probe that crashes or hangs reads as unavailable with the reason.
    """
    pythons = pythons or {}
    procs = {}
    for name in names:
        cmd = [pythons.get(name, sys.executable), "-m", "benchbench.worker", "--probe", name]
        env = worker_env(CellSpec(backend=name, workload=""))
        procs[name] = spawn(cmd, env)
    deadline = time.monotonic() + timeout
    return {name: _probe_result(name, proc, deadline) for name, proc in procs.items()}


def _probe_result(name: str, proc: subprocess.Popen, deadline: float) -> dict:
    try:
        out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 0.1))
    except BaseException as exc:
        _kill_group(proc)
        proc.communicate()
        if not isinstance(exc, subprocess.TimeoutExpired):
            raise
        reason = "probing it did not finish in time"
    else:
        for line in out.decode(errors="replace").splitlines():
            if line.startswith(PROBE_MARKER):
                return json.loads(line[len(PROBE_MARKER) :])
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        reason = f"probing it failed (exit status {proc.returncode}) {last[0]}".strip()
    return {
        "name": name,
        "available": False,
        "version": "",
        "engine": "",
        "reason": reason,
        "remedy": "run `python -m benchbench.worker --probe " + name + "` to see why",
        "devices": [],
        "reference": False,
    }
