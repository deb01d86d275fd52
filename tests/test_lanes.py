"""Reference lanes (``native:*``, ``keras3:*``): each is the adapter's model trained another way.

Every lane whose framework is installed and whose module exists must: probe as an available
reference; predict what its adapter predicts from the same weights, to float32 precision (this
is what makes it the same model); learn; follow the optimizer's config step for step (native
lanes); refuse a model it has no hand-written form of with `LaneUnsupported`; and come out of
the runner marked as a reference. Keras 3 takes one backend per process, so keras3 lanes run in
subprocesses.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchbench import Input, Model, Sequential, lanes, registry, workloads
from benchbench import optimizers as opt
from benchbench.errors import LaneUnsupported
from benchbench.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    MaxPooling2D,
    RepeatVector,
    SimpleRNN,
    TimeDistributed,
)
from tests.conftest import load_backend

ROOT = Path(__file__).resolve().parents[1]
NATIVE = [name for name in registry.lane_names() if name.startswith("native:")]
KERAS3 = [name for name in registry.lane_names() if name.startswith("keras3")]


def missing(lane: str) -> str | None:
    """Why the lane cannot be tested here (framework not installed, module not written)."""
    framework, module, _ = lanes.LANES[lane]
    info = registry.probe(framework)
    if not info.available:
        return f"{lane}: {info.reason}"
    if importlib.util.find_spec(module) is None:
        return f"{lane}: {module} is not written yet"
    if lane.startswith("keras3") and importlib.util.find_spec("keras") is None:
        return f"{lane}: keras is not installed"
    return None


def require(lane: str) -> None:
    reason = missing(lane)
    if reason:
        pytest.skip(reason)


# -- the models every lane is checked on ---------------------------------------------------------


def _mnist_mlp_case():
    """Keras's mnist_mlp (784-512-512-10, dropout, RMSprop) on a learnable random problem."""
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    labels = np.argmax(x @ rng.standard_normal((784, 10)), axis=1)
    workload = workloads.get("mnist_mlp")
    return workload.build, workload.optimizer(), x, np.eye(10, dtype=np.float32)[labels]


def _small_cnn_case():
    """Conv2D + MaxPooling2D + Flatten + Dense, channels-last, on scikit-learn's digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data[:320] / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)

    def build():
        return Sequential(
            [
                Conv2D(8, (3, 3), activation="relu", input_shape=(8, 8, 1)),
                MaxPooling2D((2, 2)),
                Flatten(),
                Dense(10, activation="softmax"),
            ],
            seed=1,
        )

    return build, opt.Adam(learning_rate=0.01), x, data.target[:320].astype(np.int32)


STEPS, VOCABULARY = 6, 12


def sequence_model():
    """Every sequence layer a lane writes by hand, in one small graph (a lane's recurrent graphs
    are compiled once per test, and PyTensor's first compile of one takes tens of seconds):
    an Embedding read by a bidirectional LSTM returning sequences and averaged, beside the
    averaged embeddings themselves (fastText), then repeated into a GRU (``reset_after=True``,
    the form every lane has) and a softmax at each of its steps."""
    ids = Input((STEPS,))
    vectors = Embedding(VOCABULARY, 4, input_length=STEPS)(ids)
    read = GlobalAveragePooling1D()(Bidirectional(LSTM(5, return_sequences=True))(vectors))
    both = Concatenate()([GlobalAveragePooling1D()(vectors), read])
    steps = GRU(6, reset_after=True, return_sequences=True)(RepeatVector(3)(both))
    return Model(ids, TimeDistributed(Dense(4, activation="softmax"))(steps), seed=3)


def sequence_data(samples: int = 96):
    """Token ids and, for each of 3 output steps, a class that depends on the ids."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, VOCABULARY, (samples, STEPS)).astype(np.int32)
    labels = np.stack([x[:, i] % 4 for i in range(3)], axis=1)
    return x, np.eye(4, dtype=np.float32)[labels]


def _sequence_case():
    x, y = sequence_data()
    return sequence_model, opt.Adam(learning_rate=0.02), x, y


CASES = {"mnist_mlp": _mnist_mlp_case, "small_cnn": _small_cnn_case, "sequence": _sequence_case}


def _loss_of(y) -> str:
    if y.ndim == 1:
        return "sparse_categorical_crossentropy"
    return "binary_crossentropy" if y.shape[-1] == 1 else "categorical_crossentropy"


def _compiled(build, optimizer, y, backend, lane=None):
    model = build()
    model.compile(optimizer, loss=_loss_of(y), metrics=["accuracy"], backend=backend)
    if lane:
        model.lane_deviations = lanes.attach(lane, model, backend)
    return model


def check_lane(lane: str, backend, case: str, train: bool = True) -> None:
    """The lane predicts what the adapter predicts from the same weights, then learns."""
    build, optimizer, x, y = CASES[case]()
    adapter = _compiled(build, optimizer, y, backend)
    model = _compiled(build, optimizer, y, backend, lane)
    np.testing.assert_allclose(
        model.predict(x[:64]), adapter.predict(x[:64]), rtol=1e-4, atol=1e-6
    )
    if not train:
        return
    before = model.evaluate(x, y, batch_size=64)[0]
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    after = model.evaluate(x, y, batch_size=64)[0]
    assert after < before, f"{lane} on {case}: loss went from {before} to {after}"


# -- probing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lane", registry.lane_names())
def test_an_installed_lane_probes_available_as_a_reference(lane):
    require(lane)
    info = registry.probe(lane)
    assert info.available, info.reason
    assert info.reference and info.name == lane


# -- native lanes, in this process ---------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("lane", NATIVE)
def test_native_lane_is_the_adapters_model_and_learns(lane, case):
    require(lane)
    # the sequence model trains, against the reference, in the step-for-step test below: its
    # graphs are the slowest to compile, so this test compiles only their predict steps
    check_lane(lane, load_backend(lanes.framework_of(lane)), case, train=case != "sequence")


OPTIMIZERS = {
    "sgd": opt.SGD(learning_rate=0.1),
    "sgd-nesterov-decay": opt.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, decay=0.1),
    "rmsprop-decay": opt.RMSprop(learning_rate=0.01, decay=0.01),
    "adagrad": opt.Adagrad(learning_rate=0.1),
    "adadelta": opt.Adadelta(learning_rate=1.0),
    "adam-decay": opt.Adam(learning_rate=0.01, decay=0.01),
}
#: Where a lane's framework has no exact form of benchbench's (Keras 2's) update rule.
KNOWN_DEVIATIONS = {
    ("native:torch", "sgd-nesterov-decay"): "torch.optim.SGD keeps the velocity in gradient "
    "units and multiplies by the current lr, Keras 2 by the lr of each past step: they part "
    "ways as soon as the learning rate decays",
}


