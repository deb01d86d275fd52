"""Reference lanes: the same workload trained without benchbench's model layer.

A lane is named ``native:<framework>`` (an idiomatic hand-written implementation: a
``torch.nn.Module`` with ``torch.optim``, ``tf.function`` with ``GradientTape``, ``jax.jit``, a
PyTensor ``function``) or ``keras3:<framework>`` (the same model built in Keras 3). A lane runs
in benchbench's own fit loop: the model is built and compiled on the framework's adapter as
usual (so it starts from identical weights and sees identical batches), then the lane replaces
its train, test and predict steps. The difference between a lane and its adapter is therefore
exactly the cost of the step, which is what the report's ratio table shows.

Each lane module exposes ``attach(model, backend)``; it raises `LaneUnsupported` for a model it
has no hand-written form of (the cell is then skipped with that reason).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util

from benchbench.backend import BackendInfo
from benchbench.errors import LaneUnsupported

#: Lane name -> (the adapter it runs beside, the module that implements it).
LANES: dict[str, tuple[str, str]] = {
    "native:tensorflow": ("tensorflow", "backends.tensorflow.native"),
    "native:theano": ("theano", "backends.theano.native"),
    "native:torch": ("torch", "backends.torch.native"),
    "native:jax": ("jax", "backends.jax.native"),
    "keras3:tensorflow": ("tensorflow", "backends.keras3"),
    "keras3:torch": ("torch", "backends.keras3"),
    "keras3:jax": ("jax", "backends.keras3"),
}


#: What every native lane writes by hand: the loss on the logits of a final softmax, the layers.
NATIVE_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
NATIVE_LAYERS = (
    "Dense, Conv1D/2D, MaxPooling1D/2D, Flatten, Dropout, Activation, Add and Concatenate"
)


def native_loss(lane: str, model) -> bool:
    """Checks that `lane` can train `model` (softmax cross-entropy on logits); returns whether
    its labels are sparse (integers) rather than one-hot."""
    if model.loss_name not in NATIVE_LOSSES:
        raise LaneUnsupported(
            f"{lane}: no hand-written form of loss {model.loss_name!r}; "
            f"expected one of {', '.join(NATIVE_LOSSES)}"
        )
    if not model._logits_fused():
        raise LaneUnsupported(f"{lane}: the model must end in a softmax")
    return model.loss_name == "sparse_categorical_crossentropy"


def native_rule(lane: str, rules: dict, config: dict):
    """The entry of `rules` (optimizer name -> the lane's form of it) for an optimizer config."""
    if config["name"] not in rules:
        raise LaneUnsupported(
            f"{lane}: no hand-written form of optimizer {config['name']!r}; "
            f"expected one of {', '.join(rules)}"
        )
    return rules[config["name"]]


def unknown_layer(lane: str, layer) -> LaneUnsupported:
    framework = framework_of(lane)
    return LaneUnsupported(
        f"{lane} has no hand-written form of layer {type(layer).__name__}; it knows "
        f"{NATIVE_LAYERS} (use the {framework} adapter for this model)"
    )


def is_lane(name: str) -> bool:
    return name in LANES


def framework_of(name: str) -> str:
    """The adapter a lane runs beside (and whose framework it uses)."""
    return LANES[name][0]


def probe(name: str, framework_info: BackendInfo) -> BackendInfo:
    """A lane is available where its framework's adapter is (and Keras 3, for keras3 lanes)."""
    framework, module_name = LANES[name]
    info = dataclasses.replace(
        framework_info,
        name=name,
        reference=True,
        engine=f"{name.split(':')[0]} {framework_info.engine}".strip(),
    )
    if not info.available:
        return info
    if importlib.util.find_spec(module_name) is None:
        return dataclasses.replace(
            info,
            available=False,
            reason=f"{module_name} is not written yet",
            remedy="use the other lanes of this framework",
        )
    if name.startswith("keras3:"):
        keras_info = importlib.import_module(module_name).probe(framework)
        return dataclasses.replace(keras_info, devices=framework_info.devices)
    return info


def attach(name: str, model, backend) -> None:
    """Replaces the compiled `model`'s steps with the lane's."""
    importlib.import_module(LANES[name][1]).attach(model, backend)
