"""The ``keras3:<framework>`` reference lanes: the same model built in Keras 3.

Keras 3 runs on TensorFlow, JAX and PyTorch. The benchbench model's graph is rebuilt layer by
layer with ``keras.layers``, loaded with identical weights (both use Keras's layout), compiled
with the same optimizer settings and loss, and driven batch by batch with ``train_on_batch``
inside benchbench's fit loop, so data handling and timing are the same as for the adapters.
Keras's own defaults are kept (e.g. ``jit_compile='auto'``), as a Keras user would have them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os

from benchbench import layers as L
from benchbench.backend import BackendInfo
from benchbench.errors import LaneUnsupported

FRAMEWORKS = ("tensorflow", "jax", "torch")


def probe(framework: str) -> BackendInfo:
    name = f"keras3:{framework}"
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


def build_model(keras, model):
    """The benchbench `model` rebuilt as a Keras 3 functional model with the same weights."""
    inputs = keras.Input(model.input.shape)
    values, made = {model.input.id: inputs}, {}
    for layer, ins, out in model._nodes:
        made.setdefault(layer.name, _layer(keras, layer))
        args = [values[i] for i in ins]
        values[out] = made[layer.name](args if layer.merges else args[0])
    built = keras.Model(inputs, values[model.output.id])
    built.set_weights(model.get_weights())
    return built


def make_optimizer(keras, config: dict):
    name, lr = config["name"], config["learning_rate"]
    if config.get("decay"):
        lr = keras.optimizers.schedules.InverseTimeDecay(
            lr, decay_steps=1, decay_rate=config["decay"]
        )
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=config["momentum"], nesterov=config["nesterov"])
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, rho=config["rho"], epsilon=config["epsilon"])
    if name == "adadelta":
        return keras.optimizers.Adadelta(lr, rho=config["rho"], epsilon=config["epsilon"])
    if name == "adagrad":
        return keras.optimizers.Adagrad(lr, epsilon=config["epsilon"])
    if name == "adam":
        return keras.optimizers.Adam(
            lr, beta_1=config["beta_1"], beta_2=config["beta_2"], epsilon=config["epsilon"]
        )
    raise LaneUnsupported(f"keras3 lane: no Keras form of optimizer {name!r}")


def attach(model, backend) -> None:
    """Replaces a compiled benchbench model's steps with Keras 3's on `backend`'s framework."""
    keras = import_keras(backend.name)
    built = build_model(keras, model)
    built.compile(
        optimizer=make_optimizer(keras, model.optimizer.config()),
        loss=model.loss_name,
        metrics=["accuracy"] if model.metric_name else None,
    )

    def train_step(x, y):
        logs = built.train_on_batch(x, y, return_dict=True)
        return float(logs["loss"]), float(logs.get("accuracy", 0.0))

    def test_step(x, y):
        logs = built.test_on_batch(x, y, return_dict=True)
        return float(logs["loss"]), float(logs.get("accuracy", 0.0))

    model._train_step, model._test_step = train_step, test_step
    model._predict_step = lambda x: keras.ops.convert_to_numpy(built.predict_on_batch(x))
