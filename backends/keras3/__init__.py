"""The ``keras3:<framework>`` reference lanes: the same model built in Keras 3, on its fast path.

Keras 3 runs on TensorFlow, JAX and PyTorch. The benchbench model's graph is rebuilt layer by
layer with ``keras.layers``, loaded with identical weights (both use Keras's layout), compiled
with the same optimizer settings and loss, and trained by Keras's own ``model.fit`` (its compiled
multi-step loop and data pipeline), which a Keras callback bridges to benchbench's fit hooks, so
the epoch and step clocks are the same code as for the adapters (the bridge makes Keras read
loss and accuracy back once a step, as the adapters' fit loop does).

``keras3:<framework>`` keeps Keras 3's default ``jit_compile='auto'``: XLA on JAX, but eager on
PyTorch and no XLA on a CPU-only TensorFlow. Where that differs from ``jit_compile=True``,
``keras3-jit:<framework>`` runs the compiled variant (XLA on TensorFlow, ``torch.compile`` on
PyTorch).

Keras 3's optimizers are used as shipped. Two of their rules are not Keras 2's: RMSprop and
Adagrad add epsilon inside the square root (``sqrt(a + eps)``, Keras 2 ``sqrt(a) + eps``), which
`deviations` names for the report; Adagrad is given the config's initial accumulator (Keras
2's 0 by default, where Keras 3 defaults to 0.1).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os

from benchbench import layers as L
from benchbench.backend import BackendInfo
from benchbench.errors import LaneUnsupported

FRAMEWORKS = ("tensorflow", "jax", "torch")
#: Keras's ``steps_per_execution`` per framework where several steps per compiled call measured
#: faster (PyTorch supports only 1); ``$BENCHBENCH_KERAS3_STEPS_PER_EXECUTION`` overrides it.
#: None does on the development CPU: keras3:jax with 8 against 1, ABBA, two runs each, was
#: within the run-to-run spread on all five CPU workloads (README, "Reference lanes").
STEPS_PER_EXECUTION: dict[str, int] = {}
STEPS_ENV = "BENCHBENCH_KERAS3_STEPS_PER_EXECUTION"


def steps_per_execution(framework: str) -> int:
    if framework == "torch":
        return 1
    return int(os.environ.get(STEPS_ENV) or STEPS_PER_EXECUTION.get(framework, 1))


def probe(name: str, framework: str) -> BackendInfo:
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[framework]
    for needed, extra in (("keras", "keras3"), (module, framework)):
        if importlib.util.find_spec(needed) is None:
            return BackendInfo(
                name=name,
                available=False,
                engine="keras",
                reference=True,
                reason=f"the Python package {needed!r} is not installed",
                remedy=f"install it with: pip install 'benchbench[{extra}]'",
            )
    return BackendInfo(
        name=name,
        available=True,
        engine=f"keras on {framework}",
        version=importlib.metadata.version("keras"),
        reference=True,
        devices=("cpu", "gpu"),
    )


def import_keras(framework: str):
    """Imports Keras 3 on `framework`; it must be the first import of keras in the process."""
    os.environ["KERAS_BACKEND"] = framework
    import keras

    if keras.backend.backend() != framework:
        raise LaneUnsupported(f"keras is already running on {keras.backend.backend()!r}")
    return keras


def _layer(keras, layer):
    rank = getattr(layer, "rank", None)
    if isinstance(layer, L.Dense):
        return keras.layers.Dense(
            layer.units, activation=layer.activation, use_bias=layer.use_bias
        )
    if isinstance(layer, (L.Conv1D, L.Conv2D)):
        conv = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
        return conv(
            layer.filters,
            layer.kernel_size,
            layer.strides,
            padding=layer.padding,
            activation=layer.activation,
            use_bias=layer.use_bias,
        )
    if isinstance(layer, (L.MaxPooling1D, L.MaxPooling2D)):
        pool = keras.layers.MaxPooling1D if rank == 1 else keras.layers.MaxPooling2D
        return pool(layer.pool_size, layer.strides, padding=layer.padding)
    sequence = _sequence_layer(keras, layer)
    if sequence is not None:
        return sequence
    simple = {
        L.Flatten: lambda: keras.layers.Flatten(),
        L.Dropout: lambda: keras.layers.Dropout(layer.rate),
        L.Activation: lambda: keras.layers.Activation(layer.activation),
        L.Add: lambda: keras.layers.Add(),
        L.Concatenate: lambda: keras.layers.Concatenate(axis=layer.axis),
    }
    if type(layer) not in simple:
        raise LaneUnsupported(f"keras3 lane: no Keras form of {type(layer).__name__}")
    return simple[type(layer)]()


def _recurrent(keras, layer):
    """Keras 3's LSTM or GRU for a benchbench one, configured exactly: Keras 3's GRU defaults to
    ``reset_after=True`` and Keras 2's to False, so it is always given; Keras 3's hard_sigmoid
    is ``x / 6 + 0.5`` where Keras 2's is ``0.2 x + 0.5``, so it is refused."""
    if isinstance(layer, L.SimpleRNN) or layer.recurrent_activation != "sigmoid":
        what = "SimpleRNN" if isinstance(layer, L.SimpleRNN) else layer.recurrent_activation
        raise LaneUnsupported(f"keras3 lane: no Keras 3 form of this layer ({what})")
    common = {
        "activation": layer.activation,
        "recurrent_activation": layer.recurrent_activation,
        "use_bias": layer.use_bias,
        "dropout": layer.dropout,
        "recurrent_dropout": layer.recurrent_dropout,
        "return_sequences": layer.return_sequences,
        "go_backwards": layer.go_backwards,
    }
    if isinstance(layer, L.LSTM):
        return keras.layers.LSTM(layer.units, unit_forget_bias=layer.unit_forget_bias, **common)
    return keras.layers.GRU(layer.units, reset_after=layer.reset_after, **common)


