"""Core layers: Dense, Activation, Flatten, Dropout, RepeatVector."""

from __future__ import annotations

import math

from benchbench import activations
from benchbench.layers.base import Layer, WeightSpec


class Dense(Layer):
    """Keras's Dense on a flat input (None, features); kernel (in, out), then bias (out,)."""

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
                "Dense expects a flat input (None, features); add Flatten() before it, or wrap "
                "it in TimeDistributed() for sequences",
                input_shape,
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


class Flatten(Layer):
    def output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def call(self, K, weights, x, training, rng, activation=True):
        return K.reshape(x, (-1, math.prod(x.shape[1:])))


def check_rate(layer: str, what: str, rate) -> float:
    if not isinstance(rate, int | float) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{layer}: {what} must be a number in [0, 1), got {rate!r}")
    return float(rate)


class Dropout(Layer):
    _allowed = Layer._allowed + ("seed", "noise_shape")
    uses_rng = True

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("Dropout", "rate", rate)
        if kwargs.get("noise_shape") is not None:
            raise ValueError("Dropout: noise_shape is not supported")

    def call(self, K, weights, x, training, rng, activation=True):
        if not training or self.rate == 0.0:
            return x
        return K.dropout(x, self.rate, rng)


class RepeatVector(Layer):
    """Repeats a flat input `n` times: (None, features) -> (None, n, features)."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive int, got {n!r}")
        self.n = n

    def output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise self.error("RepeatVector expects a flat input (None, features)", input_shape)
        return (self.n, input_shape[0])

    def call(self, K, weights, x, training, rng, activation=True):
        return K.repeat(x, self.n)
