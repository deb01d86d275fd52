"""The base `Layer`, weight specs and the helpers every layer module shares.

A layer knows its output shape, the weights it needs (shapes and initializers, in Keras's
layout and order) and how to compute its output with backend ops. Shapes here exclude the batch
dimension. Mistakes are reported when the model is built, naming the layer and the shapes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any

from benchbench import activations, initializers
from benchbench.errors import ModelBuildError

Shape = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class WeightSpec:
    name: str
    shape: Shape
    initializer: Any


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


def int_tuple(value, n: int, what: str, layer: str) -> tuple[int, ...]:
    """`value` (an int or `n` ints) as `n` positive ints; ValueError naming `what` otherwise."""
    if isinstance(value, int):
        value = (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"{layer}: {what} must be a positive int or {n} positive ints, got {value}"
        )
    return value


def format_shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return str((None, *shape))


class Layer:
    """Base class. Subclasses implement `output_shape`, `weight_specs` and `call`.

    Attributes:
        merges: the layer takes a list of inputs (Add, Concatenate).
        uses_rng: the layer draws random numbers in training (Dropout, recurrent dropout).
        input_dtype: the dtype the layer takes when it is fed by the model's input: 'float32',
            or 'int32' for token ids (Embedding).
    """

    _allowed = ("name", "input_shape", "input_dim", "batch_size")
    activation = "linear"
    merges = False
    uses_rng = False
    input_dtype = "float32"

    def __init_subclass__(cls, **kwargs):
        # every layer remembers the arguments it was made with (its config, for model.save)
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self, *args, **kw):
            if "_init_args" not in self.__dict__:  # the outermost __init__ of the call
                self._init_args = (args, dict(kw))
            init(self, *args, **kw)

        cls.__init__ = recording_init

    def get_config(self) -> dict:
        """``{'class_name', 'args', 'kwargs'}``: the constructor call that makes this layer
        again (with its name), JSON-serialisable; see `benchbench.saving`."""
        from benchbench.layer_config import serialize

        args, kwargs = getattr(self, "_init_args", ((), {}))
        return {
            "class_name": type(self).__name__,
            "args": serialize(list(args), self),
            "kwargs": serialize({**kwargs, "name": self.name}, self),
        }

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self._allowed))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected argument(s) {unknown}; "
                f"valid keyword arguments are: {', '.join(sorted(self._allowed))}"
            )
        self.name: str | None = kwargs.get("name")
        self.input_shape: Shape | None = None
        if kwargs.get("input_shape") is not None:
            self.input_shape = tuple(kwargs["input_shape"])
        elif kwargs.get("input_dim") is not None:
            self.input_shape = (int(kwargs["input_dim"]),)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def __call__(self, inputs):
        from benchbench.models import SymbolicTensor  # the functional API

        return SymbolicTensor.from_layer_call(self, inputs)

    def error(self, message: str, input_shape) -> ModelBuildError:
        name = self.name or "unnamed"
        return ModelBuildError(
            f"layer {name!r} ({type(self).__name__}) cannot take input of shape "
            f"{format_shape(input_shape)}: {message}"
        )

    def output_shape(self, input_shape):
        return input_shape

    @property
    def output_activation(self) -> str:
        """The activation applied last, which ``call(..., activation=False)`` leaves out so a
        loss can take logits (recurrent layers have none: theirs acts inside the cell)."""
        return self.activation

    def build(self, input_shape) -> None:
        """Called once when the model is built, before `weight_specs`; a layer records here
        the static sizes its `call` needs. Default: nothing."""

    def _weighted(self, kwargs) -> None:
        """The arguments Dense and the convolutions share: activation, bias, initializers."""
        self.activation = activations.check(kwargs.get("activation"))
        self.use_bias = kwargs.get("use_bias", True)
        self.kernel_initializer = initializers.get(
            kwargs.get("kernel_initializer", "glorot_uniform")
        )
        self.bias_initializer = initializers.get(kwargs.get("bias_initializer", "zeros"))

    def weight_specs(self, input_shape) -> list[WeightSpec]:
        return []

    def check_input(self, x) -> None:
        """Checks the values of the model's input array when this layer is fed by it (before
        training or predicting); raises ValueError saying what is wrong. Default: nothing."""

    def call(self, K, weights: Sequence[Any], x, training: bool, rng, activation: bool = True):
        raise NotImplementedError


def default_name(layer: Layer, taken: set[str]) -> str:
    base = snake_case(type(layer).__name__)
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"
