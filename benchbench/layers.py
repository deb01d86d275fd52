"""Keras-like layers, written once on top of the backend contract.

A layer knows its output shape, the weights it needs (shapes and initializers, in Keras's
layout and order) and how to compute its output with backend ops. Shapes here exclude the batch
dimension. Mistakes are reported when the model is built, naming the layer and the shapes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Sequence
from typing import Any

from benchbench import activations, initializers
from benchbench.backend import padding_amounts
from benchbench.errors import ModelBuildError

Shape = tuple[int, ...]
PADDINGS = ("valid", "same")


@dataclasses.dataclass(frozen=True)
class WeightSpec:
    name: str
    shape: Shape
    initializer: Any


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


def _tuple(value, n: int, what: str, layer: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"{layer}: {what} must be a positive int or {n} positive ints, got {value}"
        )
    return value


def conv_output_length(length: int, kernel: int, stride: int, padding: str) -> int:
    """Keras's rule: 'same' gives ceil(length / stride), 'valid' floor((length - k) / s) + 1."""
    return padding_amounts(length, kernel, stride, padding)[2]


class Layer:
    """Base class. Subclasses implement `output_shape`, `weight_specs` and `call`."""

    _allowed = ("name", "input_shape", "input_dim", "batch_size")
    activation = "linear"
    merges = False  # True for layers that take a list of inputs (Add, Concatenate)
    uses_rng = False  # True for layers that draw random numbers in training (Dropout)

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
            f"{_fmt(input_shape)}: {message}"
        )

    def output_shape(self, input_shape):
        return input_shape

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

    def call(self, K, weights: Sequence[Any], x, training: bool, rng, activation: bool = True):
        raise NotImplementedError


def _fmt(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return str((None, *shape))


class Dense(Layer):
    _allowed = Layer._allowed + (
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
    )

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = units
        self._weighted(kwargs)

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise self.error(
                "Dense expects a flat input (None, features); add Flatten() before it", input_shape
            )
        return (self.units,)

    def weight_specs(self, input_shape):
        specs = [WeightSpec("kernel", (input_shape[0], self.units), self.kernel_initializer)]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.units,), self.bias_initializer))
        return specs

    def call(self, K, weights, x, training, rng, activation=True):
        y = K.matmul(x, weights[0])
        if self.use_bias:
            y = K.bias_add(y, weights[1])
        return activations.apply(K, self.activation, y) if activation else y


class Activation(Layer):
    def __init__(self, activation: str, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.check(activation)

    def call(self, K, weights, x, training, rng, activation=True):
        return activations.apply(K, self.activation, x) if activation else x


class _Conv(Layer):
    rank = 2
    _allowed = Layer._allowed + (
        "strides",
        "padding",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "data_format",
    )

    def __init__(self, filters: int, kernel_size, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{kind}: filters must be a positive int, got {filters!r}")
        if kwargs.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"{kind}: only data_format='channels_last' is supported")
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size", kind)
        self.strides = _tuple(kwargs.get("strides", 1), self.rank, "strides", kind)
        self.padding = kwargs.get("padding", "valid")
        if self.padding not in PADDINGS:
            raise ValueError(f"{kind}: padding must be one of {PADDINGS}, got {self.padding!r}")
        self._weighted(kwargs)

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 1:
            raise self.error(
                f"{type(self).__name__} expects {self.rank + 2}-D input "
                f"(batch, {'spatial, ' * self.rank}channels)",
                input_shape,
            )
        spatial = []
        for length, k, s in zip(input_shape[:-1], self.kernel_size, self.strides, strict=True):
            out = conv_output_length(length, k, s, self.padding)
            if out <= 0:
                raise self.error(
                    f"kernel {self.kernel_size} is larger than the input", input_shape
                )
            spatial.append(out)
        return (*spatial, self.filters)

    def weight_specs(self, input_shape):
        shape = (*self.kernel_size, input_shape[-1], self.filters)
        specs = [WeightSpec("kernel", shape, self.kernel_initializer)]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.filters,), self.bias_initializer))
        return specs

    def call(self, K, weights, x, training, rng, activation=True):
        if self.rank == 1:
            y = K.conv1d(x, weights[0], self.strides[0], self.padding)
        else:
            y = K.conv2d(x, weights[0], self.strides, self.padding)
        if self.use_bias:
            y = K.bias_add(y, weights[1])
        return activations.apply(K, self.activation, y) if activation else y


