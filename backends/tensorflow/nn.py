"""The contract's ops with TensorFlow's native functions.

Keras's layouts are TensorFlow's own (NHWC activations, HWIO kernels, 'same' padding with the
extra pixel after), so convolution and pooling map one to one.
"""

from __future__ import annotations

import tensorflow as tf

negative = tf.negative
exp = tf.exp
log = tf.math.log
log1p = tf.math.log1p
sqrt = tf.sqrt
square = tf.square
abs = tf.abs  # noqa: A001 - the contract's name
relu = tf.nn.relu
sigmoid = tf.sigmoid
tanh = tf.tanh


def softmax(x):
    return tf.nn.softmax(x, axis=-1)


def log_softmax(x):
    return tf.nn.log_softmax(x, axis=-1)


def clip(x, lo, hi):
    return tf.clip_by_value(x, lo, hi)


add = tf.add
subtract = tf.subtract
multiply = tf.multiply
divide = tf.divide
maximum = tf.maximum


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return tf.reduce_mean(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return tf.reduce_max(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    return tf.argmax(x, axis=axis, output_type=tf.int32)


matmul = tf.matmul


def bias_add(x, b):
    return tf.add(x, b)


def conv2d(x, kernel, strides, padding):
    return tf.nn.conv2d(x, kernel, strides=tuple(strides), padding=padding.upper())


def conv1d(x, kernel, stride, padding):
    return tf.nn.conv1d(x, kernel, stride=stride, padding=padding.upper())


def max_pool2d(x, pool_size, strides, padding):
    return tf.nn.max_pool2d(x, tuple(pool_size), tuple(strides), padding.upper())


def max_pool1d(x, pool_size, stride, padding):
    return tf.nn.max_pool1d(x, pool_size, stride, padding.upper())


def reshape(x, shape):
    return tf.reshape(x, shape)


def concatenate(tensors, axis):
    return tf.concat(tensors, axis=axis)


def gather(table, indices):
    # the gradient is IndexedSlices; the trainer turns it dense, as Keras 2's updates were
    return tf.gather(table, indices)


def repeat(x, n):
    return tf.tile(tf.expand_dims(x, 1), [1, n, 1])


def reverse(x, axis):
    return tf.reverse(x, [axis])


def split(x, num, axis):
    return tf.split(x, num, axis=axis)


def dropout(x, rate, rng):
    if rng is None:  # called outside a train step: the global generator seeded by setup
        return tf.nn.dropout(x, rate)
    # Stateless, so a traced step draws a fresh mask from the seed it is given on every call.
    return tf.nn.experimental.stateless_dropout(x, rate, seed=rng)


# -- no gradient ---------------------------------------------------------------------------------


def one_hot(labels, num_classes):
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        labels = tf.cast(labels, tf.int32)
    return tf.one_hot(labels, num_classes, dtype=tf.float32)


def _same_dtype(a, b):
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    if a.dtype != b.dtype:
        return tf.cast(a, tf.float32), tf.cast(b, tf.float32)
    return a, b


def equal(a, b):
    return tf.cast(tf.equal(*_same_dtype(a, b)), tf.float32)


def greater(a, b):
    return tf.cast(tf.greater(a, b), tf.float32)


def cast_float(x):
    return tf.cast(x, tf.float32)


def batch_zeros(x, size):
    return tf.zeros(tf.stack([tf.shape(x)[0], size]), tf.float32)
