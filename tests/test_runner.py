"""The runner: planning, process isolation (hang, crash, SIGKILL, flood), results on disk.

Uses the fake backends and workloads under tests/, so no framework is needed.
"""

from __future__ import annotations

import io
import json
import os
import threading

import pytest

from benchbench import planner, runner
from benchbench.errors import BenchbenchError
from benchbench.isolation import TailBuffer, WorkerOutcome, classify, execute, probe_backends
from benchbench.progress import ProgressView
from benchbench.results import (
    CellSpec,
    ResultsWarning,
    finished_cells,
    load_results,
    read_manifest,
    read_result,
    write_json_atomic,
)
from tests.fake_backends import ENV, TRIGGER_STEP

MISBEHAVING = ("fake", "hang", "crash", "sigkill", "flood", "cntk")
TIMEOUT = 4.0  # long enough for a tiny cell, short enough for the test


@pytest.fixture(scope="module")
def fakes():
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        yield


def run_plan(out, backends, workloads=("tiny",), timeout=TIMEOUT, repeats=1, machine="m"):
    options = planner.RunOptions(
        backends=tuple(backends),
        workloads=tuple(workloads),
        timeout=timeout,
        repeats=repeats,
        quick=True,
    )
    specs = planner.plan(options)
    run_dir = runner.new_run_dir(out, machine)
    manifest = runner.new_manifest(specs, machine, run_dir, ["test"], {})
    view = ProgressView(len(specs), stream=io.StringIO(), live=False)
    results, interrupted = runner.Runner(run_dir, manifest, {}, view).run()
    return run_dir, {r.spec.backend: r for r in results}, interrupted, view.stream.getvalue()


@pytest.fixture(scope="module")
def matrix(fakes, tmp_path_factory):
    """One run of every misbehaving backend on the tiny workload."""
    return run_plan(tmp_path_factory.mktemp("matrix"), MISBEHAVING)


# -- planning ------------------------------------------------------------------------------------


# -- how a worker's end is read ------------------------------------------------------------------


def outcome(returncode=0, payload=None, stderr="", timed_out=False):
    return WorkerOutcome(returncode, payload, "", stderr, timed_out, 1.0)


@pytest.mark.parametrize(
    ("result", "status", "words"),
    [
        (outcome(timed_out=True, returncode=-9), "timeout", "no result within 7 s"),
        (outcome(1, {"status": "failed", "reason": "ValueError: x"}), "failed", "ValueError: x"),
        (outcome(-9), "failed", "SIGKILL (out of memory?"),
        (outcome(-11), "failed", "SIGSEGV"),
        (outcome(3, stderr="a\nlast words\n"), "failed", "status 3 without a result. last words"),
        (outcome(None, stderr="cannot start /x: no such file"), "failed", "did not start"),
        (outcome(0, {"status": "ok"}), "ok", ""),
        (outcome(-6, {"status": "ok"}), "ok", "exited with -6 after writing its result"),
    ],
)
def test_classify(result, status, words):
    got_status, reason = classify(CellSpec("b", "w", timeout=7), result)
    assert got_status == status and words in reason


def test_an_interpreter_that_cannot_start(tmp_path):
    result = execute(CellSpec("fake", "tiny"), str(tmp_path / "python"), dict(os.environ))
    status, reason = classify(CellSpec("fake", "tiny"), result)
    assert status == "failed" and "did not start" in reason and "python" in reason


def test_tail_buffer_keeps_a_bounded_tail():
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    tail = TailBuffer(reader, limit=10_000)

    def write():
        with os.fdopen(write_fd, "wb") as w:
            for i in range(2000):
                w.write(f"{i:07d}\n".encode() * 64)
            w.write(b"THE END\n")

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    text = tail.text()
    assert text.endswith("THE END\n") and len(text) < 10_000 + 65536


# -- misbehaving workers -------------------------------------------------------------------------


def test_each_misbehaviour_is_recorded_with_its_reason(matrix):
    run_dir, by_backend, interrupted, _ = matrix
    assert not interrupted
    hang, crash, sigkill = by_backend["hang"], by_backend["crash"], by_backend["sigkill"]
    assert hang.status == "timeout" and f"within {TIMEOUT:g} s" in hang.reason
    assert crash.status == "failed" and crash.exit_code == 1
    assert crash.reason == f"RuntimeError: fake crash at step {TRIGGER_STEP}"
    assert "Traceback" in crash.stderr_tail
    assert sigkill.status == "failed" and sigkill.exit_code == -9 and "SIGKILL" in sigkill.reason
    cntk = by_backend["cntk"]
    assert cntk.status == "unavailable" and "cntk" in cntk.reason and "3.5/3.6" in cntk.reason
    assert runner.exit_code(list(by_backend.values()), False) == 1


