"""The 'theano' adapter's own promises: the engine it reports, CPU only, fresh dropout masks per
step, a configurable compile cache, and one compiled function for every batch size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The adapter's engine module rather than pytensor itself: it sets the compile-cache flags
# ($BENCHBENCH_PYTENSOR_COMPILEDIR) before importing PyTensor, which reads them only once.
pytest.importorskip("backends.theano.engine")

from benchbench import Sequential, registry  # noqa: E402
from benchbench.errors import DeviceUnavailable  # noqa: E402
from benchbench.layers import Dense, Dropout  # noqa: E402
from benchbench.optimizers import SGD  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def K():
    return registry.get_backend("theano", device="cpu", seed=0)


def _python(code: str, **env) -> str:
    """Runs `code` in a fresh interpreter (flags are read when the engine is imported)."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTENSOR_FLAGS", "THEANO_FLAGS", "BENCHBENCH_PYTENSOR_COMPILEDIR")
    }
    full_env.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_reports_the_engine_that_runs(K):
    info = K.info()
    assert info["engine"] in ("pytensor", "theano")
    assert K.capabilities.engine == info["engine"]
    assert info["version"]
    assert K.capabilities.compiled_step and K.capabilities.stateful_rng
    if info["engine"] == "pytensor":
        assert "PyTensor" in info["served_by"]
        assert "CVM" in info["mode"] or os.environ.get("BENCHBENCH_PYTENSOR_MODE")


def test_probe_does_not_import_the_engine():
    code = (
        "import sys, json; from benchbench import registry; info = registry.probe('theano');"
        "print(json.dumps([info.available, info.engine, 'pytensor' in sys.modules]))"
    )
    available, engine, imported = json.loads(_python(code))
    assert available and engine in ("theano", "pytensor")
    assert not imported


def test_gpu_is_unavailable_with_the_reason(K):
    if K.info()["engine"] != "pytensor":
        pytest.skip("legacy Theano may have a GPU")
    with pytest.raises(DeviceUnavailable, match="no GPU backend"):
        registry.get_backend("theano", device="gpu")


def test_compiledir_comes_from_the_environment(tmp_path):
    code = (
        "import json; from benchbench import registry;"
        "print(json.dumps(registry.get_backend('theano').info()))"
    )
    info = json.loads(_python(code, BENCHBENCH_PYTENSOR_COMPILEDIR=str(tmp_path)))
    assert info["base_compiledir"] == str(tmp_path)
    assert info["compiledir"].startswith(str(tmp_path))
    assert Path(info["compiledir"]).is_dir()


_TRAIN_ONCE = """
import json, numpy as np
from benchbench import Sequential, registry
from benchbench.layers import Conv2D, Dense, Flatten, MaxPooling2D
K = registry.get_backend("theano", seed=0)
model = Sequential([Conv2D(2, (3, 3), activation="relu", input_shape=(6, 6, 1)),
                    MaxPooling2D(), Flatten(), Dense(3, activation="softmax")])
model.compile("rmsprop", "sparse_categorical_crossentropy", ["accuracy"], backend=K)
model.fit(np.ones((8, 6, 6, 1), np.float32), np.zeros(8, np.int32), epochs=1, verbose=0)
print(json.dumps(K.info()["compiledir"]))
"""


def _compiled_modules(compiledir: Path) -> set[str]:
    """The engine's compiled C modules: one directory each, holding the built library."""
    return {p.parent.name for p in compiledir.glob("*/*.so")}


def test_a_second_run_reuses_the_compiled_modules():
    """The engine's compile cache is honoured: a fresh process training the same model finds
    every module it needs in the cache and compiles none (the first run may compile some)."""
    compiledir = Path(json.loads(_python(_TRAIN_ONCE)))
    before = _compiled_modules(compiledir)
    assert before, f"no compiled modules in {compiledir}"
    assert json.loads(_python(_TRAIN_ONCE)) == str(compiledir)
    assert _compiled_modules(compiledir) == before


def test_user_flags_win_over_the_compiledir_variable(monkeypatch, tmp_path):
    from backends.theano import engine

    monkeypatch.setenv("BENCHBENCH_PYTENSOR_COMPILEDIR", str(tmp_path / "ours"))
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/users/own")
    engine.configure_flags("pytensor")
    flags = os.environ["PYTENSOR_FLAGS"].split(",")
    assert [f for f in flags if "compiledir" in f] == ["base_compiledir=/users/own"]
    monkeypatch.setenv("PYTENSOR_FLAGS", "floatX=float32")
    engine.configure_flags("pytensor")
    flags = os.environ["PYTENSOR_FLAGS"].split(",")
    assert flags[:2] == ["floatX=float32", f"base_compiledir={tmp_path / 'ours'}"]


