"""`run` then `check`, end to end, on a step whose cost is controlled: the 'spin' fake backend
burns a fixed amount of CPU time per step (`tests/fake_backends/spin.py`).

- A/A under contention: the same code, the current run beside a CPU-burning process on the
  cell's own CPU. The cells are flagged noisy by the real sampler, and `check` must not fail.
- A real 30% slowdown (30% more CPU work per step): `check` must fail when neither side was
  noisy; on a machine busy enough to flag a side noisy, the change must read 'unclear (noisy)'.

Nothing asserts how long anything takes: only the verdicts the flags imply.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchbench import check, cli, results
from benchbench.interference import PROC_STAT
from tests.fake_backends import ENV

pytestmark = [
    pytest.mark.skipif(
        not (PROC_STAT.exists() and hasattr(os, "sched_setaffinity")),
        reason="pins a burner to the cell's CPU and reads /proc/stat (Linux)",
    ),
]
pytest.importorskip("scipy")

SPIN = 0.015  # CPU seconds per step: 8 steps per epoch of the tiny workload
BURNER = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True:\n    pass\n"


@pytest.fixture
def fakes(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def run(out: Path, spin: float, monkeypatch) -> Path:
    """Three repeats of the spin backend on one thread (so on the first allowed CPU)."""
    monkeypatch.setenv("BENCHBENCH_FAKE_SPIN", str(spin))
    args = ["run", "--backend", "spin", "--workload", "tiny", "--repeats", "3", "--threads", "1"]
    code = cli.main([*args, "--out", str(out), "--machine", "box", "--no-report"])
    assert code == 0
    return out


def verdicts(base: Path, cur: Path) -> dict[str, check.Comparison]:
    found = check.compare(results.load_results([base]), results.load_results([cur]))
    return {c.metric: c for c in found.comparisons}


def noisy(path: Path) -> list[bool]:
    return [r.noisy for r in results.load_results([path])]


def test_an_a_a_check_under_a_cpu_burner_does_not_fail(fakes, tmp_path, capsys):
    base = run(tmp_path / "base", SPIN, fakes)
    cpu = sorted(os.sched_getaffinity(0))[0]  # where the one-thread workers are pinned
    burner = subprocess.Popen([sys.executable, "-c", BURNER, str(cpu)])
    try:
        time.sleep(0.3)
        cur = run(tmp_path / "cur", SPIN, fakes)
    finally:
        burner.kill()
        burner.wait()
    current = results.load_results([cur])
    assert all(r.noisy for r in current)  # flagged by the real sampler, with its figures
    assert all(r.interference.others_cpu > 0.1 for r in current)
    capsys.readouterr()
    code = cli.main(["check", str(base), str(cur)])
    out = capsys.readouterr().out
    assert code == 0, out
    time_verdict = verdicts(base, cur)["epoch_time"]
    assert time_verdict.label in ("ok", "unclear (noisy)")  # never a regression
    if time_verdict.label == "unclear (noisy)":
        assert "unclear (noisy)" in out and "current: 3 of 3 repeats noisy (others used" in out


def test_a_real_30_percent_slowdown_fails_unless_the_machine_was_noisy(fakes, tmp_path, capsys):
    base = run(tmp_path / "base", SPIN, fakes)
    cur = run(tmp_path / "cur", SPIN * 1.3, fakes)
    found = verdicts(base, cur)
    capsys.readouterr()
    code = cli.main(["check", str(base), str(cur)])
    out = capsys.readouterr().out
    if any(noisy(base)) or any(noisy(cur)):  # a neighbour took the CPU: no verdict on time
        assert found["epoch_time"].label in ("unclear (noisy)", "ok"), out
        assert found["epoch_time"].verdict != "regression"
    else:  # a quiet machine: the slowdown is caught
        assert code == 1, out
        assert found["epoch_time"].verdict == "regression"
        assert "REGRESSION" in out and "FAIL" in out.splitlines()[-1]
