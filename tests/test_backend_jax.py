"""JAX-specific behaviour of the JAX adapter: compilation, explicit randomness, devices, probe.

The ops and model-level equivalence are covered for every backend by test_ops.py and
test_equivalence.py; this file checks what only the JAX adapter does.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import backends.jax as jax_adapter  # noqa: E402
from benchbench import Sequential, registry  # noqa: E402
from benchbench.errors import DeviceUnavailable  # noqa: E402
from benchbench.layers import Dense, Dropout  # noqa: E402
from benchbench.optimizers import SGD, Adam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def K():
    return registry.get_backend("jax", device="cpu", seed=0)


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


def _mlp(dropout: float = 0.0):
    layers = [Dense(32, activation="relu", input_dim=64)]
    if dropout:
        layers += [Dropout(dropout), Dense(32, activation="relu"), Dropout(dropout)]
    return Sequential([*layers, Dense(10, activation="softmax")])


# -- probe and selection -------------------------------------------------------------------------


def test_probe_reports_jax_without_importing_it():
    code = (
        "import sys, backends.jax as b; info = b.probe(); "
        "print(info.available, info.version, info.engine, 'jax' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", importlib.metadata.version("jax"), "jax", "False"]


def test_probe_without_jax_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "jax" else real(name, *args),
    )
    info = jax_adapter.probe()
    assert not info.available
    assert "not installed" in info.reason
    assert "pip install 'benchbench[jax]'" in info.remedy


def test_capabilities_say_compiled_with_explicit_rng(K):
    caps = K.capabilities
    assert caps.compiled_step and not caps.stateful_rng
    assert caps.devices == ("cpu", "gpu") and caps.engine == "jax"


def test_info_records_engine_device_and_threads(K):
    info = K.info()
    assert info["engine"] == "jax" and info["version"] == jax.__version__
    assert info["device"] == "cpu" and info["device_name"]
    assert isinstance(info["threads"], int) and info["threads"] >= 1


def test_gpu_absent_raises_device_unavailable():
    try:
        has_gpu = bool(jax.devices("gpu"))
    except RuntimeError:
        has_gpu = False
    if has_gpu:
        pytest.skip("this machine has a GPU that JAX can use")
    with pytest.raises(DeviceUnavailable, match="no GPU"):
        registry.get_backend("jax", device="gpu")


def test_unknown_device_raises_device_unavailable():
    with pytest.raises(DeviceUnavailable, match="expected 'cpu' or 'gpu'"):
        registry.get_backend("jax", device="tpu")


def test_threads_size_the_pool_before_jax_starts():
    code = (
        "import os; os.environ.pop('PJRT_NPROC', None); os.environ.pop('NPROC', None); "
        "from benchbench import registry; K = registry.get_backend('jax', threads=1); "
        "print(os.environ['PJRT_NPROC'], K.info()['threads'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "1"]


def test_threads_after_jax_started_warn(K):
    K.convert(np.zeros(1))  # the CPU client exists now
    with pytest.warns(RuntimeWarning, match="not applied"):
        other = registry.get_backend("jax", threads=1)
    assert other.info()["threads_requested"] == 1


# -- compilation and state -----------------------------------------------------------------------


def test_train_step_compiles_once_per_batch_shape(K):
    x, y = _data(100)  # 3 full batches of 32 and one of 4 per epoch
    model = _mlp()
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        backend=K,
    )
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert model.train_step().traces == 2
    model.evaluate(x, y, batch_size=32)
    model.evaluate(x, y, batch_size=32)
    model.predict(x, batch_size=50)
    assert model.test_step().traces == 2
    assert model.predict_step().traces == 1


def test_weights_are_read_and_written_through_the_variables(K):
    x, y = _data(64)
    model = _mlp()
    model.compile(optimizer=SGD(learning_rate=0.1), loss="categorical_crossentropy", backend=K)
    start = model.get_weights()
    step = model.train_step()
    first = step(x[:32], y[:32])
    after_one = model.get_weights()
    snapshot = [w.copy() for w in after_one]
    step(x[32:], y[32:])  # donates the buffers that after_one was read from
    assert not np.array_equal(after_one[0], start[0])
    assert not np.array_equal(model.get_weights()[0], after_one[0])
    for got, kept in zip(after_one, snapshot, strict=True):
        np.testing.assert_array_equal(got, kept)
    model.set_weights(start)  # set_value between steps is honoured by the next step
    assert step(x[:32], y[:32]) == pytest.approx(first, rel=1e-6)
    K.synchronize()


def test_value_and_grad_returns_float32_numpy(K):
    value, grads = K.value_and_grad(
        lambda a, b: K.sum(K.multiply(a, b)),
        np.ones((2, 3), np.float32),
        np.full((2, 3), 2, np.float32),
    )
    assert value == 12.0
    assert all(isinstance(g, np.ndarray) and g.dtype == np.float32 for g in grads)
    np.testing.assert_array_equal(grads[0], 2.0)


# -- randomness ----------------------------------------------------------------------------------


def _mask(K, rng):
    return K.evaluate(lambda t: K.dropout(t, 0.5, rng), np.ones((64, 64), np.float32)) != 0


def test_dropout_masks_differ_per_step_and_per_layer(K):
    rng = K.step_rng(0)
    assert not np.array_equal(_mask(K, rng), _mask(K, K.step_rng(1)))
    assert not np.array_equal(_mask(K, K.fold_rng(rng, 1)), _mask(K, K.fold_rng(rng, 2)))
    np.testing.assert_array_equal(_mask(K, rng), _mask(K, K.step_rng(0)))


def test_dropout_masks_follow_the_seed(K):
    same = registry.get_backend("jax", seed=0)
    other = registry.get_backend("jax", seed=1)
    np.testing.assert_array_equal(_mask(K, K.step_rng(3)), _mask(same, same.step_rng(3)))
    assert not np.array_equal(_mask(K, K.step_rng(3)), _mask(other, other.step_rng(3)))


def _dropout_losses(seed, steps=4):
    x, y = _data(32)
    model = _mlp(dropout=0.5)
    model.compile(
        optimizer=SGD(learning_rate=0.0),
        loss="categorical_crossentropy",
        backend=registry.get_backend("jax", seed=seed),
    )
    step = model.train_step()
    losses = [step(x, y)[0] for _ in range(steps)]  # lr 0: only the masks change
    return losses, step.traces, model.evaluate(x, y)


def test_training_dropout_is_new_each_step_and_reproducible():
    losses, traces, evaluated = _dropout_losses(seed=0)
    assert len(set(losses)) == len(losses)  # a new mask every step...
    assert traces == 1  # ...without recompiling
    again, _, evaluated_again = _dropout_losses(seed=0)
    assert again == losses and evaluated_again == evaluated
    assert _dropout_losses(seed=1)[0] != losses


@pytest.mark.parametrize(("given", "expected"), [(None, "false"), ("true", "true")])
def test_gpu_preallocation_is_off_unless_the_user_chose(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
    if given is not None:
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = given
    code = "import os, backends.jax; print(os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == expected
