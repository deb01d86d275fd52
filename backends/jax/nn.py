"""The contract's ops with `jax.numpy` and `jax.lax`.

JAX's own layouts match Keras's (NHWC activations, HWIO kernels, TensorFlow's 'SAME' rule with
the extra padding after), so convolution and pooling need no transposes. Where JAX's gradient
convention differs from the NumPy reference at ties (``maximum``, ``clip``: JAX splits the
gradient in half), the op is written with ``where`` so the gradient goes where the reference
sends it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

# -- elementwise, unary --------------------------------------------------------------------------

negative = jnp.negative
exp = jnp.exp
log = jnp.log
log1p = jnp.log1p
sqrt = jnp.sqrt
square = jnp.square
abs = jnp.abs  # noqa: A001 - the contract's name
relu = jax.nn.relu  # gradient 0 at 0, as in the reference
sigmoid = jax.nn.sigmoid
tanh = jnp.tanh


def softmax(x):
    return jax.nn.softmax(x, axis=-1)


def log_softmax(x):
    return jax.nn.log_softmax(x, axis=-1)


def clip(x, lo, hi):
    # jnp.clip halves the gradient at the bounds; the contract passes it through on [lo, hi].
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x))


# -- elementwise, binary -------------------------------------------------------------------------

add = jnp.add
subtract = jnp.subtract
multiply = jnp.multiply
divide = jnp.divide


def maximum(a, b):
    # jnp.maximum splits the gradient at ties; the reference gives it all to `a`.
    return jnp.where(a >= b, a, b)


# -- reductions ----------------------------------------------------------------------------------


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return jnp.mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return jnp.max(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    return jnp.argmax(x, axis=axis)


# -- linear algebra and neural-network ops -------------------------------------------------------

matmul = jnp.matmul


def bias_add(x, b):
    return x + b


def _padding(padding: str) -> str:
    return {"valid": "VALID", "same": "SAME"}[padding]


def conv2d(x, kernel, strides, padding):
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=tuple(strides),
        padding=_padding(padding),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )


def conv1d(x, kernel, stride, padding):
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=(stride,),
        padding=_padding(padding),
        dimension_numbers=("NWC", "WIO", "NWC"),
    )


def _max_pool(x, window, strides, padding):
    # -inf init: 'same' padding never wins the max, as in Keras. A Python float init and
    # lax.max make JAX pick its reduce_window_max primitive, whose gradient is a scatter.
    return lax.reduce_window(
        x, -jnp.inf, lax.max, (1, *window, 1), (1, *strides, 1), _padding(padding)
    )


def max_pool2d(x, pool_size, strides, padding):
    return _max_pool(x, tuple(pool_size), tuple(strides), padding)


def max_pool1d(x, pool_size, stride, padding):
    return _max_pool(x, (pool_size,), (stride,), padding)


def reshape(x, shape):
    return jnp.reshape(x, shape)


def concatenate(tensors, axis):
    return jnp.concatenate(tensors, axis=axis)


def gather(table, indices):
    return jnp.take(table, indices, axis=0)


def repeat(x, n):
    return jnp.broadcast_to(x[:, None], (x.shape[0], n, x.shape[1]))


def reverse(x, axis):
    return jnp.flip(x, axis)


def split(x, num, axis):
    return jnp.split(x, num, axis=axis)


def dropout(x, rate, rng):
    """Inverted dropout drawn from the key `rng` (no hidden state: the same key, the same mask)."""
    keep = jax.random.bernoulli(rng, 1.0 - rate, jnp.shape(x))
    return jnp.where(keep, x / (1.0 - rate), jnp.zeros((), x.dtype))


# -- no gradient ---------------------------------------------------------------------------------


def one_hot(labels, num_classes):
    return jax.nn.one_hot(jnp.asarray(labels).astype(jnp.int32), num_classes, dtype=jnp.float32)


def equal(a, b):
    return jnp.equal(a, b).astype(jnp.float32)


def greater(a, b):
    return jnp.greater(a, b).astype(jnp.float32)


def cast_float(x):
    return jnp.asarray(x).astype(jnp.float32)


def batch_zeros(x, size):
    return jnp.zeros((jnp.shape(x)[0], size), jnp.float32)
