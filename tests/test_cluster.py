"""``run --cluster`` on a real Dask cluster on this machine, loopback only: a scheduler and
workers posing as machines, all started and stopped by the fixtures here (whatever happens).

The cells use the fake backends and workloads (tests/fake_*), so no framework is needed. Every
wait has a generous limit (a loaded two-core machine starts Python processes slowly) and no
assertion depends on how long anything took.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from benchbench.isolation import worker_env
from benchbench.results import load_results, read_manifest
from tests.fake_backends import ENV, MODULES_VALUE

pytest.importorskip(
    "distributed", reason="needs Dask distributed: pip install 'benchbench[cluster]'"
)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a process may take to start, or a head to finish a few tiny cells.
PATIENCE = 180.0
BACKEND_MODULES = f"{MODULES_VALUE},environ=tests.fake_backends.environ"
CELLS = ["--workload", "tiny", "--quick", "--repeats", "1"]


def environment(**extra: str) -> dict[str, str]:
    """The test's environment with the fakes, for every process of the cluster."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BENCHBENCH_FAKE") and k != "PYTEST_CURRENT_TEST"
    }
    env.update(ENV, BENCHBENCH_BACKEND_MODULES=BACKEND_MODULES, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def wait_for(predicate, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    import time

    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended ({proc.returncode}): {tail(log)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {tail(log)}")
        time.sleep(0.2)


def tail(log: Path | None) -> str:
    return log.read_text()[-3000:] if log and log.exists() else ""


class Processes:
    """Starts processes, each in its own session, and kills each group at the end."""

    def __init__(self, logs: Path):
        self.logs, self.procs = logs, []

    def start(self, name: str, cmd: list[str], env: dict) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{name}-{uuid.uuid4().hex[:6]}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc, log

    @staticmethod
    def kill(proc: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)
        proc.wait(timeout=PATIENCE)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(proc)


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    procs = Processes(tmp_path_factory.mktemp("cluster-logs"))
    try:
        yield procs
    finally:
        procs.close()


@pytest.fixture(scope="module")
def scheduler(processes, tmp_path_factory) -> str:
    """A Dask scheduler on 127.0.0.1 (it imports benchbench to read the tasks: PYTHONPATH)."""
    file = tmp_path_factory.mktemp("scheduler") / "scheduler.json"
    cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    cmd += ["--port", "0", "--scheduler-file", str(file), "--no-dashboard"]
    proc, log = processes.start("scheduler", cmd, environment())
    wait_for(lambda: file.exists() and "address" in file.read_text(), "the scheduler", proc, log)
    return json.loads(file.read_text())["address"]


def start_worker(processes: Processes, address: str, machine: str, **env: str):
    """``python -m benchbench worker`` posing as `machine`, once it has joined."""
    cmd = [sys.executable, "-m", "benchbench", "worker", address, "--machine", machine]
    proc, log = processes.start(machine, [*cmd, "--host", "127.0.0.1"], environment(**env))
    wait_for(lambda: f"benchbench worker {machine!r}" in log.read_text(), machine, proc, log)
    return proc, log


@pytest.fixture(scope="module")
def machines(processes, scheduler) -> str:
    """Workers posing as machines a and b; returns the scheduler's address."""
    for name in ("a", "b"):
        start_worker(processes, scheduler, name)
    return scheduler


def head(*args: str, **env: str) -> list[str]:
    return [sys.executable, "-m", "benchbench", "run", *args]


def run_head(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        head(*args),
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


def by_machine(out: Path) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for result in load_results([out]):
        found.setdefault(result.machine, {})[result.spec.backend] = result
    return found


# -- a run over two machines ---------------------------------------------------------------------


def test_every_cell_runs_on_every_machine_and_the_report_has_a_column_each(machines, tmp_path):
    args = ["--cluster", machines, "--machines", "a,b", "--backend", "environ,numpy", *CELLS]
    proc = run_head(*args, "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = by_machine(tmp_path)
    assert set(results) == {"a", "b"}
    for machine, cells in results.items():
        assert set(cells) == {"environ", "numpy"}
        assert {r.status for r in cells.values()} == {"ok"}, [r.reason for r in cells.values()]
        for result in cells.values():
            assert result.machine == machine and len(result.epochs) == 2
            assert result.environment["executable"] == sys.executable
            threads = str(result.spec.threads)  # the machine's CPUs, set as a local run sets them
            assert result.environment["thread_vars"]["OMP_NUM_THREADS"] == threads
        # the worker started with the machine's environment and the local rules, nothing else
        spec = cells["environ"].spec
        assert cells["environ"].backend_info["environ"] == worker_env(spec, environment())
    (run_a,) = (tmp_path / "a").iterdir()
    (run_b,) = (tmp_path / "b").iterdir()
    assert run_a.name == run_b.name  # one run id for every machine
    manifest = read_manifest(run_a)
    assert manifest.machine == "a" and manifest.environment["cpu_model"]
    assert manifest.options["cluster"] == {"scheduler": machines, "machines": ["a", "b"]}
    assert set(manifest.cells.values()) == {"ok"}
    for line in ("[a 1/2] environ × tiny (cpu)", "[b 2/2] numpy × tiny (cpu): ok"):
        assert line in proc.stdout
    assert "machine a:" in proc.stdout and "machine b:" in proc.stdout
    report = tmp_path / f"report-{run_a.name}.html"
    assert report.is_file(), proc.stdout
    text = report.read_text()
    assert "cpu · a" in text and "cpu · b" in text


def test_a_cluster_cell_gets_the_local_environment_not_dasks(processes, scheduler, tmp_path):
    # Dask's own worker command with its nanny, which sets OMP_NUM_THREADS=1 and more
    env = environment(BENCHBENCH_TEST_MARK="plain-dask")
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", scheduler, "--name", "plain"]
    cmd += ["--nthreads", "1", "--resources", "cell=1 cpu=1", "--memory-limit", "0"]
    proc, log = processes.start("plain", [*cmd, "--host", "127.0.0.1"], env)
    try:
        wait_for(lambda: "Registered to" in log.read_text(), "the plain worker", proc, log)
        args = ["--cluster", scheduler, "--machines", "plain", "--backend", "environ", *CELLS]
        done = run_head(*args, "--threads", "1", "--no-report", "--out", str(tmp_path))
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        processes.kill(proc, signal.SIGTERM)
    (result,) = load_results([tmp_path])
    assert result.status == "ok", result.reason
    started_with = result.backend_info["environ"]
    assert started_with == worker_env(result.spec, env)  # what a local worker would get
    assert result.environment["affinity"] == result.environment["affinity"][:1]


# -- faults --------------------------------------------------------------------------------------


def cell_processes(mark: str) -> list:
    """Live worker processes of cells started by the worker with `mark` in its environment."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if "benchbench.worker" in (proc.info["cmdline"] or []) and (
                proc.environ().get("BENCHBENCH_TEST_MARK") == mark
            ):
                found.append(proc)
    return found


def test_a_machine_killed_mid_cell_fails_that_cell_and_resume_finishes_it(
    processes, machines, tmp_path
):
    mark = uuid.uuid4().hex
    victim, _ = start_worker(
        processes, machines, "v", BENCHBENCH_FAKE_SLEEP="60", BENCHBENCH_TEST_MARK=mark
    )
    args = ["--cluster", machines, "--machines", "a,v", "--backend", "fake,slow", *CELLS]
    args += ["--out", str(tmp_path)]
    log = tmp_path.parent / f"{tmp_path.name}-head.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            head(*args), cwd=ROOT, env=environment(), stdout=out, stderr=subprocess.STDOUT
        )
    try:

        def slow_cell_started() -> bool:
            return bool(cell_processes(mark)) and any(
                read_manifest(d).cells.get("tiny--slow--cpu--r0") == "running"
                for d in (tmp_path / "v").glob("*")
                if (d / "manifest.json").exists()
            )

        wait_for(slow_cell_started, "v's slow cell", proc, log)
        processes.kill(victim)  # the machine dies: its worker and everything in its session
        assert proc.wait(timeout=PATIENCE) == 1, tail(log)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = log.read_text()
    wait_for(lambda: not cell_processes(mark), "the killed machine's cell to die with it")
    results = by_machine(tmp_path)
    assert {r.status for r in results["a"].values()} == {"ok"}  # the other machine went on
    assert results["v"]["fake"].status == "ok"
    lost = results["v"]["slow"]
    assert lost.status == "failed" and lost.machine_lost
    assert "machine 'v' was lost" in lost.reason and "--resume" in lost.reason
    assert "machine 'v' was lost" in output
    assert f"--cluster {machines} --resume --out {tmp_path}" in output
    (run_a,) = (tmp_path / "a").iterdir()
    kept = {p.name: p.read_bytes() for p in run_a.glob("tiny--*.json")}

    start_worker(processes, machines, "v")  # back, no longer slow
    resumed = run_head("--cluster", machines, "--resume", "--out", str(tmp_path))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "1 of 2 cells already done" in resumed.stdout
    assert "[v 2/2] slow × tiny (cpu): ok" in resumed.stdout
    assert {p.name: p.read_bytes() for p in run_a.glob("tiny--*.json")} == kept  # not rerun
    results = by_machine(tmp_path)
    assert {r.status for cells in results.values() for r in cells.values()} == {"ok"}


def test_a_machine_with_other_code_is_refused_before_anything_runs(processes, machines, tmp_path):
    code = (
        "import sys, benchbench\n"
        "benchbench.__version__ = '0.0.0+old'\n"
        "from benchbench.cli import main\n"
        f"sys.exit(main(['worker', {machines!r}, '--machine', 'old', '--host', '127.0.0.1']))\n"
    )
    proc, log = processes.start("old", [sys.executable, "-c", code], environment())
    try:
        wait_for(lambda: "benchbench worker 'old'" in log.read_text(), "old", proc, log)
        args = ["--cluster", machines, "--machines", "a,old", "--backend", "fake", *CELLS]
        refused = run_head(*args, "--out", str(tmp_path / "out"))
    finally:
        processes.kill(proc, signal.SIGTERM)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    error = refused.stderr.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert "refused" in error and "old: benchbench 0.0.0+old" in error
    assert "--machines" in error
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def test_an_unreachable_scheduler_is_a_usage_error_naming_the_address(tmp_path):
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    args = ["--cluster", address, "--connect-timeout", "1", "--backend", "fake", *CELLS]
    proc = run_head(*args, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot reach the Dask scheduler at {address!r}" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_unknown_machines_are_named_with_the_connected_ones(machines, tmp_path):
    args = ["--cluster", machines, "--machines", "a,nope", "--backend", "fake", *CELLS]
    proc = run_head(*args, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "unknown machine 'nope'; expected one of: a, all, b" in proc.stderr
