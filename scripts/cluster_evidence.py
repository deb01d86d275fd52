"""A real two-machine cluster run on loopback, a machine killed mid-cell, and its resume.

Starts a Dask scheduler and two benchbench workers posing as machines ``a`` and ``b``, all on
127.0.0.1, and prints every command line it runs (``$ ...``) with its output:

1. ``run --cluster`` of a quick matrix (real workloads and backends) on both machines, and the
   Markdown report's speed table (one column per machine);
2. ``run --cluster`` of longer cells, with machine ``b``'s worker killed (SIGKILL to its whole
   process group, as a machine dying would) while its first cell trains: that cell is recorded
   as failed, ``a`` finishes, the head exits 1 and says how to finish;
3. ``b``'s worker started again, and ``run --cluster --resume``, which runs only ``b``'s missing
   cells, and the report of the whole run.

Every process it starts is stopped at the end, whatever happens. Usage::

    python scripts/cluster_evidence.py [--out DIR] [--backend numpy,torch]
        [--workload digits_mlp] [--long-workload mnist1d_mlp]

Results go under DIR (default: a new temporary directory, printed). Needs the `cluster` extra
(and whatever the chosen backends and workloads need).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATIENCE = 300.0


def show(cmd: list[str]) -> None:
    print(f"\n$ {shlex.join(cmd)}", flush=True)


def run(cmd: list[str]) -> int:
    """Runs a command in the foreground, its output straight through; returns its exit code."""
    show(cmd)
    code = subprocess.run(cmd, cwd=ROOT, env=environment()).returncode
    print(f"[exit code {code}]", flush=True)
    return code


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


class Cluster:
    """The scheduler and the workers, each in its own session, each logging to a file."""

    def __init__(self, logs: Path):
        self.logs, self.procs = logs, {}

    def start(self, name: str, cmd: list[str]) -> Path:
        show(cmd)
        log = self.logs / f"{name}.log"
        for n in range(2, 100):  # a restarted worker gets a log of its own
            if not log.exists():
                break
            log = self.logs / f"{name}-{n}.log"
        with open(log, "wb") as out:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return log

    def scheduler(self) -> str:
        file = self.logs / "scheduler.json"
        cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
        cmd += ["--port", "0", "--scheduler-file", str(file), "--no-dashboard"]
        self.start("scheduler", cmd)
        wait_for(lambda: file.exists() and "address" in file.read_text(), "the scheduler")
        return json.loads(file.read_text())["address"]

    def worker(self, address: str, machine: str) -> None:
        cmd = [sys.executable, "-m", "benchbench", "worker", address, "--machine", machine]
        log = self.start(machine, [*cmd, "--host", "127.0.0.1"])
        ready = f"benchbench worker {machine!r}"
        wait_for(lambda: ready in log.read_text(), f"worker {machine}")
        print(next(line for line in log.read_text().splitlines() if ready in line), flush=True)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def running_cell(out: Path, machine: str) -> str | None:
    for manifest in (out / machine).glob("*/manifest.json"):
        with contextlib.suppress(OSError, ValueError):
            cells = json.loads(manifest.read_text())["cells"]
            return next((cell for cell, state in cells.items() if state == "running"), None)
    return None


def report_columns(dirs: list[Path], out: Path) -> None:
    """The report as Markdown, and its speed tables: one column per machine."""
    md = out / "report.md"
    run([sys.executable, "-m", "benchbench", "report", *map(str, dirs), "-o", str(md)])
    lines = md.read_text().splitlines()
    print(f"\n--- the speed tables of {md}:")
    for n, line in enumerate(lines):
        if line.startswith("#### Speed"):
            table = [x for x in lines[n + 1 : n + 12] if x.startswith("|")]
            print("\n".join([lines[n], *table]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="results root (default: a new temp dir)")
    parser.add_argument("--backend", default="numpy,torch")
    parser.add_argument("--workload", default="digits_mlp")
    parser.add_argument("--long-workload", default="mnist1d_mlp")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="benchbench-cluster-"))
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    print(f"results and logs under {out}", flush=True)
    cluster = Cluster(logs)
    try:
        return evidence(cluster, args, out)
    finally:
        cluster.close()


def evidence(cluster: Cluster, args, out: Path) -> int:
    head = [sys.executable, "-m", "benchbench", "run"]
    print("\n## 1. a scheduler and two workers on loopback, and a run on both machines")
    address = cluster.scheduler()
    for machine in ("a", "b"):
        cluster.worker(address, machine)
    quick = out / "quick"
    matrix = ["--backend", args.backend, "--workload", args.workload, "--quick", "--repeats", "1"]
    run([*head, "--cluster", address, "--machines", "a,b", *matrix, "--out", str(quick)])
    report_columns(sorted(quick.glob("*/*/")), quick)

    print("\n## 2. machine b's worker killed while its first cell trains")
    killed = out / "killed"
    cmd = [*head, "--cluster", address, "--machines", "a,b", "--backend", args.backend]
    cmd += ["--workload", args.long_workload, "--repeats", "1", "--out", str(killed)]
    show(cmd)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=environment())
    wait_for(lambda: running_cell(killed, "b") is not None, "b's first cell")
    time.sleep(5)  # into its epochs
    print(f"\n$ kill -KILL -- -<pgid of b's worker>   # while b runs {running_cell(killed, 'b')}")
    cluster.kill("b")
    print(f"[exit code {proc.wait()}]", flush=True)

    print("\n## 3. b's worker back, and the run resumed")
    cluster.worker(address, "b")
    run([*head, "--cluster", address, "--resume", "--out", str(killed)])
    report_columns(sorted(killed.glob("*/*/")), killed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