def _sequence_layer(keras, layer):
    """Keras 3's form of an embedding, recurrent or sequence layer (None for other layers)."""
    if isinstance(layer, L.Embedding):
        return keras.layers.Embedding(layer.input_dim, layer.output_dim)
    if isinstance(layer, L.Recurrent):
        return _recurrent(keras, layer)
    if isinstance(layer, L.Bidirectional):
        return keras.layers.Bidirectional(
            _recurrent(keras, layer.forward_layer), merge_mode=layer.merge_mode
        )
    if isinstance(layer, L.TimeDistributed):
        return keras.layers.TimeDistributed(_layer(keras, layer.layer))
    if isinstance(layer, L.RepeatVector):
        return keras.layers.RepeatVector(layer.n)
    if isinstance(layer, L.GlobalAveragePooling1D):
        return keras.layers.GlobalAveragePooling1D()
    if isinstance(layer, L.GlobalMaxPooling1D):
        return keras.layers.GlobalMaxPooling1D()
    return None


def build_model(keras, model):
    """The benchbench `model` rebuilt as a Keras 3 functional model with the same weights."""
    inputs = keras.Input(model.input.shape, dtype=model.input_dtype)
    values, made = {model.input.id: inputs}, {}
    for layer, ins, out in model._nodes:
        made.setdefault(layer.name, _layer(keras, layer))
        args = [values[i] for i in ins]
        values[out] = made[layer.name](args if layer.merges else args[0])
    built = keras.Model(inputs, values[model.output.id])
    built.set_weights(model.get_weights())
    return built


def make_optimizer(keras, config: dict):
    """Keras 3's optimizer for a benchbench config (see `deviations` for where it differs).

    Keras 2's ``clipnorm`` clips the global norm of all gradients: Keras 3 calls that
    ``global_clipnorm`` (its ``clipnorm`` clips each weight's gradient alone).
    """
    name, lr = config["name"], config["learning_rate"]
    if config.get("decay"):
        lr = keras.optimizers.schedules.InverseTimeDecay(
            lr, decay_steps=1, decay_rate=config["decay"]
        )
    common = {
        "global_clipnorm": config.get("clipnorm") or None,
        "clipvalue": config.get("clipvalue") or None,
    }
    if name == "sgd":
        return keras.optimizers.SGD(
            lr, momentum=config["momentum"], nesterov=config["nesterov"], **common
        )
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, rho=config["rho"], epsilon=config["epsilon"], **common)
    if name == "adadelta":
        return keras.optimizers.Adadelta(
            lr, rho=config["rho"], epsilon=config["epsilon"], **common
        )
    if name == "adagrad":
        return keras.optimizers.Adagrad(
            lr,
            initial_accumulator_value=config.get("initial_accumulator_value", 0.0),
            epsilon=config["epsilon"],
            **common,
        )
    if name == "adam":
        return keras.optimizers.Adam(
            lr,
            beta_1=config["beta_1"],
            beta_2=config["beta_2"],
            epsilon=config["epsilon"],
            amsgrad=config.get("amsgrad", False),
            **common,
        )
    raise LaneUnsupported(f"keras3 lane: no Keras form of optimizer {name!r}")