#: (lane, optimizer) pairs whose framework kernel is not Keras 2's rule: the lane must say so.
LABELLED = {
    ("native:torch", "sgd-nesterov-decay"),
    ("native:torch", "adam-decay"),
    ("native:tensorflow", "adam-decay"),
}


def _optimizer_cases():
    for lane in NATIVE:
        for name in OPTIMIZERS:
            reason = KNOWN_DEVIATIONS.get((lane, name))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(lane, name, marks=marks, id=f"{lane}-{name}")


def _binary_mlp():
    return Sequential([Dense(16, activation="tanh", input_dim=8), Dense(1, activation="sigmoid")])


def _keras2_gru():
    """Keras 2's GRU (reset_after=False, hard_sigmoid gates) read backwards: no PyTorch module
    computes it, so native:torch refuses it (see the refusal test)."""
    return Sequential(
        [
            GRU(
                5,
                reset_after=False,
                recurrent_activation="hard_sigmoid",
                go_backwards=True,
                return_sequences=True,
                input_shape=(STEPS, 3),
            ),
            GlobalMaxPooling1D(),
            Dense(4, activation="softmax"),
        ]
    )


def _step_cases():
    """(model, its build, x, y) for the step-for-step test beyond the MLP's optimizer sweep."""
    rng = np.random.default_rng(5)
    x = rng.random((32, 8), dtype=np.float32)
    yield "binary", _binary_mlp, x, (x.sum(axis=1, keepdims=True) > 4).astype(np.float32)
    yield "sequence", sequence_model, *sequence_data(32)
    sequences = rng.standard_normal((32, STEPS, 3)).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
    yield "keras2_gru", _keras2_gru, sequences, labels


