"""Test cases for every op of the backend contract: inputs and how to call the op.

Each case is ``(id, op_name, fn, make_inputs)`` where ``fn(K, *tensors)`` calls the op and
``make_inputs(rng, dtype)`` returns the NumPy inputs. Gradient tests reduce the op's output to a
scalar with fixed random weights so that every element's gradient matters.
"""

from __future__ import annotations

import numpy as np

from benchbench.backend_ops import NON_DIFFERENTIABLE_OPS

#: Rows looked up by the gather cases: repeated ids, so their gradients must add up.
IDS = np.array([[0, 3, 3, 1], [4, 0, 3, 2]], dtype=np.int32)


def _normal(*shape):
    return lambda rng, dt: [rng.standard_normal(shape).astype(dt)]


def _positive(*shape):
    return lambda rng, dt: [rng.uniform(0.5, 2.0, shape).astype(dt)]


def _pair(shape_a, shape_b, positive_b=False):
    def make(rng, dt):
        a = rng.standard_normal(shape_a).astype(dt)
        b = rng.uniform(0.5, 2.0, shape_b) if positive_b else rng.standard_normal(shape_b)
        return [a, b.astype(dt)]

    return make


def _distinct(*shape):
    # a permutation of well-separated values: no ties for max / maximum / argmax
    def make(rng, dt):
        n = int(np.prod(shape))
        values = (rng.permutation(n).reshape(shape) - n / 2 + 0.5) * 0.1  # no zero: no kinks
        return [values.astype(dt)]

    return make


def _max_pair(rng, dt):
    a = rng.standard_normal((3, 4))
    b = a + rng.choice([-0.5, 0.5], size=(3, 4))
    return [a.astype(dt), b.astype(dt)]


def _conv(x_shape, k_shape):
    def make(rng, dt):
        return [rng.standard_normal(x_shape).astype(dt), rng.standard_normal(k_shape).astype(dt)]

    return make


