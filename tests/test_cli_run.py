"""``benchbench run`` and ``benchbench list`` from the command line: usage errors, Ctrl-C and
``--resume``, the parent's imports, and one end-to-end run of two real backends."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchbench import worker, workloads
from benchbench.cli import main
from benchbench.commands import list as list_command
from benchbench.commands import run as run_command
from benchbench.results import load_results, read_manifest
from tests.fake_backends import ENV

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fakes(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchbench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- usage errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--backend", "numpy,nope"], "unknown backend 'nope'; expected one of: all,"),
        (
            ["--workload", "nope"],
            "unknown workload 'nope'; expected one of: all, default, nodata, tiny",
        ),
        (["--python", "nope=/bin/sh"], "unknown backend 'nope'"),
        (["--python", "fake"], "expected BACKEND=PATH"),
        (["--python", "fake=/no/such/python"], "no executable interpreter there"),
    ],
)
def test_usage_errors_exit_2_with_one_line(fakes, capsys, tmp_path, args, words):
    assert main(["run", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # rejected before anything ran or was written


def test_a_run_without_workload_leaves_out_the_long_offline_ones():
    known = ["addition_rnn", "digits_mlp", "mnist1d_gru"]
    default = ["digits_mlp"]
    assert run_command.workload_choice("default", known, default) == (("digits_mlp",), {})
    assert run_command.workload_choice("all", known, default)[0] == tuple(known)
    chosen, _ = run_command.workload_choice("default,mnist1d_gru", known, default)
    assert chosen == ("digits_mlp", "mnist1d_gru")
    long = {n for n, w in workloads.discover().items() if not w.in_default_run}
    assert long == {"addition_rnn", "mnist1d_gru"}  # minutes to an hour at their default


def test_unknown_backend_lists_the_valid_ones(fakes, capsys):
    assert main(["run", "--backend", "tensorflw"]) == 2
    err = capsys.readouterr().err
    for name in ("tensorflow", "theano", "cntk", "torch", "jax", "numpy"):
        assert name in err


def test_bad_numbers_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--epochs", "0"])
    assert exc.value.code == 2 and "positive integer" in capsys.readouterr().err


# -- a whole run through the CLI -----------------------------------------------------------------


def test_run_writes_results_summary_and_exit_code(fakes, capsys, tmp_path):
    code = main(
        [
            "run",
            "--backend",
            "fake,crash,cntk",
            "--workload",
            "tiny",
            "--out",
            str(tmp_path),
            "--machine",
            "box",
            "--threads",
            "1",
            "--no-report",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1  # the crash
    (run_dir,) = (tmp_path / "box").iterdir()
    results = load_results([run_dir])
    statuses = {(r.spec.backend, r.spec.repeat): r.status for r in results}
    # the default: the workload's default profile, up to 3 repeats within the time budget
    assert statuses == {
        **{("fake", n): "ok" for n in range(3)},
        **{("crash", n): "failed" for n in range(3)},
        **{("cntk", n): "unavailable" for n in range(3)},
    }
    assert f"results: {run_dir}" in out and "workload  backend" in out
    assert "up to 3 repeats (those after the first within 510 s)" in out
    manifest = read_manifest(run_dir)
    assert manifest.options["threads"] == 1 and manifest.options["quick"] is False
    assert manifest.options["repeats"] == 3 and manifest.options["budget"] == 510
    fake = [r for r in results if r.spec.backend == "fake"]
    assert [len(r.epochs) for r in fake] == [3, 3, 3]  # tiny's default profile
    assert sorted(r.spec.seed for r in fake) == [0, 1, 2]
    assert fake[0].workload_info["seeds"] == {"weights": 0, "data_order": 0, "dropout": 0}
    assert all(r.interference is not None and r.interference.cpus for r in fake)
    assert fake[0].environment["affinity"] == fake[0].environment["affinity"][:1]
    assert fake[0].environment["thread_vars"]["OMP_NUM_THREADS"] == "1"
    lines = out.splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("workload  backend"))) :]
    assert all(len(line) <= 100 for line in table if not line.startswith("results: "))


def test_python_runs_a_backends_workers_under_another_interpreter(fakes, tmp_path):
    other = tmp_path / "python-for-fake"
    other.symlink_to(sys.executable)
    out = tmp_path / "results"
    assert (
        main(
            [
                "run",
                "--backend",
                "fake,numpy",
                "--workload",
                "tiny",
                "--out",
                str(out),
                "--python",
                f"fake={other}",
                "--quick",
                "--repeats",
                "1",
                "--no-report",
            ]
        )
        == 0
    )
    executables = {r.spec.backend: r.environment["executable"] for r in load_results([out])}
    assert executables == {"fake": str(other), "numpy": sys.executable}


def test_parent_imports_no_framework(fakes, tmp_path):
    code = (
        "import sys\n"
        "from benchbench.cli import main\n"
        f"rc = main(['run', '--backend', 'fake,cntk', '--workload', 'tiny', '--out', "
        f"{str(tmp_path)!r}, '--quick', '--repeats', '1', '--no-report'])\n"
        "heavy = ('torch', 'tensorflow', 'jax', 'pytensor', 'pandas', 'matplotlib')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules], rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "LOADED [] 0" in proc.stdout, proc.stdout + proc.stderr


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_ctrl_c_keeps_finished_cells_and_resume_runs_the_rest(tmp_path):
    env = {**os.environ, **ENV, "BENCHBENCH_FAKE_SLEEP": "60"}
    args = ["--out", str(tmp_path), "--machine", "m", "--quick", "--repeats", "1", "--no-report"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchbench",
            "run",
            "--backend",
            "fake,slow",
            "--workload",
            "tiny",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def slow_running():
            manifests = list(tmp_path.glob("m/*/manifest.json"))
            return (
                manifests
                and json.loads(manifests[0].read_text())
                .get("cells", {})
                .get("tiny--slow--cpu--r0")
                == "running"
            )

        wait_for(slow_running)
        time.sleep(1.0)  # let the worker start (it sleeps 60 s per step)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    (run_dir,) = (tmp_path / "m").iterdir()
    manifest = read_manifest(run_dir)
    assert manifest.interrupted
    assert manifest.cells == {"tiny--fake--cpu--r0": "ok", "tiny--slow--cpu--r0": "interrupted"}
    kept = (run_dir / "tiny--fake--cpu--r0.json").read_text()
    assert not (run_dir / "tiny--slow--cpu--r0.json").exists()

    resumed = cli("run", "--resume", *args, env={**env, "BENCHBENCH_FAKE_SLEEP": "0"})
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 cells already done" in resumed.stdout
    assert (run_dir / "tiny--fake--cpu--r0.json").read_text() == kept  # not run again
    assert {r.status for r in load_results([run_dir])} == {"ok"}
    manifest = read_manifest(run_dir)
    assert not manifest.interrupted and len(manifest.resumed_at) == 1


# -- list ----------------------------------------------------------------------------------------


def test_list_shows_backends_with_reasons_and_workloads(fakes, capsys, monkeypatch):
    monkeypatch.setattr(
        list_command,
        "probe_backends",
        lambda names, pythons: {n: worker.probe(n) for n in ("fake", "cntk")},
    )
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert f"{'fake':<21} available    fake-numpy 0.0 (devices: cpu)" in out
    cntk = worker.probe("cntk")
    assert f"{'cntk':<21} unavailable  {cntk['reason']}" in out
    assert "remedy: CNTK 2.7" in out
    assert "tiny" in out and "dataset blobs (present" in out and "default (run's default)" in out


def test_list_json(fakes, capsys, monkeypatch):
    monkeypatch.setattr(
        list_command, "probe_backends", lambda names, pythons: {"cntk": worker.probe("cntk")}
    )
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["backends"][0]["available"] is False
    assert {w["name"] for w in data["workloads"]} == {"tiny", "nodata"}


# -- end to end with real backends ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs scikit-learn")
def test_numpy_and_torch_end_to_end(tmp_path):
    # one thread: OpenMP spin-waiting on a shared two-core runner makes two threads erratic
    proc = cli(
        "run",
        "--backend",
        "numpy,torch",
        "--workload",
        "digits_mlp",
        "--epochs",
        "3",
        "--repeats",
        "1",
        "--threads",
        "1",
        "--out",
        str(tmp_path),
        "--machine",
        "ci",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = load_results([tmp_path])
    assert sorted(r.spec.backend for r in results) == ["numpy", "torch"]
    for r in results:
        assert r.status == "ok" and r.accuracy_meaningful
        assert len(r.epochs) == 3 and r.timing.steady_epoch_times == [
            e.train_time for e in r.epochs[1:]
        ]
        assert r.timing.first_epoch_time == r.epochs[0].train_time
        assert all(e.step_time_sum <= e.train_time for e in r.epochs)
        assert all(e.val_time is not None and e.val_accuracy is not None for e in r.epochs)
        assert r.timing.step_time_median <= r.timing.step_time_p90
        assert r.timing.throughput > 0 and r.memory.peak_host_bytes > 0
        assert r.environment["frameworks"] == {r.backend_info["engine"]: r.backend_info["version"]}
    # the same data and initial weights: the first epoch's loss agrees across backends
    losses = [r.epochs[0].loss for r in results]
    assert losses[0] == pytest.approx(losses[1], rel=1e-3)
    assert "report:" in proc.stdout or "report not built" in proc.stdout


# -- the end of a run, waiting for quiet, and what a build can use -------------------------------


def test_ctrl_c_while_the_report_is_built_keeps_results_and_says_how_to_finish(
    fakes, capsys, tmp_path, monkeypatch
):
    from benchbench.commands import run as run_command

    def interrupted(run_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_command, "build_report", interrupted)
    args = ["--backend", "fake", "--workload", "tiny", "--quick", "--repeats", "1"]
    code = main(["run", *args, "--out", str(tmp_path), "--machine", "m"])
    err = capsys.readouterr().err
    assert code == 130
    (run_dir,) = (tmp_path / "m").iterdir()
    assert f"python -m benchbench run --resume --out {run_dir}" in err
    assert "every cell is kept; the report was not built" in err
    manifest = read_manifest(run_dir)
    assert manifest.interrupted is True and manifest.cells == {"tiny--fake--cpu--r0": "ok"}
    monkeypatch.undo()
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    assert main(["run", "--resume", "--out", str(run_dir), "--no-report"]) == 0
    assert not read_manifest(run_dir).interrupted


def test_quiet_wait_is_recorded_with_the_cell(fakes, capsys, tmp_path):
    args = ["--backend", "fake", "--workload", "tiny", "--quick", "--repeats", "1"]
    assert main(["run", *args, "--quiet-wait", "1", "--out", str(tmp_path), "--no-report"]) == 0
    out = capsys.readouterr().out
    (result,) = load_results([tmp_path])
    wait = result.interference.quiet_wait
    assert wait is not None and wait.limit == 1 and wait.others_cpu is not None
    if wait.gave_up:  # a busy machine: the cell ran anyway and says so
        assert "gave up waiting for a quiet machine after 1 s" in out
    assert result.spec.quiet_wait == 1


def test_list_shows_only_the_devices_a_build_can_use(fakes, monkeypatch):
    import sys as sys_module
    import types

    from benchbench import registry
    from benchbench.backend import BackendInfo

    module = types.ModuleType("cpu_only_build")
    module.probe = lambda: BackendInfo("cpuonly", True, "1.0", "x", devices=("cpu", "gpu"))
    module.build_devices = lambda: ("cpu",)
    monkeypatch.setitem(sys_module.modules, "cpu_only_build", module)
    monkeypatch.setenv("BENCHBENCH_BACKEND_MODULES", "cpuonly=cpu_only_build")
    assert registry.probe("cpuonly").devices == ("cpu", "gpu")  # what the adapter supports
    assert registry.build_devices("cpuonly") == ("cpu",)  # what this build can use
    assert worker.probe("cpuonly", build=True)["devices"] == ["cpu"]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_torch_lists_gpu_only_when_built_with_one():
    import torch

    built = torch.backends.cuda.is_built() or bool(torch.version.hip)
    devices = worker.probe("torch", build=True)["devices"]
    assert ("gpu" in devices) is built
