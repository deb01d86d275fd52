"""Sequence layers of the ``native:tensorflow`` lane, as a TensorFlow user writes them.

An LSTM or GRU is its input projection for every step in one ``tf.matmul``, then a hand-written
cell in a ``tf.while_loop`` over the time-major steps, reading them from a ``TensorArray`` and
writing the hidden states to another, inside the lane's ``tf.function`` (and under XLA with
``BENCHBENCH_TF_JIT=1``: the loop has XLA kernels). TensorFlow's fused LSTM kernel
(``BlockLSTM``) computes the same function but was slower than the loop on the development CPU
(see the adapter's notes), and has no GRU; the loop is what a user who times the step keeps.
Keras's layouts are TensorFlow's: kernels ``(in, gates * units)``, gates i, f, c, o (LSTM) and
z, r, h (GRU, both ``reset_after`` forms). A Bidirectional runs the backward direction from the
last step to the first and writes its outputs in input order, as Keras's merge wants them.
"""

from __future__ import annotations

import tensorflow as tf

from benchbench import lanes
from benchbench import layers as L

LANE = "native:tensorflow"

GATES = {
    "sigmoid": tf.sigmoid,
    "hard_sigmoid": lambda x: tf.clip_by_value(0.2 * x + 0.5, 0.0, 1.0),  # Keras 2's
}


def matmul_last(x, kernel):
    """`x` times `kernel` on its last axis, as one 2-D ``MatMul`` over the rows of every step
    (an ``einsum`` there is a batched product whose kernel gradient is a sum over the batch)."""
    if x.shape.rank == 2:
        return tf.matmul(x, kernel)
    rows = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), kernel)
    return tf.reshape(rows, tf.concat([tf.shape(x)[:-1], tf.shape(kernel)[-1:]], 0))


def _lstm_step(gate, w):
    def step(states, projected):
        h, c = states
        z = projected + tf.matmul(h, w[1])
        z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
        c = gate(z_f) * c + gate(z_i) * tf.tanh(z_c)
        h = gate(z_o) * tf.tanh(c)
        return (h, c), h

    return step


def _gru_step(gate, inner, w):
    units = inner.units

    def step(states, projected):
        (h,) = states
        x_z, x_r, x_h = tf.split(projected, 3, axis=-1)
        if inner.reset_after:
            recurrent = tf.matmul(h, w[1])
            if inner.use_bias:
                recurrent = recurrent + w[2][1]
            r_z, r_r, r_h = tf.split(recurrent, 3, axis=-1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = tf.tanh(x_h + r * r_h)
        else:
            r_z, r_r = tf.split(tf.matmul(h, w[1][:, : 2 * units]), 2, axis=-1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = tf.tanh(x_h + tf.matmul(r * h, w[1][:, 2 * units :]))
        h = z * h + (1.0 - z) * candidate
        return (h,), h

    return step


def _loop(step, projected, states, reverse: bool, aligned: bool):
    """Runs `step` over the steps of `projected` (batch, time, gates * units): ``(last hidden
    state, outputs (time, batch, units))``; outputs in input order if `aligned`, else in the
    order they are computed."""
    steps = projected.shape[1]
    time_major = tf.transpose(projected, [1, 0, 2])
    inputs = tf.TensorArray(
        projected.dtype, size=steps, element_shape=time_major.shape[1:]
    ).unstack(time_major)
    outputs = tf.TensorArray(projected.dtype, size=steps)

    def body(t, states, outputs):
        index = steps - 1 - t if reverse else t
        states, h = step(states, inputs.read(index))
        return t + 1, states, outputs.write(index if aligned else t, h)

    _, states, outputs = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), states, outputs),
        maximum_iterations=steps,  # the gradient's accumulators are reserved, not grown
    )
    return states[0], outputs.stack()


def _direction(inner, w, x, reverse: bool, aligned: bool):
    gate = GATES[inner.recurrent_activation]
    lstm = isinstance(inner, L.LSTM)
    projected = matmul_last(x, w[0])
    if inner.use_bias:
        projected = projected + (w[2][0] if getattr(inner, "reset_after", False) else w[2])
    zeros = tf.zeros((tf.shape(x)[0], inner.units), x.dtype)
    step = _lstm_step(gate, w) if lstm else _gru_step(gate, inner, w)
    return _loop(step, projected, (zeros, zeros) if lstm else (zeros,), reverse, aligned)


def _merge(mode, ahead, behind):
    if mode == "concat":
        return tf.concat([ahead, behind], axis=-1)
    if mode == "sum":
        return ahead + behind
    if mode == "mul":
        return ahead * behind
    return (ahead + behind) * 0.5


def _recurrent(layer, w):
    inner = lanes.native_recurrent(LANE, layer, activations=tuple(GATES))
    if not isinstance(layer, L.Bidirectional):

        def call(xs, seed):
            last, outputs = _direction(inner, w, xs[0], inner.go_backwards, aligned=False)
            return tf.transpose(outputs, [1, 0, 2]) if inner.return_sequences else last

        return call
    split = 2 + int(inner.use_bias)  # kernel, recurrent kernel[, bias] per direction

    def bidirectional(xs, seed):
        last_f, outputs_f = _direction(inner, w[:split], xs[0], False, aligned=True)
        last_b, outputs_b = _direction(inner, w[split:], xs[0], True, aligned=True)
        if inner.return_sequences:
            return tf.transpose(_merge(layer.merge_mode, outputs_f, outputs_b), [1, 0, 2])
        return _merge(layer.merge_mode, last_f, last_b)

    return bidirectional


def layer_fn(layer, w, activation: str, dense):
    """``f(inputs, seed)`` for a sequence layer on its variables `w`, or None for one this module
    does not handle; `dense(layer, activation)` builds a Dense (for TimeDistributed)."""
    if isinstance(layer, L.Embedding):
        return lambda xs, seed: tf.gather(w[0], xs[0])
    if isinstance(layer, L.LSTM | L.GRU | L.SimpleRNN | L.Bidirectional):
        return _recurrent(layer, w)
    if isinstance(layer, L.TimeDistributed):
        if not isinstance(layer.layer, L.Dense):
            raise lanes.unknown_layer(LANE, layer.layer)
        return dense(layer.layer, activation)
    if isinstance(layer, L.RepeatVector):
        return lambda xs, seed: tf.tile(xs[0][:, None, :], [1, layer.n, 1])
    if isinstance(layer, L.GlobalAveragePooling1D):
        return lambda xs, seed: tf.reduce_mean(xs[0], axis=1)
    if isinstance(layer, L.GlobalMaxPooling1D):
        return lambda xs, seed: tf.reduce_max(xs[0], axis=1)
    return None
