"""The worker (one cell in this process or a child) and the timing callback; no framework."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from benchbench import Sequential, environment, worker
from benchbench.isolation import worker_env
from benchbench.layers import Dense, Embedding, GlobalAveragePooling1D
from benchbench.progress import ProgressWriter
from benchbench.results import CellSpec, EpochRecord
from benchbench.timing import TimingCallback
from benchbench.workloads import Profile
from tests.fake_backends import ENV, TRIGGER_STEP
from tests.fake_workloads.tiny import WORKLOAD


@pytest.fixture
def fakes(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


# -- the timing callback -------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def drive_epoch(timer, clock, epoch, step_durations, val_duration=None, gap=0.5):
    """Calls the hooks as the fit loop does, advancing the fake clock."""
    timer.on_epoch_begin(epoch, {})
    for b, duration in enumerate(step_durations):
        timer.on_train_batch_begin(b, {})
        clock.t += duration
        timer.on_train_batch_end(b, {"loss": 1.0})
    clock.t += gap
    logs = {"loss": 0.5, "accuracy": 0.8}
    if val_duration is not None:
        timer.on_validation_begin(epoch, logs)
        clock.t += val_duration
        logs = {**logs, "val_loss": 0.6, "val_accuracy": 0.7}
    timer.on_epoch_end(epoch, logs)


def test_timing_excludes_validation_and_separates_first_epoch():
    clock = FakeClock()
    timer = TimingCallback(clock)
    timer.on_train_begin({"samples": 100, "epochs": 3})
    drive_epoch(timer, clock, 0, [5.0, 1.0], val_duration=2.0)
    drive_epoch(timer, clock, 1, [1.0, 2.0], val_duration=2.0)
    drive_epoch(timer, clock, 2, [1.0, 4.0], val_duration=2.0)
    first, second, _ = timer.epochs
    assert first == EpochRecord(
        epoch=0,
        train_time=6.5,
        val_time=2.0,
        loss=0.5,
        accuracy=0.8,
        val_loss=0.6,
        val_accuracy=0.7,
        steps=2,
        step_time_sum=6.0,
    )
    assert second.train_time == 3.5
    timing = timer.timing(setup_time=1.25)
    assert timing.first_epoch_time == 6.5
    assert timing.steady_epoch_times == [3.5, 5.5]
    assert timing.epoch_time == 4.5
    assert timing.step_time_median == 1.5  # steps of epochs 2 and 3 only: 1, 2, 1, 4
    assert timing.step_time_p90 == pytest.approx(3.4)
    assert timing.throughput == pytest.approx(100 / 4.5)
    assert timing.setup_time == 1.25 and timing.samples_per_epoch == 100


def test_timing_single_epoch_without_validation():
    clock = FakeClock()
    timer = TimingCallback(clock)
    timer.on_train_begin({"samples": 10})
    drive_epoch(timer, clock, 0, [9.0, 1.0, 3.0])
    assert timer.epochs[0].val_time is None and timer.epochs[0].train_time == 13.5
    timing = timer.timing(0.0)
    assert timing.steady_epoch_times == [] and timing.epoch_time == 13.5
    assert timing.step_time_median == 2.0  # the first (compiling) step is left out


def test_a_hook_covering_several_steps_records_each_an_equal_share():
    clock = FakeClock()
    timer = TimingCallback(clock)
    timer.on_train_begin({"samples": 10})
    timer.on_epoch_begin(0, {})
    for first, last, duration in ((0, 3, 8.0), (4, 4, 1.0)):  # steps_per_execution=4, 5 steps
        timer.on_train_batch_begin(first, {})
        clock.t += duration
        timer.on_train_batch_end(last, {"loss": 1.0, "steps_in_batch": last - first + 1})
    timer.on_epoch_end(0, {"loss": 1.0})
    assert timer.epochs[0].steps == 5 and timer.step_times[0] == [2.0, 2.0, 2.0, 2.0, 1.0]


def test_timing_of_nothing_raises():
    with pytest.raises(ValueError, match="zero epochs"):
        TimingCallback().timing(0.0)


def test_timing_callback_asks_for_device_sync():
    assert TimingCallback.needs_sync is True


# -- data plumbing -------------------------------------------------------------------------------


class _Data:
    def __init__(self, n):
        self.x_train = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
        self.y_train = np.arange(n) % 3
        self.x_test, self.y_test = self.x_train[:5], self.y_train[:5]


def test_fit_arrays_cuts_reshapes_and_encodes(fakes):
    wl = dataclasses.replace(WORKLOAD, input_shape=(2, 2))
    x, y, xt, yt = worker.fit_arrays(wl, Profile(1, train_samples=7, test_samples=3), _Data(10))
    assert x.shape == (7, 2, 2) and xt.shape == (3, 2, 2)
    assert y.shape == (7, 3) and y[1].tolist() == [0, 1, 0]
    sparse = dataclasses.replace(wl, loss="sparse_categorical_crossentropy")
    assert worker.labels_for(sparse, y).tolist() == [0, 1, 2, 0, 1, 2, 0]


# -- a cell in this process ----------------------------------------------------------------------


def test_run_cell_records_epochs_timing_memory(fakes, tmp_path):
    progress = tmp_path / "progress.json"
    payload = worker.run_cell(
        CellSpec(backend="fake", workload="tiny", epochs=3, batch_size=64), str(progress)
    )
    assert payload["status"] == "ok"
    epochs = [EpochRecord.from_dict(e) for e in payload["epochs"]]
    assert [e.epoch for e in epochs] == [0, 1, 2]
    for e in epochs:
        assert e.steps == 4 and 0 < e.step_time_sum <= e.train_time
        assert e.val_time is not None and e.val_accuracy is not None
    timing = payload["timing"]
    assert timing["first_epoch_time"] == epochs[0].train_time
    assert timing["steady_epoch_times"] == [epochs[1].train_time, epochs[2].train_time]
    assert timing["samples_per_epoch"] == 256 and timing["setup_time"] > 0
    assert payload["memory"]["peak_host_bytes"] > 0
    assert payload["memory"]["peak_gpu_bytes"] is None
    assert payload["backend_info"]["engine"] == "fake-numpy"
    assert payload["backend_info"]["rnn_path"] == "auto"  # the recurrent path it would take
    assert payload["backend_info"]["fused_rnn_in_use"] == ["gru", "lstm", "simple_rnn"]
    info = payload["workload_info"]
    assert (info["epochs"], info["batch_size"], info["profile"]) == (3, 64, "default")
    assert json.loads(progress.read_text())["epoch"] == 3


def _token_workload():
    """Token ids into an Embedding: int32 from the synthetic data to the adapter."""

    def build():
        return Sequential(
            [
                Embedding(30, 4, input_length=5),
                GlobalAveragePooling1D(),
                Dense(2, activation="softmax"),
            ]
        )

    return dataclasses.replace(
        WORKLOAD,
        name="tokens",
        dataset="digits",
        input_shape=(5,),
        num_classes=2,
        build=build,
        params=30 * 4 + 4 * 2 + 2,
        quick=Profile(epochs=2, train_samples=64, test_samples=32),
        data=None,
        vocabulary=30,
    )


def test_token_ids_flow_through_the_worker(reference):
    # every adapter takes int32 ids: test_recurrent_equivalence.py trains on them
    backend = reference
    workload = _token_workload()
    spec = CellSpec(backend=backend.name, workload="tokens", quick=True, synthetic=True)
    data = worker.load_data(workload, spec)
    assert data.x_train.dtype == np.int32 and 0 <= data.x_train.min() <= data.x_train.max() < 30
    payload = worker.train(spec, backend, workload, ProgressWriter(None), 0)
    assert payload["status"] == "ok" and len(payload["epochs"]) == 2
    assert payload["workload_info"]["vocabulary"] == 30
    assert payload["workload_info"]["params_counted"] == workload.params


@pytest.mark.parametrize(
    ("spec", "status", "scope", "words"),
    [
        (CellSpec("cntk", "tiny"), "unavailable", "backend", "cntk"),
        (CellSpec("broken", "tiny"), "unavailable", "backend", "not_a_framework"),
        (CellSpec("fake", "tiny", device="gpu"), "skipped", "device", "CPU only"),
        (CellSpec("fake", "nodata"), "skipped", "data", "not on this machine"),
    ],
)
def test_run_cell_that_cannot_run(fakes, spec, status, scope, words):
    payload = worker.run_cell(spec)
    assert (payload["status"], payload["scope"]) == (status, scope)
    assert words in payload["reason"]


def test_probe_survives_a_broken_adapter(fakes):
    info = worker.probe("broken")
    assert info["available"] is False and "ModuleNotFoundError" in info["reason"]
    assert worker.probe("fake")["available"] is True


def test_peak_host_memory_is_positive():
    assert worker.peak_host_bytes() > 1024**2


# -- the worker as a process ---------------------------------------------------------------------


def run_worker(spec: CellSpec, tmp_path):
    spec_path, result = tmp_path / "spec.json", tmp_path / "result.json"
    spec_path.write_text(json.dumps(spec.to_dict()))
    proc = subprocess.run(
        [sys.executable, "-m", "benchbench.worker", str(spec_path), str(result)],
        env=worker_env(spec),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, json.loads(result.read_text()) if result.exists() else None


def test_worker_process_reports_an_exception(fakes, tmp_path):
    proc, payload = run_worker(CellSpec("crash", "tiny"), tmp_path)
    assert proc.returncode == 1
    assert payload == {
        "status": "failed",
        "reason": f"RuntimeError: fake crash at step {TRIGGER_STEP}",
    }
    assert "Traceback" in proc.stderr


def test_worker_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "benchbench.worker"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "SPEC_JSON RESULT_JSON" in proc.stderr


def test_worker_imports_neither_reporting_stack_nor_frameworks(fakes):
    code = (
        "import sys\n"
        "from benchbench import worker\n"
        "from benchbench.results import CellSpec\n"
        "assert worker.run_cell(CellSpec('fake', 'tiny'))['status'] == 'ok'\n"
        "heavy = ('pandas', 'matplotlib', 'torch', 'tensorflow', 'jax', 'pytensor')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_env(CellSpec("fake", "tiny")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(len(environment.allowed_cpus()) < 2, reason="needs two CPUs to pin to one")
def test_worker_pins_itself_to_its_thread_count():
    code = "from benchbench.worker import pin_cpus; print(len(pin_cpus(1)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "1"
