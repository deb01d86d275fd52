"""Activation functions by name, each a function of a backend and a tensor.

Keras 2 code may pass the functions themselves (``Dense(64, activation=activations.relu)``):
`check` maps each of these back to its name.
"""

from __future__ import annotations

from collections.abc import Callable

from benchbench.errors import UnknownNameError


def linear(K, x):
    return x


def relu(K, x):
    return K.relu(x)


def softmax(K, x):
    return K.softmax(x)


def sigmoid(K, x):
    return K.sigmoid(x)


def tanh(K, x):
    return K.tanh(x)


def hard_sigmoid(K, x):
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2 x + 0.5, 0, 1)``."""
    return K.clip(K.add(K.multiply(x, 0.2), 0.5), 0.0, 1.0)


ACTIVATIONS: dict[str, Callable] = {
    f.__name__: f for f in (linear, relu, softmax, sigmoid, tanh, hard_sigmoid)
}


def check(name: str | Callable | None) -> str:
    """Returns the canonical activation name ('linear' for None); raises if unknown."""
    name = "linear" if name is None else name
    if callable(name):
        found = next((n for n, f in ACTIVATIONS.items() if f is name), None)
        if found is None:
            raise UnknownNameError(
                "activation function", getattr(name, "__name__", repr(name)), ACTIVATIONS
            )
        return found
    if name not in ACTIVATIONS:
        raise UnknownNameError("activation", name, ACTIVATIONS)
    return name


def apply(K, name: str, x):
    return ACTIVATIONS[name](K, x)
