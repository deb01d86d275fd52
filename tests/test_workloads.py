"""The standard workloads: discovered, built with their published sizes, quick profiles train."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json

import numpy as np
import pytest

from benchbench import datasets
from benchbench.errors import UnknownNameError
from benchbench.workloads import discover, get

NAMES = [
    "addition_rnn",
    "cifar10_cnn",
    "digits_mlp",
    "imdb_bilstm",
    "imdb_fasttext",
    "lstm_text_generation",
    "mnist1d_cnn",
    "mnist1d_gru",
    "mnist1d_mlp",
    "mnist_cnn",
    "mnist_mlp",
]
LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")

#: Test accuracy each quick profile must reach on every backend (chance is 0.10). The NumPy
#: reference reaches about 0.43 (mnist1d_cnn) and 0.90 (digits_mlp); the same weights and batches
#: give nearly the same numbers on every backend.
QUICK_ACCURACY = {"mnist1d_cnn": 0.30, "digits_mlp": 0.80}


@pytest.fixture
def mnist1d_cache(tmp_path_factory, monkeypatch):
    """One MNIST-1D cache per test session, shared with test_datasets (same base temp)."""
    path = tmp_path_factory.getbasetemp() / "benchbench-cache"
    monkeypatch.setenv("BENCHBENCH_CACHE", str(path))
    return path


def test_every_standard_workload_is_discovered():
    found = discover("workloads")
    assert sorted(found) == NAMES
    for name, workload in found.items():
        assert workload.dataset in datasets.DATASETS, name


def test_unknown_workload_lists_the_available_ones():
    with pytest.raises(UnknownNameError) as info:
        get("mnist_rnn")
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", NAMES)
def test_workload_settings_are_complete_plain_data(name):
    workload = get(name)
    json.dumps(workload.summary())
    assert workload.quick.epochs <= workload.default.epochs
    assert workload.reference is not None and workload.reference.source
    assert 0.0 < workload.reference.low < workload.reference.high
    if workload.quality == "val_accuracy":
        assert workload.reference.high <= 1.0
    assert workload.loss in LOSSES


@pytest.mark.parametrize("name", NAMES)
def test_optimizer_gives_every_argument_explicitly(name):
    workload = get(name)
    optimizer = workload.optimizer()
    tree = ast.parse(inspect.getsource(workload.optimizer))
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call))
    given = {keyword.arg for keyword in call.keywords}
    assert given == {field.name for field in dataclasses.fields(optimizer)}


@pytest.mark.parametrize("name", NAMES)
def test_workload_builds_on_every_backend_with_its_published_size(name, backend):
    workload = get(name)
    model = workload.build()
    assert model.count_params() == workload.params
    assert model.input.shape == workload.input_shape
    if workload.loss == "binary_crossentropy":  # one sigmoid unit for two classes
        assert (workload.num_classes, model.output.shape) == (2, (1,))
    else:
        assert model.output.shape == (*workload.label_shape, workload.num_classes)
    model.compile(optimizer=workload.optimizer(), loss=workload.loss, backend=backend)
    assert sum(w.size for w in model.get_weights()) == workload.params


def test_mnist1d_cnn_reproduces_the_reference_lengths():
    # 'same' padding with stride 2 gives 40 -> 20 -> 10 -> 5: the reference's flatten size of 125.
    text = get("mnist1d_cnn").build().summary_text()
    for shape in ("(None, 20, 25)", "(None, 10, 25)", "(None, 5, 25)", "(None, 125)"):
        assert shape in text


@pytest.mark.parametrize("name", sorted(QUICK_ACCURACY))
def test_quick_profile_trains_on_every_backend(name, backend, mnist1d_cache):
    workload = get(name)
    data = datasets.prepare(workload, quick=True)
    model = workload.build()
    model.compile(
        optimizer=workload.optimizer(), loss=workload.loss, metrics=["accuracy"], backend=backend
    )
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=workload.batch_size,
        epochs=workload.quick.epochs,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()
    _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=500)
    assert accuracy >= QUICK_ACCURACY[name]