@pytest.mark.parametrize("lane", NATIVE)
def test_native_lane_follows_recurrent_and_binary_models_step_for_step(lane):
    """Recurrent weights (an LSTM's one bias as PyTorch's two, a GRU's gates reordered), an
    Embedding's rows and a sigmoid cross-entropy train exactly as the NumPy reference's."""
    require(lane)
    backend = load_backend(lanes.framework_of(lane))
    for name, build, x, y in _step_cases():
        if (lane, name) == ("native:torch", "keras2_gru"):
            continue  # refused: see test_native_lane_refuses_what_it_has_no_hand_written_form_of
        optimizer = opt.RMSprop(learning_rate=0.01)
        reference = _compiled(build, optimizer, y, load_backend("numpy"))
        model = _compiled(build, optimizer, y, backend, lane)
        for trained in (reference, model):
            trained.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        np.testing.assert_allclose(
            model.predict(x), reference.predict(x), rtol=1e-4, atol=1e-6, err_msg=name
        )


@pytest.mark.parametrize(("lane", "name"), _optimizer_cases())
def test_native_lane_follows_the_optimizer_config_step_for_step(lane, name):
    """Without dropout the lane's weights stay equal to the reference's through training.

    The NumPy reference backend stands in for the adapter here: it computes the same rule (the
    adapters are tested against it) and compiles nothing, which keeps this test fast.
    """
    require(lane)
    backend = load_backend(lanes.framework_of(lane))
    rng = np.random.default_rng(2)
    x = rng.random((32, 8), dtype=np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]

    def build():
        return Sequential(
            [Dense(16, activation="tanh", input_dim=8), Dense(4, activation="softmax")]
        )

    reference = _compiled(build, OPTIMIZERS[name], y, load_backend("numpy"))
    model = _compiled(build, OPTIMIZERS[name], y, backend, lane)
    assert bool(model.lane_deviations) == ((lane, name) in LABELLED), model.lane_deviations
    for trained in (reference, model):
        trained.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.predict(x), reference.predict(x), rtol=1e-4, atol=1e-6)


class Scale(Layer):
    """A layer no lane has a hand-written form of."""

    def call(self, K, weights, x, training, rng, activation=True):
        return K.multiply(x, 2.0)


def _unsupported_models(lane):
    """(what, model, loss) that `lane` must refuse."""
    softmax = Dense(3, activation="softmax")
    yield (
        "an unknown layer",
        Sequential([Scale(input_shape=(8,)), softmax]),
        "categorical_crossentropy",
    )
    yield "a loss", Sequential([Dense(3, activation="softmax", input_dim=8)]), "mse"
    clipped = Sequential([Dense(3, activation="softmax", input_dim=8)])
    clipped.optimizer_for_test = opt.Adam(clipnorm=1.0)
    yield "clipnorm", clipped, "categorical_crossentropy"
    sequence = (STEPS, 3)
    yield (
        "a SimpleRNN",
        Sequential([SimpleRNN(4, input_shape=sequence), Dense(3, activation="softmax")]),
        "categorical_crossentropy",
    )
    dropout = LSTM(4, recurrent_dropout=0.2, input_shape=sequence)
    yield (
        "recurrent dropout",
        Sequential([dropout, Dense(3, activation="softmax")]),
        "categorical_crossentropy",
    )
    yield "a sigmoid under softmax's loss", _binary_mlp(), "categorical_crossentropy"
    if lane == "native:torch":
        conv = Conv1D(4, 3, padding="same", input_shape=(8, 1))
        model = Sequential([conv, Flatten(), Dense(3, activation="softmax")])
        yield "Conv1D 'same'", model, "categorical_crossentropy"
        yield "Keras 2's GRU", _keras2_gru(), "categorical_crossentropy"


@pytest.mark.parametrize("lane", NATIVE)
def test_native_lane_refuses_what_it_has_no_hand_written_form_of(lane):
    require(lane)
    backend = load_backend(lanes.framework_of(lane))
    for what, model, loss in _unsupported_models(lane):
        model.compile(getattr(model, "optimizer_for_test", "adam"), loss=loss, backend=backend)
        with pytest.raises(LaneUnsupported):
            lanes.attach(lane, model, backend)
            pytest.fail(f"{lane} accepted {what}")


# -- keras3 lanes and the runner: subprocesses, started together in the background ---------------

RUNNER_ARGS = (
    "-m benchbench run --backend native:torch --workload digits_mlp --quick --repeats 1 "
    "--threads 1 --no-report"
)


def _keras3_code(lane: str) -> str:
    code = (
        "from benchbench import registry\n"
        "from tests.test_lanes import check_lane, check_first_updates\n"
        f"backend = registry.get_backend({lane!r}, seed=0, threads=2)\n"
    )
    if lane.startswith("keras3-jit:"):  # same optimizers as keras3:*; compiling is the slow part
        return code + f"check_lane({lane!r}, backend, 'small_cnn')\n"
    return code + (
        f"check_lane({lane!r}, backend, 'mnist_mlp', train=False)\n"
        f"check_lane({lane!r}, backend, 'small_cnn')\n"
        f"check_lane({lane!r}, backend, 'sequence')\n"
        f"check_first_updates({lane!r}, backend)\n"
    )


