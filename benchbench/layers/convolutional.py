"""Convolution layers: Conv1D and Conv2D (channels-last, Keras's 'valid'/'same' padding)."""

from __future__ import annotations

from benchbench import activations
from benchbench.backend_ops import padding_amounts
from benchbench.layers.base import Layer, WeightSpec, int_tuple

PADDINGS = ("valid", "same")


def conv_output_length(length: int, kernel: int, stride: int, padding: str) -> int:
    """Keras's rule: 'same' gives ceil(length / stride), 'valid' floor((length - k) / s) + 1."""
    return padding_amounts(length, kernel, stride, padding)[2]


def check_padding(layer: str, padding) -> str:
    if padding not in PADDINGS:
        raise ValueError(f"{layer}: padding must be one of {PADDINGS}, got {padding!r}")
    return padding


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
            raise ValueError(
                f"{kind}: only data_format='channels_last' is supported (benchbench's layers "
                "and adapters are channels-last); keep images as (samples, rows, cols, channels) "
                "and drop the argument"
            )
        self.filters = filters
        self.kernel_size = int_tuple(kernel_size, self.rank, "kernel_size", kind)
        self.strides = int_tuple(kwargs.get("strides", 1), self.rank, "strides", kind)
        self.padding = check_padding(kind, kwargs.get("padding", "valid"))
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