class Conv1D(_Conv):
    rank = 1


class Conv2D(_Conv):
    rank = 2


class _Pool(Layer):
    rank = 2
    _allowed = Layer._allowed + ("strides", "padding", "data_format")

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = _tuple(pool_size, self.rank, "pool_size", kind)
        strides = kwargs.get("strides")
        self.strides = (
            self.pool_size if strides is None else _tuple(strides, self.rank, "strides", kind)
        )
        self.padding = kwargs.get("padding", "valid")
        if self.padding not in PADDINGS:
            raise ValueError(f"{kind}: padding must be one of {PADDINGS}, got {self.padding!r}")

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 1:
            raise self.error(f"{type(self).__name__} expects {self.rank + 2}-D input", input_shape)
        spatial = []
        for length, k, s in zip(input_shape[:-1], self.pool_size, self.strides, strict=True):
            out = conv_output_length(length, k, s, self.padding)
            if out <= 0:
                raise self.error(f"pool {self.pool_size} is larger than the input", input_shape)
            spatial.append(out)
        return (*spatial, input_shape[-1])

    def call(self, K, weights, x, training, rng, activation=True):
        if self.rank == 1:
            return K.max_pool1d(x, self.pool_size[0], self.strides[0], self.padding)
        return K.max_pool2d(x, self.pool_size, self.strides, self.padding)


class MaxPooling1D(_Pool):
    rank = 1


class MaxPooling2D(_Pool):
    rank = 2


class Flatten(Layer):
    def output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, K, weights, x, training, rng, activation=True):
        return K.reshape(x, (-1, math.prod(x.shape[1:])))


class Dropout(Layer):
    _allowed = Layer._allowed + ("seed", "noise_shape")
    uses_rng = True

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, int | float) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be a number in [0, 1), got {rate!r}")
        if kwargs.get("noise_shape") is not None:
            raise ValueError("Dropout: noise_shape is not supported")
        self.rate = float(rate)

    def call(self, K, weights, x, training, rng, activation=True):
        if not training or self.rate == 0.0:
            return x
        return K.dropout(x, self.rate, rng)


class Add(Layer):
    merges = True

    def output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise self.error("Add takes a list of at least two tensors", input_shape)
        if any(s != input_shape[0] for s in input_shape):
            raise self.error("all inputs of Add must have the same shape", input_shape)
        return input_shape[0]

    def call(self, K, weights, x, training, rng, activation=True):
        out = x[0]
        for other in x[1:]:
            out = K.add(out, other)
        return out


class Concatenate(Layer):
    merges = True
    _allowed = Layer._allowed + ("axis",)

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _axis(self, rank: int) -> int:
        return self.axis - 1 if self.axis > 0 else self.axis + rank

    def output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise self.error("Concatenate takes a list of at least two tensors", input_shape)
        rank = len(input_shape[0])
        if self.axis == 0 or not -rank <= self._axis(rank) < rank:
            raise self.error(f"axis {self.axis} is out of range", input_shape)
        axis = self._axis(rank) % rank
        others = [tuple(d for i, d in enumerate(s) if i != axis) for s in input_shape]
        if any(len(s) != rank for s in input_shape) or len(set(others)) != 1:
            raise self.error(
                f"shapes differ outside the concatenation axis {self.axis}", input_shape
            )
        size = sum(s[axis] for s in input_shape)
        return tuple(size if i == axis else d for i, d in enumerate(input_shape[0]))

    def call(self, K, weights, x, training, rng, activation=True):
        rank = len(x[0].shape)
        axis = self.axis if self.axis >= 0 else self.axis + rank
        return K.concatenate(list(x), axis)


def default_name(layer: Layer, taken: set[str]) -> str:
    base = _snake(type(layer).__name__)
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"
