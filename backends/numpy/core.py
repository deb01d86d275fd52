"""Tape-based reverse-mode differentiation, variables and the backend's housekeeping."""

from __future__ import annotations

import platform

import numpy as np


class Node:
    """A value on the tape. ``parents`` pairs each input node with the function that maps the
    gradient of this node to the gradient of that input."""

    __slots__ = ("value", "parents", "requires_grad", "name")

    def __init__(self, value, parents=(), requires_grad: bool = False, name: str = ""):
        self.value = value
        self.parents = parents
        self.requires_grad = requires_grad or bool(parents)
        self.name = name

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def __repr__(self) -> str:
        return f"<Node {self.name} shape={self.value.shape}>"


def value(x):
    return x.value if isinstance(x, Node) else x


def make(result, *edges) -> Node:
    """A node for `result`; `edges` are ``(input, grad_fn)`` pairs, kept if the input needs a
    gradient."""
    parents = tuple((p, fn) for p, fn in edges if isinstance(p, Node) and p.requires_grad)
    return Node(result, parents)


def constant(result) -> Node:
    return Node(result)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sums `grad` down to `shape`, undoing NumPy broadcasting."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def backprop(root: Node, wrt: list[Node]) -> list[np.ndarray]:
    """Returns d(root)/d(node) for each node of `wrt` (zeros where root does not depend on it)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent, _ in node.parents)
    grads = {id(root): np.ones_like(root.value)}
    for node in reversed(order):
        g = grads.get(id(node))
        if g is None:
            continue
        for parent, fn in node.parents:
            contribution = fn(g)
            key = id(parent)
            grads[key] = contribution if key not in grads else grads[key] + contribution
    return [np.asarray(grads.get(id(n), np.zeros_like(n.value)), dtype=n.value.dtype) for n in wrt]


class Core:
    """Device, seeding, conversion and variables for the NumPy backend."""

    def setup(self, device, seed, threads):
        from benchbench.errors import DeviceUnavailable

        if device != "cpu":
            raise DeviceUnavailable("numpy", device, "the NumPy backend runs on the CPU only")
        from backends.numpy import nn

        nn.set_seed(seed)

    def info(self) -> dict:
        return {
            "engine": "numpy",
            "version": np.__version__,
            "device": "cpu",
            "device_name": platform.processor() or platform.machine(),
        }

    def convert(self, array):
        return Node(np.asarray(array))

    def to_numpy(self, tensor):
        return np.asarray(value(tensor))

    def variable(self, value_, name):
        return Node(np.array(value_, dtype=np.float32), requires_grad=True, name=name)

    def get_value(self, var):
        return var.value.copy()

    def set_value(self, var, value_):
        var.value = np.array(value_, dtype=np.float32)

    def evaluate(self, fn, *arrays):
        return np.asarray(value(fn(*[Node(np.asarray(a)) for a in arrays])))

    def value_and_grad(self, fn, *arrays):
        inputs = [Node(np.array(a), requires_grad=True) for a in arrays]
        out = fn(*inputs)
        return float(value(out)), backprop(out, inputs)