#: Keras 3's rule where it is not Keras 2's: the first update from zero slots, for gradient g.
KERAS3_FIRST_UPDATES = {
    "rmsprop": lambda o, g: o.learning_rate * g / np.sqrt((1 - o.rho) * g * g + o.epsilon),
    "adagrad": lambda o, g: o.learning_rate * g / np.sqrt(g * g + o.epsilon),
}


def _one_step(optimizer, backend, lane=None) -> tuple[np.ndarray, list[str]]:
    """Weights after one step from zero weights (minus the update), and the lane's deviations."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, (1, 6)).astype(np.float32)
    y = rng.uniform(-1.0, 1.0, (1, 4)).astype(np.float32)
    model = Sequential([Dense(4, input_dim=6, kernel_initializer="zeros")])
    model.compile(optimizer, loss="mse", backend=backend)
    found = lanes.attach(lane, model, backend) if lane else []
    model.fit(x, y, batch_size=1, epochs=1, verbose=0, shuffle=False)
    weights = model.fit_loop.keras_model.get_weights() if lane else model.get_weights()
    return np.concatenate([np.ravel(w) for w in weights]), found


#: Keras 2 options a keras3 lane maps onto Keras 3's (clipnorm is Keras 3's global_clipnorm).
KERAS2_OPTIONS = {
    "sgd-clipnorm": opt.SGD(learning_rate=0.1, clipnorm=0.5),
    "adam-amsgrad-clipvalue": opt.Adam(learning_rate=0.01, amsgrad=True, clipvalue=0.05),
}


def check_first_updates(lane: str, backend) -> None:
    """A keras3 lane's first update is Keras 2's rule (the NumPy reference's), or the rule of a
    deviation the lane names. Keras 3 forms Adam's bias correction in float32 (6.5e-6 off)."""
    reference = load_backend("numpy")
    gradient = -_one_step(opt.SGD(learning_rate=1.0), reference)[0]
    for name, optimizer in {**OPTIMIZERS, **KERAS2_OPTIONS}.items():
        actual, found = _one_step(optimizer, backend, lane)
        if optimizer.name in KERAS3_FIRST_UPDATES:
            assert found and "inside the square root" in found[0], (name, found)
            expected = -KERAS3_FIRST_UPDATES[optimizer.name](optimizer, gradient)
        else:
            assert found == [], (name, found)
            expected = _one_step(optimizer, reference)[0]
        np.testing.assert_allclose(actual, expected, rtol=1e-5, err_msg=f"{lane} {name}")


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module", autouse=True)
def background(request, tmp_path_factory):
    """The subprocess checks of the selected tests, started before the in-process ones.

    Framework imports dominate every check here; started together, the subprocesses' imports
    overlap with each other and with this process's work instead of running one after another.
    """
    selected = {
        item.name
        for item in request.session.items
        if getattr(item, "module", None) is sys.modules[__name__]
    }
    jobs = {}
    for lane in KERAS3:
        if f"test_keras3_lane_is_the_adapters_model_and_learns[{lane}]" in selected:
            if not missing(lane):
                jobs[lane] = _start("-c", _keras3_code(lane)), None
    if "test_the_runner_records_a_native_lane_as_a_reference" in selected:
        if not missing("native:torch"):
            out = tmp_path_factory.mktemp("runner")
            jobs["runner"] = (_start(*RUNNER_ARGS.split(), "--out", str(out)), out)
    yield jobs
    for process, _ in jobs.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, (out[-2000:] + err[-3000:])


@pytest.mark.slow
@pytest.mark.parametrize("lane", KERAS3)
def test_keras3_lane_is_the_adapters_model_and_learns(lane, background):
    require(lane)
    code, output = _finish(background[lane][0])
    assert code == 0, output


@pytest.mark.slow
def test_the_runner_records_a_native_lane_as_a_reference(background):
    require("native:torch")
    process, out = background["runner"]
    code, output = _finish(process)
    assert code == 0, output
    [path] = out.glob("*/*/digits_mlp--native_torch--*.json")
    result = json.loads(path.read_text())
    assert result["status"] == "ok", result["reason"]
    assert result["backend_info"]["reference"] is True
    assert result["backend_info"]["lane"] == "native:torch"
