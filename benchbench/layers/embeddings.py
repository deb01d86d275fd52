"""Embedding: integer token ids to dense vectors, Keras 2's layer."""

from __future__ import annotations

import numpy as np

from benchbench import initializers
from benchbench.layers.base import Layer, WeightSpec


class Embedding(Layer):
    """Rows of an ``(input_dim, output_dim)`` table looked up by integer ids.

    Args:
        input_dim: the number of distinct ids (the vocabulary size); ids run from 0 to
            ``input_dim - 1``.
        output_dim: the size of each vector.
        embeddings_initializer: Keras's default 'uniform' draws from U(-0.05, 0.05).
        input_length: the sequence length; gives the model its input shape ``(input_length,)``.
        mask_zero: only False: masking is not supported (every step is computed).

    The model's input is then int32 (``fit`` and ``predict`` convert arrays of whole numbers and
    refuse others), and ids outside ``[0, input_dim)`` are refused before training starts.
    """

    _allowed = Layer._allowed + ("embeddings_initializer", "input_length", "mask_zero")
    input_dtype = "int32"

    def __init__(self, input_dim: int, output_dim: int, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Embedding: {what} must be a positive int, got {value!r}")
        if kwargs.get("mask_zero"):
            raise ValueError(
                "Embedding: mask_zero=True is not supported (benchbench has no masking); "
                "pad sequences to a fixed length and leave mask_zero=False"
            )
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(
            kwargs.get("embeddings_initializer", "uniform")
        )
        self.input_length = kwargs.get("input_length")
        if self.input_length is not None and self.input_shape is None:
            self.input_shape = (int(self.input_length),)

    def output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise self.error("Embedding expects ids of shape (None, steps)", input_shape)
        if self.input_length is not None and input_shape[0] != self.input_length:
            raise self.error(
                f"input_length is {self.input_length} but the input has {input_shape[0]} steps",
                input_shape,
            )
        return (*input_shape, self.output_dim)

    def weight_specs(self, input_shape):
        shape = (self.input_dim, self.output_dim)
        return [WeightSpec("embeddings", shape, self.embeddings_initializer)]

    def check_input(self, x) -> None:
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            raise ValueError(
                f"layer {self.name!r} (Embedding) takes ids in [0, {self.input_dim}), got ids "
                f"from {x.min()} to {x.max()}; raise input_dim or map the ids into range"
            )

    def call(self, K, weights, x, training, rng, activation=True):
        return K.gather(weights[0], x)
