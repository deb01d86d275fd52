"""Reference lanes: the same workload trained without benchbench's model layer.

A lane is named ``native:<framework>`` (what an expert in that framework writes for speed: a
``torch.nn.Module`` with fused ``torch.optim`` kernels, ``tf.function`` with ``GradientTape``,
``jax.jit`` with donation, a PyTensor ``function``) or ``keras3:<framework>`` /
``keras3-jit:<framework>`` (the same model built in Keras 3, trained by Keras's own ``fit``,
with its default ``jit_compile`` or with ``jit_compile=True``). The model is built and compiled
on the framework's adapter as usual, so a lane starts from identical weights; native lanes then
replace its train, test and predict steps and run in benchbench's fit loop (identical batches,
so the difference is exactly the cost of the step), keras3 lanes replace the fit loop itself.
Either way the same callbacks time them, and the report's ratio table shows adapter / lane.

The rule for a lane: it is a ceiling, so it may use anything its framework offers a skilled user
for speed, and every trick that made an adapter faster. Where the framework's fast kernel does
not compute Keras 2's update rule (e.g. torch's Adam places epsilon differently), the lane runs
the fast kernel anyway and names the deviation, which the results record and the report labels.

Each lane's ``attach(model, backend)`` returns those deviations (a list of sentences); it raises
`LaneUnsupported` for a model it has no form of (the cell is then skipped with that reason).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util

from benchbench import layers as L
from benchbench.backend import BackendInfo
from benchbench.errors import LaneUnsupported

#: Lane name -> (the adapter it runs beside, the module that implements it, its attach function).
LANES: dict[str, tuple[str, str, str]] = {
    "native:tensorflow": ("tensorflow", "backends.tensorflow.native", "attach"),
    "native:theano": ("theano", "backends.theano.native", "attach"),
    "native:torch": ("torch", "backends.torch.native", "attach"),
    "native:jax": ("jax", "backends.jax.native", "attach"),
    "keras3:tensorflow": ("tensorflow", "backends.keras3", "attach"),
    "keras3:torch": ("torch", "backends.keras3", "attach"),
    "keras3:jax": ("jax", "backends.keras3", "attach"),
    # jit_compile=True where Keras 3's 'auto' does not compile (on JAX it always does)
    "keras3-jit:tensorflow": ("tensorflow", "backends.keras3", "attach_jit"),
    "keras3-jit:torch": ("torch", "backends.keras3", "attach_jit"),
}


#: What every native lane writes by hand: the loss on the logits of a final softmax (one class
#: per sample, or per output step) or sigmoid (binary), and these layers.
NATIVE_LOSSES = {
    "categorical_crossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
    "binary_crossentropy": "binary",
}
NATIVE_LAYERS = (
    "Dense, Conv1D/2D, MaxPooling1D/2D, Flatten, Dropout, Activation, Add, Concatenate, "
    "Embedding, LSTM, GRU, Bidirectional, TimeDistributed(Dense), RepeatVector and "
    "GlobalAverage/MaxPooling1D"
)


def native_loss(lane: str, model) -> str:
    """Checks that `lane` can train `model` (a cross-entropy on the logits of its last
    activation); returns the labels' kind: 'sparse' (integers), 'categorical' (one-hot rows)
    or 'binary' (a column of 0/1 for one sigmoid unit)."""
    if model.loss_name not in NATIVE_LOSSES:
        raise LaneUnsupported(
            f"{lane}: no hand-written form of loss {model.loss_name!r}; "
            f"expected one of {', '.join(NATIVE_LOSSES)}"
        )
    if not model._logits_fused():
        last = "a sigmoid" if model.loss_name == "binary_crossentropy" else "a softmax"
        raise LaneUnsupported(f"{lane}: the model must end in {last} for {model.loss_name}")
    return NATIVE_LOSSES[model.loss_name]


def native_recurrent(lane: str, layer, activations=("sigmoid", "hard_sigmoid")):
    """The recurrent layer a native lane writes by hand (an LSTM or GRU, alone or wrapped in
    Bidirectional); raises `LaneUnsupported` for a configuration it has no form of: another
    kind, dropout inside the layer, an activation other than tanh, a gate activation outside
    `activations`."""
    inner = layer.forward_layer if isinstance(layer, L.Bidirectional) else layer
    if not isinstance(inner, L.LSTM | L.GRU):
        raise unknown_layer(lane, inner)
    problems = []
    if inner.dropout or inner.recurrent_dropout:
        problems.append("dropout inside the layer")
    if inner.activation != "tanh":
        problems.append(f"activation {inner.activation!r} (tanh only)")
    if inner.recurrent_activation not in activations:
        problems.append(f"recurrent_activation {inner.recurrent_activation!r}")
    if isinstance(layer, L.Bidirectional) and inner.go_backwards:
        problems.append("a Bidirectional around a layer that already reads backwards")
    if problems:
        raise LaneUnsupported(
            f"{lane} has no hand-written form of this {type(inner).__name__}: "
            f"{'; '.join(problems)} (use the {framework_of(lane)} adapter for this model)"
        )
    return inner


#: Optimizer options the native lanes have no hand-written form of, with their neutral values.
NATIVE_NEUTRAL_OPTIONS = {
    "clipnorm": 0.0,
    "clipvalue": 0.0,
    "amsgrad": False,
    "initial_accumulator_value": 0.0,
}


def native_rule(lane: str, rules: dict, config: dict):
    """The entry of `rules` (optimizer name -> the lane's form of it) for an optimizer config."""
    for option, neutral in NATIVE_NEUTRAL_OPTIONS.items():
        if config.get(option, neutral) != neutral:
            raise LaneUnsupported(
                f"{lane}: no hand-written form of {config['name']}({option}="
                f"{config[option]!r}); use the adapter or a keras3 lane for it"
            )
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
    framework, module_name, _ = LANES[name]
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
    if name.startswith("keras3"):
        keras_info = importlib.import_module(module_name).probe(name, framework)
        return dataclasses.replace(keras_info, devices=framework_info.devices)
    return info


def attach(name: str, model, backend) -> list[str]:
    """Replaces the compiled `model`'s steps (or fit loop) with the lane's; returns where its
    update rule deviates from Keras 2's (empty if nowhere)."""
    _, module_name, function = LANES[name]
    return list(getattr(importlib.import_module(module_name), function)(model, backend))