def deviations(config: dict) -> list[str]:
    """Where Keras 3's rule for `config` is not Keras 2's (the lane runs Keras 3's anyway)."""
    if config["name"] in ("rmsprop", "adagrad"):
        return [
            f"Keras 3's {config['name']} adds epsilon inside the square root: "
            "sqrt(a + epsilon), Keras 2 sqrt(a) + epsilon"
        ]
    return []


def _bridge(keras, cbs, epoch_logs):
    """A Keras callback that calls benchbench's fit hooks (`CallbackList` ``cbs``). With
    ``steps_per_execution`` Keras calls the batch hooks once per execution (the first and the
    last step's index): the logs say how many steps it ran."""

    class Bridge(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            cbs.call("on_epoch_begin", epoch, {})

        def on_train_batch_begin(self, batch, logs=None):
            self.first = batch
            cbs.call("on_train_batch_begin", batch, {})

        def on_train_batch_end(self, batch, logs=None):
            self.train_logs = epoch_logs(logs)
            steps = {"steps_in_batch": batch - self.first + 1}
            cbs.call("on_train_batch_end", batch, {**self.train_logs, **steps})

        def on_test_begin(self, logs=None):  # only called for fit's validation pass
            cbs.call("on_validation_begin", self.epoch, dict(self.train_logs))

        def on_test_end(self, logs=None):
            cbs.call("on_validation_end", self.epoch, dict(self.train_logs))

        def on_epoch_end(self, epoch, logs=None):
            cbs.call("on_epoch_end", epoch, epoch_logs(logs))

    return Bridge()


class KerasFit:
    """The fit loop of a keras3 lane: Keras's ``fit`` with benchbench's hooks bridged in.

    Attributes:
        keras_model: the Keras 3 model it trains.
    """

    def __init__(self, keras, keras_model, metric_name):
        self.keras, self.keras_model, self.metric_name = keras, keras_model, metric_name

    def _logs(self, logs) -> dict:
        names = ["loss", *([self.metric_name] if self.metric_name else [])]
        names += [f"val_{n}" for n in names]
        return {n: float(logs[n]) for n in names if n in (logs or {})}

    def __call__(
        self, x, y, *, batch_size, epochs, initial_epoch, validation_data, shuffle, seed, cbs
    ):
        self.keras.utils.set_random_seed(seed)  # Keras's batch order (and dropout) per repeat
        self.keras_model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            validation_data=validation_data,
            shuffle=shuffle,
            verbose=0,
            callbacks=[_bridge(self.keras, cbs, self._logs)],
        )


def attach(model, backend, jit_compile="auto") -> list[str]:
    """Makes Keras 3 on `backend`'s framework train a compiled benchbench model (``fit``) and
    run its test and predict steps; returns the optimizer's `deviations` from Keras 2."""
    keras = import_keras(backend.name)
    keras.utils.set_random_seed(backend.seed)  # Keras's shuffling and dropout
    built = build_model(keras, model)
    config = model.optimizer.config()
    built.compile(
        optimizer=make_optimizer(keras, config),
        loss=model.loss_name,
        metrics=["accuracy"] if model.metric_name else None,
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution(backend.name),
    )

    def test_step(x, y):
        logs = built.test_on_batch(x, y, return_dict=True)
        return float(logs["loss"]), float(logs.get("accuracy", 0.0))

    model.fit_loop = KerasFit(keras, built, model.metric_name)
    model._train_step = None  # training goes through fit_loop
    model._test_step = test_step
    model._predict_step = lambda x: keras.ops.convert_to_numpy(built.predict_on_batch(x))
    return deviations(config)


def attach_jit(model, backend) -> list[str]:
    """`attach` with ``jit_compile=True``: XLA on TensorFlow, ``torch.compile`` on PyTorch."""
    return attach(model, backend, jit_compile=True)
