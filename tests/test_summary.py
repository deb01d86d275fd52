"""What the terminal says: the live progress line (compiling, waiting) and the summary table
(at most 100 columns, noisy cells marked, each reason once)."""

from __future__ import annotations

import dataclasses
import io
import json

from benchbench.backend import Capabilities
from benchbench.interference import Interference, QuietWait
from benchbench.progress import ProgressView, ProgressWriter, describe_state
from benchbench.summary import WIDTH, counts, outcome, summary_table
from tests.report_fixtures import MNIST1D_CNN, MNIST_MLP, make_result


def test_the_summary_fits_100_columns_and_says_each_reason_once():
    long_reason = "dataset 'mnist' is not on this machine: put it in ~/.keras/datasets" + " x" * 90
    results = [
        make_result("keras3:tensorflow", MNIST1D_CNN, repeat=r, epoch_time=0.0781)
        for r in range(3)
    ]
    results += [make_result("torch", MNIST1D_CNN, repeat=r, noisy=r == 1) for r in range(3)]
    for backend in ("tensorflow", "theano", "torch", "jax", "numpy"):
        for r in range(3):
            results.append(
                make_result(backend, MNIST_MLP, repeat=r, status="skipped", reason=long_reason)
            )
    text = summary_table(results)
    lines = text.splitlines()
    assert all(len(line) <= WIDTH for line in lines), max(lines, key=len)
    assert text.count("dataset 'mnist'") == 1  # 15 skipped cells, one reason
    torch = next(line for line in lines if line.startswith("mnist1d_cnn  torch"))
    assert "3/3" in torch and "noisy r1" in torch
    assert "mnist1d_cnn torch r1: others used 45% of its 2 CPUs" in text
    skipped = next(line for line in lines if line.startswith("mnist_mlp    theano"))
    assert "0/3" in skipped and "skipped [1]" in skipped


def test_a_finished_noisy_cell_says_so_with_its_share():
    result = make_result("torch", MNIST_MLP, noisy=True)
    assert outcome(result).endswith("; NOISY: others used 45% of 2 CPUs")
    assert counts([result]) == "1 cell: 1 ok, 1 noisy"


def test_a_cell_that_gave_up_waiting_says_so():
    wait = QuietWait(limit=30, waited=30.2, gave_up=True, others_cpu=0.9)
    measured = Interference(1.0, (0,), 0.0, 0.0, 1.0, 0.02, quiet_wait=wait)
    result = dataclasses.replace(make_result("torch", MNIST_MLP), interference=measured)
    assert "gave up waiting for a quiet machine after 30 s (others used 90%)" in outcome(result)


def test_progress_says_compiling_during_the_first_step_of_a_compiled_backend(tmp_path):
    class Backend:
        capabilities = Capabilities(compiled_step=True)

    class Model:
        backend = Backend()

    path = tmp_path / "progress.json"
    writer = ProgressWriter(path)
    writer.set_model(Model())
    writer.on_train_begin({"epochs": 200, "steps": 40})
    writer.on_epoch_begin(0, {})
    writer.on_train_batch_begin(0, {})
    state = json.loads(path.read_text())
    assert describe_state(state) == "epoch 1/200 compiling the train step"
    writer.on_train_batch_end(0, {})
    assert describe_state(json.loads(path.read_text())) == "epoch 1/200 step 1/40"
    writer.on_validation_begin(0, {})
    assert describe_state(json.loads(path.read_text())) == "epoch 1/200 compiling validation"


def test_an_eager_backend_never_shows_compiling(tmp_path):
    class Model:
        backend = type("B", (), {"capabilities": Capabilities(compiled_step=False)})()

    path = tmp_path / "progress.json"
    writer = ProgressWriter(path)
    writer.set_model(Model())
    writer.on_train_begin({"epochs": 2, "steps": 4})
    writer.on_epoch_begin(0, {})
    writer.on_train_batch_begin(0, {})
    assert json.loads(path.read_text())["phase"] == "train"


def test_the_live_line_while_waiting_for_a_quiet_machine():
    state = {"phase": "waiting", "others_cpu": 0.85, "waited": 12.0, "limit": 60}
    assert describe_state(state) == (
        "waiting for a quiet machine: others use 85% of its CPUs (12s of 60s)"
    )
    view = ProgressView(3, stream=io.StringIO(), live=True)
    view.start(1, make_result("torch", MNIST_MLP).spec, 2)
    view.update(state)
    assert "waiting for a quiet machine" in view.stream.getvalue()


def test_a_degraded_backend_is_noted_once_with_its_reason():
    reason = "no BLAS linked: PyTensor runs matrix products through NumPy from Python"
    results = []
    for repeat in range(2):
        cell = make_result("theano", MNIST_MLP, repeat=repeat)
        results.append(
            dataclasses.replace(cell, backend_info={**cell.backend_info, "degraded": reason})
        )
    results.append(make_result("torch", MNIST_MLP))
    text = summary_table(results)
    theano = next(line for line in text.splitlines() if line.startswith("mnist_mlp  theano"))
    assert "degraded [1]" in theano
    assert text.count(f"[1] degraded: {reason}") == 1
    assert "DEGRADED: no BLAS linked" in outcome(results[0])
    assert "DEGRADED" not in outcome(results[2])
