"""TensorFlow adapter specifics: tracing, device errors, XLA option, rng, probing."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import backends.tensorflow as tf_backend  # noqa: E402
from benchbench import Sequential  # noqa: E402
from benchbench.errors import DeviceUnavailable  # noqa: E402
from benchbench.layers import Dense, Dropout  # noqa: E402
from benchbench.optimizers import Adam  # noqa: E402
from tests.conftest import load_backend  # noqa: E402


@pytest.fixture
def K():
    return load_backend("tensorflow")


def _model(K, dropout=0.0):
    model = Sequential(
        [
            Dense(16, activation="relu", input_dim=8),
            Dropout(dropout),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        backend=K,
    )
    return model


def _data(n=100):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 8)).astype(np.float32), rng.integers(0, 3, n)


def _count_traces(model):
    """Wraps the model's forward so each trace (Python run of it) is counted."""
    calls = {"n": 0}
    forward = model.forward

    def counted(*args, **kwargs):
        calls["n"] += 1
        return forward(*args, **kwargs)

    model.forward = counted
    return calls


def test_steps_trace_once_including_a_smaller_last_batch(K):
    model = _model(K)
    calls = _count_traces(model)
    x, y = _data(100)  # batches of 32, 32, 32, 4
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert calls["n"] == 1
    assert model.train_step().tracing_count == 1
    model.evaluate(x, y, batch_size=32)
    model.predict(x, batch_size=32)
    model.evaluate(x[:7], y[:7])
    assert calls["n"] == 3  # one trace each for the train, test and predict steps
    assert model.test_step().tracing_count == model.predict_step().tracing_count == 1


def test_train_step_returns_python_floats(K):
    model = _model(K)
    x, y = _data(32)
    loss, metric = model.train_step()(x, y.astype(np.int32))
    assert type(loss) is float and type(metric) is float


def test_gpu_absent_raises_device_unavailable():
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible here")
    with pytest.raises(DeviceUnavailable) as err:
        tf_backend.Backend(device="gpu")
    message = str(err.value)
    assert "sees no GPU" in message and "benchbench[tensorflow-gpu]" in message


def test_unknown_device_raises(K):
    with pytest.raises(DeviceUnavailable):
        tf_backend.Backend(device="tpu")


def test_jit_is_off_by_default_and_reported(K, monkeypatch):
    monkeypatch.delenv("BENCHBENCH_TF_JIT", raising=False)
    info = tf_backend.Backend().info()
    assert info["jit_compile"] is False
    assert {"engine", "version", "device", "device_name", "threads"} <= set(info)
    assert info["engine"] == "tensorflow" and info["version"] == tf.__version__


def test_jit_option_compiles_with_xla_and_agrees(monkeypatch):
    monkeypatch.setenv("BENCHBENCH_TF_JIT", "1")
    jit = tf_backend.Backend()
    assert jit.info()["jit_compile"] is True
    monkeypatch.delenv("BENCHBENCH_TF_JIT")
    plain = tf_backend.Backend()
    x, y = _data(100)
    losses = []
    for K in (jit, plain):
        model = _model(K)
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
        step = model.train_step()
        assert step.jit_compile is (K is jit)
        xla = [cf.function_def.attr["_XlaMustCompile"].b for _, cf in step._functions.values()]
        assert xla == [K is jit]
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


def test_rules_written_with_assigns_are_fused_by_xla_the_kernel_ones_are_not():
    from backends.tensorflow.optim import fused_update
    from benchbench.optimizers import SGD, Adagrad, RMSprop

    for optimizer in (Adam(), RMSprop()):  # a dozen elementwise kernels: one XLA pass
        update = fused_update(optimizer)
        assert getattr(update, "_jit_compile", None) is True, type(optimizer).__name__
    for optimizer in (SGD(), Adagrad()):  # one ResourceApply* kernel already
        assert not hasattr(fused_update(optimizer), "_jit_compile")


def test_dropout_rng_is_stateless_per_step_and_layer(K):
    assert not K.capabilities.stateful_rng
    x = np.ones((64, 64), dtype=np.float32)

    def mask(step, layer):
        return K.evaluate(lambda t: K.dropout(t, 0.5, K.fold_rng(K.step_rng(step), layer)), x)

    np.testing.assert_array_equal(mask(3, 1), mask(3, 1))
    assert not np.array_equal(mask(3, 1), mask(4, 1))
    assert not np.array_equal(mask(3, 1), mask(3, 2))


def test_dropout_in_training_is_reproducible(K):
    x, y = _data(64)
    runs = []
    for rate in (0.5, 0.5, 0.0):
        step = _model(K, dropout=rate).train_step()
        runs.append([step(x, y.astype(np.int32))[0] for _ in range(3)])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_setting_threads_after_start_warns(K):
    current = tf.config.threading.get_intra_op_parallelism_threads()
    with pytest.warns(RuntimeWarning, match="cannot set"):
        tf_backend.Backend(threads=current + 3)


def test_probe_reports_available_with_version():
    info = tf_backend.probe()
    assert info.available and info.engine == "tensorflow"
    assert info.version == tf.__version__
    assert info.devices == ("cpu", "gpu")


def test_probe_without_tensorflow_names_the_extra(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorflow" else find_spec(name, *a),
    )
    info = tf_backend.probe()
    assert not info.available
    assert "pip install 'benchbench[tensorflow]'" in info.remedy


_FRESH = """
import json, sys
from benchbench import registry
info = registry.probe("tensorflow")
imported = "tensorflow" in sys.modules
K = registry.get_backend("tensorflow", threads=1)
print(json.dumps({"available": info.available, "imported_by_probe": imported,
                  "info": K.info()}))
"""


def test_probe_does_not_import_tensorflow_and_threads_apply():
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", _FRESH],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=root,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["available"] and not result["imported_by_probe"]
    assert result["info"]["threads"] == 1 and result["info"]["inter_op_threads"] == 1