def test_good_cells_are_intact_next_to_bad_ones(matrix):
    run_dir, by_backend, _, _ = matrix
    for name in ("fake", "flood"):
        result = by_backend[name]
        assert result.status == "ok", result.reason
        assert [e.epoch for e in result.epochs] == [0, 1]
        assert result.timing.first_epoch_time == result.epochs[0].train_time
        assert all(e.step_time_sum <= e.train_time for e in result.epochs)
        assert result.environment["fingerprint"] and result.environment["threads"] is None
        assert read_result(run_dir / f"{result.spec.cell_id}.json") == result


def test_flooding_worker_neither_blocks_nor_bloats(matrix):
    flood = matrix[1]["flood"]
    assert flood.status == "ok" and flood.stderr_tail == ""  # tails are kept for failures only


def test_manifest_records_every_cell(matrix):
    run_dir, by_backend, _, log = matrix
    manifest = read_manifest(run_dir)
    assert manifest.cells == {r.spec.cell_id: r.status for r in by_backend.values()}
    assert manifest.finished_at and not manifest.interrupted and manifest.argv == ["test"]
    assert manifest.environment["cpu_model"]
    assert "[1/6] fake × tiny (cpu): ok" in log


def test_readers_skip_corrupt_and_future_files(matrix, tmp_path):
    run_dir, by_backend, _, _ = matrix
    copy = tmp_path / "run"
    copy.mkdir()
    for result in by_backend.values():
        name = f"{result.spec.cell_id}.json"
        (copy / name).write_text((run_dir / name).read_text())
    (copy / "corrupt.json").write_text('{"schema_version": 1, "spec": ')
    future = json.loads((copy / "tiny--fake--cpu--r0.json").read_text())
    write_json_atomic(copy / "future.json", {**future, "schema_version": 99})
    with pytest.warns(ResultsWarning) as caught:
        loaded = load_results([copy])
    assert len(loaded) == len(by_backend)
    messages = " ".join(str(w.message) for w in caught)
    assert "corrupt.json" in messages and "schema_version 99" in messages


# -- cells that need no worker -------------------------------------------------------------------


def test_known_unavailability_skips_the_worker(fakes, tmp_path):
    _, _, _, log = run_plan(tmp_path, ["cntk", "fake"], workloads=("nodata", "tiny"))
    results = load_results([tmp_path])
    by_cell = {(r.spec.workload, r.spec.backend): r for r in results}
    assert by_cell[("nodata", "fake")].status == "skipped"
    # CNTK's probe says it cannot run: unavailable for every workload, even one without data,
    # and no worker is started to find out
    for workload in ("nodata", "tiny"):
        cntk = by_cell[(workload, "cntk")]
        assert cntk.status == "unavailable" and "3.5/3.6" in cntk.reason
        assert cntk.wall_time is None
    assert by_cell[("tiny", "fake")].status == "ok"
    assert runner.exit_code(results, False) == 0


def test_finished_cells_ignore_interrupted_and_unreadable(matrix, tmp_path):
    run_dir, by_backend, _, _ = matrix
    done = finished_cells(run_dir)
    assert set(done) == {r.spec.cell_id for r in by_backend.values()}
    (tmp_path / "x.json").write_text("not json")
    assert finished_cells(tmp_path) == {}


def test_find_run_dir(tmp_path):
    with pytest.raises(BenchbenchError, match="no run to resume"):
        runner.find_run_dir(tmp_path, "m")
    older, newer = tmp_path / "m" / "20260101-000000", tmp_path / "m" / "20260102-000000"
    for d in (older, newer):
        d.mkdir(parents=True)
        (d / "manifest.json").write_text("{}")
    assert runner.find_run_dir(tmp_path, "m") == newer
    assert runner.find_run_dir(older, "m") == older


def test_new_run_dirs_never_collide(tmp_path):
    dirs = {runner.new_run_dir(tmp_path, "m") for _ in range(3)}
    assert len(dirs) == 3


def test_probe_backends_in_child_processes(fakes):
    probes = probe_backends(["cntk", "broken", "fake"])
    assert probes["fake"]["available"] is True
    assert probes["broken"]["available"] is False
    assert probes["cntk"]["available"] is False and "Python" in probes["cntk"]["reason"]
    assert "3.5/3.6" in probes["cntk"]["remedy"]