CASES = [
    ("negative", "negative", lambda K, x: K.negative(x), _normal(3, 4)),
    ("exp", "exp", lambda K, x: K.exp(x), _normal(3, 4)),
    ("log", "log", lambda K, x: K.log(x), _positive(3, 4)),
    ("log1p", "log1p", lambda K, x: K.log1p(x), _positive(3, 4)),
    ("sqrt", "sqrt", lambda K, x: K.sqrt(x), _positive(3, 4)),
    ("square", "square", lambda K, x: K.square(x), _normal(3, 4)),
    ("abs", "abs", lambda K, x: K.abs(x), _distinct(3, 4)),
    ("relu", "relu", lambda K, x: K.relu(x), _distinct(3, 4)),
    ("sigmoid", "sigmoid", lambda K, x: K.sigmoid(x), _normal(3, 4)),
    ("tanh", "tanh", lambda K, x: K.tanh(x), _normal(3, 4)),
    ("softmax", "softmax", lambda K, x: K.softmax(x), _normal(3, 5)),
    ("log_softmax", "log_softmax", lambda K, x: K.log_softmax(x), _normal(3, 5)),
    ("clip", "clip", lambda K, x: K.clip(x, -0.55, 0.65), _normal(4, 5)),
    ("add", "add", lambda K, a, b: K.add(a, b), _pair((3, 4), (3, 4))),
    ("add-broadcast", "add", lambda K, a, b: K.add(a, b), _pair((3, 4), (4,))),
    ("subtract", "subtract", lambda K, a, b: K.subtract(a, b), _pair((3, 4), (1, 4))),
    ("multiply", "multiply", lambda K, a, b: K.multiply(a, b), _pair((3, 4), (3, 1))),
    ("divide", "divide", lambda K, a, b: K.divide(a, b), _pair((3, 4), (4,), positive_b=True)),
    ("maximum", "maximum", lambda K, a, b: K.maximum(a, b), _max_pair),
    ("sum", "sum", lambda K, x: K.sum(x), _normal(3, 4)),
    ("sum-axis", "sum", lambda K, x: K.sum(x, axis=-1), _normal(3, 4)),
    ("sum-keepdims", "sum", lambda K, x: K.sum(x, axis=0, keepdims=True), _normal(3, 4)),
    ("mean", "mean", lambda K, x: K.mean(x), _normal(3, 4)),
    ("mean-axis", "mean", lambda K, x: K.mean(x, axis=1, keepdims=True), _normal(3, 4)),
    ("matmul", "matmul", lambda K, a, b: K.matmul(a, b), _pair((5, 3), (3, 4))),
    ("bias_add", "bias_add", lambda K, x, b: K.bias_add(x, b), _pair((2, 3, 4), (4,))),
    (
        "conv2d-valid",
        "conv2d",
        lambda K, x, k: K.conv2d(x, k, (1, 1), "valid"),
        _conv((2, 6, 5, 3), (3, 3, 3, 4)),
    ),
    (
        "conv2d-same-strided",
        "conv2d",
        lambda K, x, k: K.conv2d(x, k, (2, 2), "same"),
        _conv((2, 6, 5, 3), (3, 2, 3, 4)),
    ),
    (
        "conv2d-same-even",
        "conv2d",
        lambda K, x, k: K.conv2d(x, k, (1, 1), "same"),
        _conv((2, 5, 5, 2), (2, 2, 2, 3)),
    ),
    (
        "conv1d-valid",
        "conv1d",
        lambda K, x, k: K.conv1d(x, k, 1, "valid"),
        _conv((2, 9, 3), (3, 3, 4)),
    ),
    (
        "conv1d-strided",
        "conv1d",
        lambda K, x, k: K.conv1d(x, k, 2, "valid"),
        _conv((2, 10, 1), (5, 1, 3)),
    ),
    (
        "conv1d-same",
        "conv1d",
        lambda K, x, k: K.conv1d(x, k, 2, "same"),
        _conv((2, 9, 2), (3, 2, 3)),
    ),
    (
        "max_pool2d",
        "max_pool2d",
        lambda K, x: K.max_pool2d(x, (2, 2), (2, 2), "valid"),
        _distinct(2, 6, 6, 3),
    ),
    (
        "max_pool2d-overlap",
        "max_pool2d",
        lambda K, x: K.max_pool2d(x, (3, 3), (2, 2), "valid"),
        _distinct(2, 7, 7, 2),
    ),
    (
        "max_pool2d-same",
        "max_pool2d",
        lambda K, x: K.max_pool2d(x, (2, 2), (2, 2), "same"),
        _distinct(2, 5, 5, 2),
    ),
    ("max_pool1d", "max_pool1d", lambda K, x: K.max_pool1d(x, 2, 2, "valid"), _distinct(2, 8, 3)),
    (
        "max_pool1d-same",
        "max_pool1d",
        lambda K, x: K.max_pool1d(x, 3, 2, "same"),
        _distinct(2, 8, 2),
    ),
    ("reshape", "reshape", lambda K, x: K.reshape(x, (-1, 12)), _normal(2, 3, 4)),
    (
        "concatenate",
        "concatenate",
        lambda K, a, b: K.concatenate([a, b], 1),
        _pair((3, 2), (3, 4)),
    ),
    ("max", "max", lambda K, x: K.max(x), _distinct(3, 4)),
    ("max-axis", "max", lambda K, x: K.max(x, axis=1), _distinct(2, 5, 3)),
    ("max-keepdims", "max", lambda K, x: K.max(x, axis=0, keepdims=True), _distinct(3, 4)),
    ("gather", "gather", lambda K, t: K.gather(t, K.convert(IDS)), _normal(5, 3)),
    ("gather-1d", "gather", lambda K, t: K.gather(t, K.convert(IDS[0])), _normal(5, 3)),
    ("repeat", "repeat", lambda K, x: K.repeat(x, 3), _normal(2, 4)),
    ("reverse", "reverse", lambda K, x: K.reverse(x, 1), _normal(2, 3, 4)),
    ("reverse-last", "reverse", lambda K, x: K.reverse(x, 2), _normal(2, 3, 4)),
    ("split", "split", lambda K, x: K.concatenate(K.split(x, 3, -1), 0), _normal(2, 6)),
    ("split-axis0", "split", lambda K, x: K.concatenate(K.split(x, 2, 0)[::-1], 1), _normal(4, 3)),
    ("argmax", "argmax", lambda K, x: K.argmax(x), _distinct(4, 5)),
    ("one_hot", "one_hot", lambda K, x: K.one_hot(K.argmax(x), 5), _distinct(4, 5)),
    (
        "equal",
        "equal",
        lambda K, a, b: K.equal(K.argmax(a), K.argmax(b)),
        lambda rng, dt: [
            rng.permutation(20).reshape(4, 5).astype(dt),
            rng.permutation(20).reshape(4, 5).astype(dt),
        ],
    ),
    ("greater", "greater", lambda K, a, b: K.greater(a, b), _max_pair),
    ("cast_float", "cast_float", lambda K, x: K.cast_float(K.argmax(x)), _distinct(4, 5)),
    ("batch_zeros", "batch_zeros", lambda K, x: K.batch_zeros(x, 3), _normal(4, 2)),
]

DIFFERENTIABLE = [c for c in CASES if c[1] not in NON_DIFFERENTIABLE_OPS]


def scalarize(K, fn, weights):
    """``fn`` reduced to a scalar: sum(op_output * weights)."""

    def scalar(*tensors):
        return K.sum(K.multiply(fn(K, *tensors), K.convert(weights)))

    return scalar


def output_shape(reference, fn, inputs):
    return reference.evaluate(lambda *t: fn(reference, *t), *inputs).shape
