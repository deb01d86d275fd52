"""Pooling layers: MaxPooling1D/2D and the global 1-D poolings over the steps of a sequence."""

from __future__ import annotations

from benchbench.layers.base import Layer, int_tuple
from benchbench.layers.convolutional import check_padding, conv_output_length


class _Pool(Layer):
    rank = 2
    _allowed = Layer._allowed + ("strides", "padding", "data_format")

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = int_tuple(pool_size, self.rank, "pool_size", kind)
        strides = kwargs.get("strides")
        self.strides = (
            self.pool_size if strides is None else int_tuple(strides, self.rank, "strides", kind)
        )
        self.padding = check_padding(kind, kwargs.get("padding", "valid"))

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


class _GlobalPooling1D(Layer):
    _allowed = Layer._allowed + ("data_format",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if kwargs.get("data_format", "channels_last") != "channels_last":
            raise ValueError(
                f"{type(self).__name__}: only data_format='channels_last' is supported "
                "(benchbench is channels-last); keep images as (samples, rows, cols, channels)"
            )

    def output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise self.error(
                f"{type(self).__name__} expects a sequence (None, steps, features)", input_shape
            )
        return (input_shape[1],)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps: (None, steps, features) -> (None, features)."""

    def call(self, K, weights, x, training, rng, activation=True):
        return K.mean(x, axis=1)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps: (None, steps, features) -> (None, features)."""

    def call(self, K, weights, x, training, rng, activation=True):
        return K.max(x, axis=1)
