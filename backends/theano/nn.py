"""The contract's ops as PyTensor (or Theano) tensor expressions, differentiated by ``grad``.

PyTensor 3 has no convolution or pooling ops, so both are built from tensor ops: convolution is
im2col (the kh*kw shifted strided slices of the padded input, concatenated along channels) and
one matrix product with the reshaped kernel; max-pooling is the elementwise maximum of the same
slices, which the graph rewrites fuse into one loop. The 1-D forms are the 2-D ones on a
height-1 image. Spatial sizes are read from the static shapes, which inputs and variables carry.
"""

from __future__ import annotations

import functools

import numpy as np

from backends.theano.engine import SharedVariable, T, abs_, uniform
from backends.theano.engine import log_softmax as _log_softmax
from backends.theano.engine import sigmoid as _sigmoid
from backends.theano.engine import softmax as _softmax
from benchbench.backend_ops import padding_amounts

_seeds = np.random.SeedSequence(0)
#: (rng, next_rng) pairs of the dropout layers in the graph being built; the code that compiles
#: the graph takes them with `take_rng_updates` and applies them on every call.
_rng_updates: list = []


def set_seed(seed: int) -> None:
    global _seeds
    _seeds = np.random.SeedSequence(seed)


def take_rng_updates() -> list:
    updates = [u for u in _rng_updates if u is not None]
    _rng_updates.clear()
    return updates


# -- elementwise ---------------------------------------------------------------------------------

negative = T.neg
exp = T.exp
log = T.log
log1p = T.log1p
sqrt = T.sqrt
square = T.sqr
abs = abs_  # noqa: A001 - the contract's name
sigmoid = _sigmoid
tanh = T.tanh
add = T.add
subtract = T.sub
multiply = T.mul
divide = T.true_div
maximum = T.maximum


def relu(x):
    # x * (x > 0) rather than maximum(x, 0): the gradient at exactly 0 is 0, as in the
    # reference. Its gradient (x > 0) * dy fuses into one loop with its neighbours, where a
    # switch's gradient stayed a lone Switch node (15 ms a mnist_cnn step for the second conv)
    return x * T.cast(T.gt(x, 0), x.dtype)


def softmax(x):
    return _softmax(x, axis=-1)


def log_softmax(x):
    return _log_softmax(x, axis=-1)


def clip(x, lo, hi):
    return T.clip(x, lo, hi)