def test_dropout_masks_differ_between_steps(K):
    weight = K.variable(np.ones((1, 50), dtype=np.float32), "w")

    def forward(params, x, training, rng):
        return K.dropout(K.multiply(x, params[0]), 0.5, rng)

    def loss(y, out):
        return K.mean(K.square(K.subtract(out, y)))

    # learning rate 0: the weights stay put, so only a new mask can change the loss
    step = K.make_train_step(forward, loss, None, SGD(learning_rate=0.0), [weight])
    x, y = np.ones((4, 50), np.float32), np.zeros((4, 50), np.float32)
    losses = [step(x, y)[0] for _ in range(4)]
    assert len(set(losses)) > 1

    # one compiled function (evaluate caches it per fn): its generator advances per call
    def drop(t):
        return K.dropout(t, 0.5, None)

    masks = [K.evaluate(drop, x) for _ in range(2)]
    assert not np.array_equal(masks[0], masks[1])


def test_partial_last_batch_reuses_the_compiled_function(K):
    model = Sequential(
        [Dense(8, activation="relu", input_dim=5), Dropout(0.2), Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        backend=K,
    )
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((70, 5)).astype(np.float32), rng.integers(0, 3, 70)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)  # batches of 32, 32, 6
    assert np.isfinite(history.history["loss"]).all()
    assert len(model.train_step().functions) == 1
    assert model.predict(x).shape == (70, 3)
    assert len(model.predict_step().functions) == 1


# -- BLAS ----------------------------------------------------------------------------------------


def _gemm_code() -> str:
    """Code printing the backend's BLAS facts and whether a matrix product ran as compiled C."""
    return (
        "import json, numpy as np\n"
        "from benchbench import registry\n"
        "from backends.theano.engine import T, lib\n"
        "K = registry.get_backend('theano')\n"
        "a = T.matrix('a', dtype='float32')\n"
        "f = lib.function([a], T.dot(a, a.T), mode=K.mode)\n"
        "x = np.random.default_rng(0).random((64, 32), dtype=np.float32)\n"
        "assert np.allclose(f(x), x @ x.T, rtol=1e-5)\n"
        "ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]\n"
        "info = K.info()\n"
        "print(json.dumps({'ops': ops, 'blas': info['blas'], 'degraded': info['degraded']}))\n"
    )


def test_pip_openblas_is_linked_and_runs_matrix_products_in_c():
    pytest.importorskip("scipy_openblas32")
    facts = json.loads(_python(_gemm_code()))
    assert "scipy_openblas" in facts["blas"] and "linked by benchbench" in facts["blas"]
    assert facts["degraded"] == ""
    assert "Dot22" in facts["ops"] or "Gemm" in facts["ops"], facts["ops"]


def test_a_run_without_blas_says_it_is_degraded():
    facts = json.loads(_python(_gemm_code(), PYTENSOR_FLAGS="blas__ldflags="))
    assert facts["blas"].startswith("none (the user's PYTENSOR_FLAGS")
    assert "no BLAS linked" in facts["degraded"]


def test_blas_flags_map_routines_to_the_prefixed_symbols():
    pytest.importorskip("scipy_openblas32")
    from backends.theano import engine

    flags = engine.blas_flags()
    assert flags["blas__ldflags"].endswith("-lscipy_openblas")
    assert "-Dsgemm_=scipy_sgemm_" in flags["gcc__cxxflags"].split()
    assert "," not in flags["blas__ldflags"] + flags["gcc__cxxflags"]  # PYTENSOR_FLAGS splits on ,


def test_probe_warns_when_no_blas_can_be_linked(monkeypatch):
    import importlib.util

    from backends import theano as theano_adapter

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "scipy_openblas32" else real(name, *a),
    )
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    info = theano_adapter.probe()
    assert info.available and "pip install 'benchbench[theano]'" in info.warning
    monkeypatch.setenv("PYTENSOR_FLAGS", "blas__ldflags=-lblas")
    assert theano_adapter.probe().warning == ""
