"""Executors without a cluster: a machine's run directory, lost machines, the cluster progress,
the cluster worker's environment and resources, and workers that die with their parent.

The real cluster is tests/test_cluster.py's.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import pytest

from benchbench import environment, runner
from benchbench.errors import BenchbenchError
from benchbench.executors import Finished
from benchbench.isolation import spawn
from benchbench.progress import ClusterProgress
from benchbench.results import CellResult, CellSpec, finished_cells, read_result

SPECS = [CellSpec("fake", "tiny", repeat=r, threads=1) for r in range(2)]


def manifest_for(run_dir, machine="a", cluster=True):
    options = {"cluster": {"scheduler": "tcp://x:1", "machines": ["a"]}} if cluster else {}
    return runner.new_manifest(SPECS, machine, run_dir, ["test"], options, host={"cpu": "x"})


# -- run directories -----------------------------------------------------------------------------


def test_a_cluster_run_has_one_run_id_for_every_machine(tmp_path):
    first = runner.new_run_dirs(tmp_path, ["a", "b"])
    second = runner.new_run_dirs(tmp_path, ["a", "b"])
    assert first["a"].name == first["b"].name != second["a"].name == second["b"].name
    assert {p.parent.name for p in first.values()} == {"a", "b"}


def test_resume_finds_the_latest_cluster_run(tmp_path):
    with pytest.raises(BenchbenchError, match="no cluster run to resume"):
        runner.find_cluster_run(tmp_path)
    for _ in range(2):
        dirs = runner.new_run_dirs(tmp_path, ["a", "b"])
        for machine, run_dir in dirs.items():
            runner.write_manifest(run_dir, manifest_for(run_dir, machine))
    local = runner.new_run_dir(tmp_path, "a")  # a later local run is not a cluster run
    runner.write_manifest(local, manifest_for(local, cluster=False))
    run_id, found = runner.find_cluster_run(tmp_path)
    assert run_id == dirs["a"].name and found == dirs
    assert runner.find_cluster_run(dirs["b"]) == (run_id, dirs)  # one machine's directory


# -- a machine that is lost ----------------------------------------------------------------------


class View:
    total = 2

    def __init__(self):
        self.events = []

    def start(self, index, spec, remaining):
        self.events.append(("start", spec.cell_id))

    def update(self, state):
        self.events.append(("update", state))

    def finish(self, result, ran=True):
        self.events.append(("finish", result.status))


class LosingExecutor:
    """Loses machine 'a' during its first cell."""

    def __init__(self):
        self.gone = False
        self.running = None

    def ready(self, machine):
        return not self.gone and self.running is None

    def submit(self, machine, spec):
        self.running = spec

    def wait(self, on_progress):
        on_progress("a", {"phase": "train"})
        spec, self.running, self.gone = self.running, None, True
        return [Finished("a", spec, lost="machine 'a' was lost before the cell ended: gone")]

    def cancel(self):
        pass


def test_a_lost_cell_is_failed_and_left_for_resume(tmp_path):
    run_dir = runner.new_run_dir(tmp_path, "a")
    manifest = manifest_for(run_dir)
    view = View()
    machine = runner.MachineRun(run_dir, manifest, view)
    assert runner.run_machines({"a": machine}, LosingExecutor()) is False
    result = read_result(run_dir / f"{SPECS[0].cell_id}.json")
    assert result.status == "failed" and result.machine_lost and result.machine == "a"
    assert "was lost" in result.reason and result.environment["cpu"] == "x"
    assert machine.manifest.cells == {SPECS[0].cell_id: "failed", SPECS[1].cell_id: "pending"}
    assert machine.missing() == 2  # the lost cell and the one never sent
    assert finished_cells(run_dir) == {}  # --resume runs both
    assert view.events == [
        ("start", SPECS[0].cell_id),
        ("update", {"phase": "train"}),
        ("finish", "failed"),
    ]


def test_machine_lost_is_read_back_and_defaults_to_false():
    result = CellResult(SPECS[0], "ok", "m", "r")
    assert CellResult.from_dict(result.to_dict()).machine_lost is False
    data = {**result.to_dict(), "machine_lost": True}
    assert CellResult.from_dict(data).machine_lost is True


# -- the cluster's progress ----------------------------------------------------------------------


def ok_result(spec):
    return CellResult(spec, "skipped", "a", "r", reason="no data")


def test_cluster_progress_tags_each_line_with_its_machine():
    stream = io.StringIO()
    board = ClusterProgress({"a": 2, "b": 1}, stream=stream, live=False)
    board.view("a").start(1, SPECS[0], 1)
    board.view("b").start(1, SPECS[1], 0)
    board.view("a").update({"phase": "train", "epoch": 1, "epochs": 2})
    board.view("b").finish(ok_result(SPECS[1]), ran=False)
    assert stream.getvalue().splitlines() == [
        "[a 1/2] fake × tiny (cpu) ...",
        "[b 1/1] fake × tiny (cpu r1) ...",
        "[b 1/1] fake × tiny (cpu r1): skipped: no data",
    ]


def test_live_cluster_progress_redraws_one_line_per_machine():
    stream = io.StringIO()
    board = ClusterProgress({"a": 2, "b": 1}, stream=stream, live=True)
    board.view("a").start(1, SPECS[0], 1)
    board.view("a").update({"phase": "train", "epoch": 1, "epochs": 2, "step": 3, "steps": 8})
    board.view("a").finish(ok_result(SPECS[0]), ran=False)
    board.close()
    text = stream.getvalue()
    assert "\x1b[2F\x1b[J" in text  # the two machine lines are redrawn in place
    assert "[a 1/2] fake × tiny (cpu): epoch 1/2 step 3/8" in text
    assert "b: waiting" in text and "a: 1/2 done" in text
    assert "[a 1/2] fake × tiny (cpu): skipped: no data\n" in text


# -- the cluster worker --------------------------------------------------------------------------


@pytest.mark.parametrize(("visible", "gpus"), [("0,1", 2.0), ("3", 1.0), ("", None), ("-1", None)])
def test_a_worker_advertises_the_gpus_it_may_use(monkeypatch, visible, gpus):
    dask_worker = pytest.importorskip("benchbench.executors.dask_worker")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert dask_worker.worker_resources() == {
        "cell": 1.0,
        "cpu": 1.0,
        **({"gpu": gpus} if gpus else {}),
    }


def test_a_nanny_s_variables_are_not_passed_to_cells(monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    from benchbench.executors import dask_worker

    class Worker:
        nanny = "tcp://127.0.0.1:1"

    monkeypatch.setattr(distributed, "get_worker", lambda: Worker)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # exactly Dask's: the nanny's
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setenv("MKL_NUM_THREADS", "4")  # not Dask's value: the user's
    monkeypatch.setenv("__DASK_PARENT_PID", "123")
    with dask.config.set({"distributed.nanny.environ": {"MY_VAR": "x"}}):
        monkeypatch.setenv("MY_VAR", "x")
        env = dask_worker.base_environment()
    assert "OMP_NUM_THREADS" not in env and "MALLOC_TRIM_THRESHOLD_" not in env
    assert "__DASK_PARENT_PID" not in env and "MY_VAR" not in env
    assert env["MKL_NUM_THREADS"] == "4"
    Worker.nanny = None  # without a nanny the environment is the command's own
    assert dask_worker.base_environment()["OMP_NUM_THREADS"] == "1"


def test_the_dask_command_line_matches_the_worker_it_documents():
    dask_worker = pytest.importorskip("benchbench.executors.dask_worker")
    line = dask_worker.dask_command("tcp://h:8786", "a", {"cell": 1.0, "cpu": 1.0, "gpu": 2.0})
    assert line.endswith(
        "dask worker tcp://h:8786 --name a --nthreads 1 --no-nanny --memory-limit 0 "
        '--resources "cell=1 cpu=1 gpu=2"'
    )
    assert "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in line


def test_other_code_is_refused_naming_what_differs(monkeypatch):
    from benchbench.executors import dask as dask_executor

    head = {"version": "1.0", "commit": "a" * 40, "changes": ""}
    monkeypatch.setattr(environment, "code_identity", lambda: head)
    same = {"identity": dict(head)}
    dask_executor.check_identity({"a": same})  # nothing to refuse
    other = {"identity": {**head, "changes": "0123abcd"}}
    with pytest.raises(BenchbenchError) as caught:
        dask_executor.check_identity({"a": same, "b": other})
    message = str(caught.value)
    assert "b: benchbench 1.0 at commit aaaaaaaaaaaa with uncommitted changes 0123abcd" in message
    assert "a:" not in message and "--machines" in message


def test_the_probe_leaves_the_workers_environment_alone():
    before = dict(os.environ)
    environment.host_facts(threads=1)
    assert dict(os.environ) == before


# -- workers that die with their parent ----------------------------------------------------------


def spawn_from_a_thread(die_with_parent: bool) -> subprocess.Popen:
    """A sleeping child started by a thread that has ended, as a killed cluster worker's."""
    started = {}

    def start():
        cmd = [sys.executable, "-c", "import time; time.sleep(120)"]
        started["proc"] = spawn(cmd, dict(os.environ), die_with_parent=die_with_parent)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    return started["proc"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
# a preexec_fn means fork: JAX, if an earlier test imported it here, warns about that
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")
def test_a_cell_process_dies_with_the_thread_that_started_it():
    dies, lives = spawn_from_a_thread(True), spawn_from_a_thread(False)
    try:
        assert dies.wait(timeout=60) == -9
        time.sleep(0.5)
        assert lives.poll() is None  # without it, a child outlives the thread
    finally:
        for proc in (dies, lives):
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--python", "fake=/bin/sh"], "--python names interpreters of this machine"),
        (["--machine", "box"], "with --cluster each worker's name is its machine"),
    ],
)
def test_local_only_options_are_refused_with_cluster(capsys, tmp_path, option, words):
    from benchbench.cli import main

    args = ["run", "--cluster", "tcp://127.0.0.1:1", "--backend", "numpy", *option]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    assert words in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_cluster_run_is_not_resumed_as_a_local_one(capsys, tmp_path):
    from benchbench.cli import main

    run_dir = runner.new_run_dir(tmp_path, "a")
    runner.write_manifest(run_dir, manifest_for(run_dir))
    assert main(["run", "--resume", "--out", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "machine 'a''s part of a cluster run" in err and "--cluster SCHEDULER_ADDRESS" in err


def test_a_machine_without_the_runs_workload_file_is_refused(monkeypatch, tmp_path):
    from benchbench.executors import dask as dask_executor

    head = {"version": "1.0", "commit": "", "changes": ""}
    monkeypatch.setattr(environment, "code_identity", lambda: head)
    mine = tmp_path / "mine.py"
    mine.write_text("WORKLOAD = None\n")
    digest = environment.file_digest(str(mine))
    assert digest and environment.file_digest(str(tmp_path / "nope.py")) == ""
    same = {"identity": head, "files": {str(mine): digest}}
    dask_executor.check_identity({"a": same})
    facts = {
        "a": same,
        "b": {"identity": head, "files": {str(mine): ""}},
        "c": {"identity": head, "files": {str(mine): "0" * 12}},
    }
    with pytest.raises(BenchbenchError) as caught:
        dask_executor.check_identity(facts)
    message = str(caught.value)
    assert f"b: {mine} is missing" in message and f"c: {mine} differs" in message
    assert "a:" not in message