# -- reductions ----------------------------------------------------------------------------------


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return T.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return T.mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    # the gradient goes to every maximum at ties (the reference shares it between them)
    return T.max(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    return T.argmax(x, axis=axis)


# -- linear algebra and neural-network ops -------------------------------------------------------


def matmul(a, b):
    return T.dot(a, b)


def bias_add(x, b):
    return x + b


def _static_shape(v) -> tuple:
    """The sizes of `v` known when the graph is built (a shared variable's from its value)."""
    shape = tuple(v.type.shape) if hasattr(v.type, "shape") else (None,) * v.ndim
    if None in shape and isinstance(v, SharedVariable):
        shape = v.get_value(borrow=True).shape
    return shape


def _spatial(x, rank: int) -> tuple[int, ...]:
    sizes = _static_shape(x)[1 : 1 + rank]
    if None in sizes:
        raise ValueError(f"convolution and pooling need static spatial sizes, got {x.type}")
    return sizes


def _pad(x, pads, value: float):
    """`x` (n, h, w, c) padded with `value` on h and w; the gradient is a slice of the output's."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    h, w = _spatial(x, 2)
    base = T.alloc(
        np.asarray(value, dtype=x.dtype),
        x.shape[0],
        h + top + bottom,
        w + left + right,
        x.shape[3],
    )
    return T.set_subtensor(base[:, top : top + h, left : left + w, :], x)


def _window_slices(x, window, strides, padding, pad_value):
    """Returns (slices, (oh, ow)): one strided slice of `x` (padded with `pad_value`) per window
    element, in row-major (i, j) order, each (n, oh, ow, c).

    Strided slices are views, their gradients increments of a zero tensor, and a concatenation
    or an elementwise maximum of them is one C loop: per training step this costs about half of
    a gather of the windows by flat offsets, whose int64 offset tensor alone is as large as the
    im2col matrix (measured on mnist_cnn, see the closing note of issue 8).
    """
    sizes = _spatial(x, 2)
    geometry = [
        padding_amounts(n, k, s, padding) for n, k, s in zip(sizes, window, strides, strict=True)
    ]
    x = _pad(x, [g[:2] for g in geometry], pad_value)
    (oh, ow), (sh, sw) = [g[2] for g in geometry], strides
    slices = [
        x[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]
        for i in range(window[0])
        for j in range(window[1])
    ]
    return slices, (oh, ow)


def conv2d(x, kernel, strides, padding):
    kh, kw, c, f = _static_shape(kernel)
    slices, (oh, ow) = _window_slices(x, (kh, kw), tuple(strides), padding, 0.0)
    # window elements in (i, j) order, then channels: the kernel's row-major (kh, kw, c)
    cols = T.concatenate(slices, axis=3) if len(slices) > 1 else slices[0]
    n = x.shape[0]
    out = T.dot(T.reshape(cols, (n * oh * ow, kh * kw * c)), T.reshape(kernel, (kh * kw * c, f)))
    return T.reshape(out, (n, oh, ow, f))


def max_pool2d(x, pool_size, strides, padding):
    # every maximum of a window gets the gradient at ties (as T.max's gradient does); the
    # reference gives it to the first
    slices, _ = _window_slices(x, tuple(pool_size), tuple(strides), padding, -np.inf)
    return functools.reduce(T.maximum, slices)


def conv1d(x, kernel, stride, padding):
    # (n, w, c) -> (n, 1, w, c) and (k, c, f) -> (1, k, c, f): views
    y = conv2d(T.shape_padaxis(x, 1), T.shape_padaxis(kernel, 0), (1, stride), padding)
    return y[:, 0]


def max_pool1d(x, pool_size, stride, padding):
    return max_pool2d(T.shape_padaxis(x, 1), (1, pool_size), (1, stride), padding)[:, 0]


def reshape(x, shape):
    return T.reshape(x, tuple(shape), ndim=len(shape))


def concatenate(tensors, axis):
    return T.concatenate(list(tensors), axis=axis)


def gather(table, indices):
    # rows by a flat index vector: AdvancedSubtensor1, whose gradient (an increment of the
    # same rows) runs as C; the lookup is reshaped to the indices' shape after
    width = _static_shape(table)[1]
    rows = table[T.flatten(indices)]
    if indices.ndim == 1:
        return rows
    shape = [indices.shape[i] for i in range(indices.ndim)]
    return T.reshape(rows, (*shape, width), ndim=indices.ndim + 1)


def repeat(x, n):
    return T.alloc(x.dimshuffle(0, "x", 1), x.shape[0], n, x.shape[1])


def _along(x, axis: int, index):
    axis = axis % x.ndim
    return x[(slice(None),) * axis + (index,)]


def reverse(x, axis):
    return _along(x, axis, slice(None, None, -1))


def split(x, num, axis):
    size = _static_shape(x)[axis % x.ndim]
    size = x.shape[axis % x.ndim] // num if size is None else size // num
    return [_along(x, axis, slice(k * size, (k + 1) * size)) for k in range(num)]


def dropout(x, rate, rng):
    """Inverted dropout; the mask comes from a shared generator per call site, advanced by every
    call of the compiled function (`take_rng_updates`), so each step draws a new mask."""
    seed = int(_seeds.spawn(1)[0].generate_state(1)[0])
    draw, update = uniform(x.shape, x.dtype, seed)
    _rng_updates.append(update)
    scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
    return T.switch(T.ge(draw, np.asarray(rate, dtype=x.dtype)), x * scale, 0)


# -- no gradient ---------------------------------------------------------------------------------


def one_hot(labels, num_classes):
    return T.cast(T.eq(labels.dimshuffle(0, "x"), T.arange(num_classes)), "float32")


def equal(a, b):
    return T.cast(T.eq(a, b), "float32")


def greater(a, b):
    return T.cast(T.gt(a, b), "float32")


def cast_float(x):
    return T.cast(x, "float32")


def batch_zeros(x, size):
    return T.zeros((x.shape[0], size), dtype="float32")
