"""The contract's ops in NumPy, each forward next to its gradient.

Convolution and pooling use im2col over ``sliding_window_view``; the 1-D forms are the 2-D ones
on a height-1 image.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from backends.numpy.core import constant, make, unbroadcast, value
from benchbench.backend_ops import padding_amounts

_rng = np.random.default_rng(0)


def set_seed(seed: int) -> None:
    global _rng
    _rng = np.random.default_rng(seed)


# -- elementwise, unary --------------------------------------------------------------------------


def negative(x):
    return make(-value(x), (x, lambda g: -g))


def exp(x):
    y = np.exp(value(x))
    return make(y, (x, lambda g: g * y))


def log(x):
    v = value(x)
    return make(np.log(v), (x, lambda g: g / v))


def log1p(x):
    v = value(x)
    return make(np.log1p(v), (x, lambda g: g / (1.0 + v)))


def sqrt(x):
    y = np.sqrt(value(x))
    return make(y, (x, lambda g: g / (2.0 * y)))


def square(x):
    v = value(x)
    return make(v * v, (x, lambda g: 2.0 * v * g))


def abs(x):  # noqa: A001 - the contract's name
    v = value(x)
    return make(np.abs(v), (x, lambda g: g * np.sign(v)))


def relu(x):
    v = value(x)
    y = np.maximum(v, 0.0)
    return make(y, (x, lambda g: g * (v > 0)))


def sigmoid(x):
    v = value(x)
    y = np.where(
        v >= 0, 1.0 / (1.0 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) / (1.0 + np.exp(-np.abs(v)))
    )
    y = y.astype(v.dtype, copy=False)
    return make(y, (x, lambda g: g * y * (1.0 - y)))


def tanh(x):
    y = np.tanh(value(x))
    return make(y, (x, lambda g: g * (1.0 - y * y)))


def softmax(x):
    v = value(x)
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    return make(y, (x, lambda g: y * (g - (g * y).sum(axis=-1, keepdims=True))))


def log_softmax(x):
    v = value(x)
    shifted = v - v.max(axis=-1, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return make(y, (x, lambda g: g - np.exp(y) * g.sum(axis=-1, keepdims=True)))


def clip(x, lo, hi):
    v = value(x)
    return make(np.clip(v, lo, hi), (x, lambda g: g * ((v >= lo) & (v <= hi))))


# -- elementwise, binary -------------------------------------------------------------------------


def _shape(x):
    return np.shape(value(x))


def add(a, b):
    va, vb = value(a), value(b)
    return make(
        va + vb, (a, lambda g: unbroadcast(g, _shape(a))), (b, lambda g: unbroadcast(g, _shape(b)))
    )


def subtract(a, b):
    va, vb = value(a), value(b)
    return make(
        va - vb,
        (a, lambda g: unbroadcast(g, _shape(a))),
        (b, lambda g: unbroadcast(-g, _shape(b))),
    )


def multiply(a, b):
    va, vb = value(a), value(b)
    return make(
        va * vb,
        (a, lambda g: unbroadcast(g * vb, _shape(a))),
        (b, lambda g: unbroadcast(g * va, _shape(b))),
    )


def divide(a, b):
    va, vb = value(a), value(b)
    return make(
        va / vb,
        (a, lambda g: unbroadcast(g / vb, _shape(a))),
        (b, lambda g: unbroadcast(-g * va / (vb * vb), _shape(b))),
    )


def maximum(a, b):
    va, vb = value(a), value(b)
    mask = va >= vb
    return make(
        np.maximum(va, vb),
        (a, lambda g: unbroadcast(g * mask, _shape(a))),
        (b, lambda g: unbroadcast(g * ~mask, _shape(b))),
    )


# -- reductions ----------------------------------------------------------------------------------


def sum(x, axis=None, keepdims=False):  # noqa: A001
    v = value(x)

    def grad(g):
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)
        return np.broadcast_to(g, v.shape)

    return make(np.sum(v, axis=axis, keepdims=keepdims), (x, grad))


def mean(x, axis=None, keepdims=False):
    v = value(x)
    count = int(v.size if axis is None else np.prod([v.shape[a] for a in np.atleast_1d(axis)]))
    total = sum(x, axis, keepdims)
    return make(total.value / count, (total, lambda g: g / count))


def max(x, axis=None, keepdims=False):  # noqa: A001
    v = value(x)
    out = np.max(v, axis=axis, keepdims=True)
    hit = (v == out).astype(v.dtype)
    share = hit / hit.sum(axis=axis, keepdims=True)  # ties share the gradient equally

    def grad(g):
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)
        return g * share

    return make(out if keepdims else np.squeeze(out, axis=axis), (x, grad))


def argmax(x, axis=-1):
    return constant(np.argmax(value(x), axis=axis))


# -- linear algebra and neural-network ops -------------------------------------------------------


def matmul(a, b):
    va, vb = value(a), value(b)
    return make(va @ vb, (a, lambda g: g @ vb.T), (b, lambda g: va.T @ g))


def bias_add(x, b):
    v, vb = value(x), value(b)
    return make(v + vb, (x, lambda g: g), (b, lambda g: g.reshape(-1, vb.shape[0]).sum(axis=0)))


def _windows(xp, window, strides, out_hw):
    """(n, oh, ow, c, kh, kw) view of every window of the padded input."""
    (kh, kw), (sh, sw), (oh, ow) = window, strides, out_hw
    return sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]


def _scatter_windows(parts, xp_shape, window, strides, out_hw, pads, dtype):
    """Adds each window position's gradient (..., kh, kw, c) back into the padded input's
    gradient, then crops the padding."""
    (kh, kw), (sh, sw), (oh, ow) = window, strides, out_hw
    dxp = np.zeros(xp_shape, dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :] += parts(
                i, j
            )
    (pt, pb), (pl, pr) = pads
    return dxp[:, pt : dxp.shape[1] - pb, pl : dxp.shape[2] - pr, :]


def conv2d(x, kernel, strides, padding):
    v, w = value(x), value(kernel)
    n, h, wd, c = v.shape
    kh, kw, _, f = w.shape
    pt, pb, oh = padding_amounts(h, kh, strides[0], padding)
    pl, pr, ow = padding_amounts(wd, kw, strides[1], padding)
    xp = np.pad(v, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    cols = _windows(xp, (kh, kw), strides, (oh, ow)).transpose(0, 1, 2, 4, 5, 3)
    cols = cols.reshape(n * oh * ow, kh * kw * c)
    wmat = w.reshape(kh * kw * c, f)
    out = (cols @ wmat).reshape(n, oh, ow, f)

    def grad_x(g):
        dcols = (g.reshape(-1, f) @ wmat.T).reshape(n, oh, ow, kh, kw, c)
        return _scatter_windows(
            lambda i, j: dcols[:, :, :, i, j, :],
            xp.shape,
            (kh, kw),
            strides,
            (oh, ow),
            ((pt, pb), (pl, pr)),
            v.dtype,
        )

    def grad_w(g):
        return (cols.T @ g.reshape(-1, f)).reshape(w.shape)

    return make(out, (x, grad_x), (kernel, grad_w))


def max_pool2d(x, pool_size, strides, padding):
    v = value(x)
    n, h, wd, c = v.shape
    ph, pw = pool_size
    pt, pb, oh = padding_amounts(h, ph, strides[0], padding)
    pl, pr, ow = padding_amounts(wd, pw, strides[1], padding)
    xp = np.pad(v, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-np.inf)
    flat = _windows(xp, (ph, pw), strides, (oh, ow)).reshape(n, oh, ow, c, ph * pw)
    arg = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]

    def grad_x(g):
        return _scatter_windows(
            lambda i, j: g * (arg == i * pw + j),
            xp.shape,
            (ph, pw),
            strides,
            (oh, ow),
            ((pt, pb), (pl, pr)),
            v.dtype,
        )

    return make(out, (x, grad_x))


def conv1d(x, kernel, stride, padding):
    n, w, c = _shape(x)
    k, _, f = _shape(kernel)
    y = conv2d(reshape(x, (n, 1, w, c)), reshape(kernel, (1, k, c, f)), (1, stride), padding)
    return reshape(y, (n, y.shape[2], f))


def max_pool1d(x, pool_size, stride, padding):
    n, w, c = _shape(x)
    y = max_pool2d(reshape(x, (n, 1, w, c)), (1, pool_size), (1, stride), padding)
    return reshape(y, (n, y.shape[2], c))


def reshape(x, shape):
    v = value(x)
    return make(v.reshape(shape), (x, lambda g: g.reshape(v.shape)))


def concatenate(tensors, axis):
    values = [value(t) for t in tensors]
    bounds = np.cumsum([v.shape[axis] for v in values])[:-1]
    out = np.concatenate(values, axis=axis)
    edges = [(t, lambda g, k=k: np.split(g, bounds, axis=axis)[k]) for k, t in enumerate(tensors)]
    return make(out, *edges)


def gather(table, indices):
    t, idx = value(table), np.asarray(value(indices))

    def grad(g):
        dt = np.zeros_like(t)
        np.add.at(dt, idx.reshape(-1), g.reshape(-1, t.shape[1]))
        return dt

    return make(t[idx], (table, grad))


def repeat(x, n):
    v = value(x)
    return make(np.repeat(v[:, None], n, axis=1), (x, lambda g: g.sum(axis=1)))


def reverse(x, axis):
    return make(np.flip(value(x), axis), (x, lambda g: np.flip(g, axis)))


def split(x, num, axis):
    v = value(x)
    size = v.shape[axis] // num

    def piece(k):
        def grad(g):
            out = np.zeros_like(v)
            index = [slice(None)] * v.ndim
            index[axis] = slice(k * size, (k + 1) * size)
            out[tuple(index)] = g
            return out

        return make(np.split(v, num, axis=axis)[k], (x, grad))

    return [piece(k) for k in range(num)]


def dropout(x, rate, rng):
    v = value(x)
    mask = (_rng.random(v.shape, dtype=np.float32) >= rate).astype(v.dtype) / (1.0 - rate)
    return make(v * mask, (x, lambda g: g * mask))


# -- no gradient ---------------------------------------------------------------------------------


def one_hot(labels, num_classes):
    v = np.asarray(value(labels)).astype(np.int64)
    return constant(np.eye(num_classes, dtype=np.float32)[v])


def equal(a, b):
    return constant((value(a) == value(b)).astype(np.float32))


def greater(a, b):
    return constant((value(a) > value(b)).astype(np.float32))


def cast_float(x):
    return constant(np.asarray(value(x)).astype(np.float32))


def batch_zeros(x, size):
    return constant(np.zeros((np.shape(value(x))[0], size), dtype=np.float32))
