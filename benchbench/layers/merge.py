"""Layers that merge a list of tensors: Add and Concatenate (functional API only)."""

from __future__ import annotations

from benchbench.layers.base import Layer


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

    def build(self, input_shape) -> None:
        self._rank = len(input_shape[0]) + 1  # with the batch axis

    def call(self, K, weights, x, training, rng, activation=True):
        axis = self.axis if self.axis >= 0 else self.axis + self._rank
        return K.concatenate(list(x), axis)
