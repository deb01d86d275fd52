"""Activation functions by name, each a function of a backend and a tensor."""

from __future__ import annotations

from collections.abc import Callable

from benchbench.errors import UnknownNameError

ACTIVATIONS: dict[str, Callable] = {
    "linear": lambda K, x: x,
    "relu": lambda K, x: K.relu(x),
    "softmax": lambda K, x: K.softmax(x),
    "sigmoid": lambda K, x: K.sigmoid(x),
    "tanh": lambda K, x: K.tanh(x),
    # Keras 2's piecewise-linear sigmoid: clip(0.2 x + 0.5, 0, 1)
    "hard_sigmoid": lambda K, x: K.clip(K.add(K.multiply(x, 0.2), 0.5), 0.0, 1.0),
}


def check(name: str | None) -> str:
    """Returns the canonical activation name ('linear' for None); raises if unknown."""
    name = "linear" if name is None else name
    if name not in ACTIVATIONS:
        raise UnknownNameError("activation", name, ACTIVATIONS)
    return name


def apply(K, name: str, x):
    return ACTIVATIONS[name](K, x)
