"""Sequence layers of the ``native:theano`` lane, as a Theano/PyTensor user writes them.

An LSTM or GRU is its input projection for every step in one ``dot``, then ``scan`` over the
time-major steps with a hand-written cell (the recurrent weights passed as non-sequences, so
``strict`` scan sees every shared variable it uses); the inner graph is compiled in the step's
own mode, as the adapter's is (`engine.scan`). A backward direction scans the reversed steps
and, inside a Bidirectional, reverses its outputs back into input order. An Embedding is a row
lookup by a flat index vector (``AdvancedSubtensor1``, whose gradient increments the same rows
in C) reshaped to the ids' shape. Keras's layouts are used as they are: kernels
``(in, gates * units)``, gates i, f, c, o (LSTM) and z, r, h (GRU, both ``reset_after`` forms).
"""

from __future__ import annotations

import numpy as np

from backends.theano import engine
from backends.theano.engine import T
from benchbench import lanes
from benchbench import layers as L

LANE = "native:theano"

GATES = {
    "sigmoid": T.sigmoid,
    "hard_sigmoid": lambda x: T.clip(0.2 * x + 0.5, 0.0, 1.0),  # Keras 2's
}


def _lstm_step(gate, units: int):
    def step(projected, h, c, recurrent):
        z = projected + T.dot(h, recurrent)
        z_i, z_f, z_c, z_o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = gate(z_f) * c + gate(z_i) * T.tanh(z_c)
        return [gate(z_o) * T.tanh(c), c]

    return step


def _gru_step(gate, inner):
    units = inner.units

    def parts(z, n):
        return [z[:, k * units : (k + 1) * units] for k in range(n)]

    def step(projected, h, recurrent, *bias):
        x_z, x_r, x_h = parts(projected, 3)
        if inner.reset_after:
            inner_product = T.dot(h, recurrent) + (bias[0] if bias else 0.0)
            r_z, r_r, r_h = parts(inner_product, 3)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = T.tanh(x_h + r * r_h)
        else:
            r_z, r_r = parts(T.dot(h, recurrent[:, : 2 * units]), 2)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = T.tanh(x_h + T.dot(r * h, recurrent[:, 2 * units :]))
        return [z * h + (1.0 - z) * candidate]

    return step


def dot_last(x, kernel):
    """``x`` times ``kernel`` on its last axis, as one matrix product (``dot22``)."""
    if x.ndim == 2:
        return T.dot(x, kernel)
    rows = T.dot(T.reshape(x, (-1, x.shape[-1]), ndim=2), kernel)
    leading = [x.shape[i] for i in range(x.ndim - 1)]
    return T.reshape(rows, (*leading, kernel.shape[1]), ndim=x.ndim)


def _direction(inner, w, x, backwards: bool):
    """``(last hidden state, outputs (time, batch, units))``, in the order computed."""
    gate = GATES[inner.recurrent_activation]
    lstm = isinstance(inner, L.LSTM)
    reset_after = getattr(inner, "reset_after", False)
    projected = dot_last(x, w[0])
    if inner.use_bias:
        projected = projected + (w[2][0] if reset_after else w[2])
    steps = projected.dimshuffle(1, 0, 2)
    if backwards:
        steps = steps[::-1]
    zeros = T.alloc(np.float32(0.0), x.shape[0], inner.units)
    if lstm:
        step, states, constants = _lstm_step(gate, inner.units), [zeros, zeros], [w[1]]
    else:
        bias = [w[2][1]] if reset_after and inner.use_bias else []
        step, states, constants = _gru_step(gate, inner), [zeros], [w[1], *bias]
    outputs = engine.scan(step, [steps], states, constants)[0]
    return outputs[-1], outputs


def _merge(mode, ahead, behind):
    if mode == "concat":
        return T.concatenate([ahead, behind], axis=ahead.ndim - 1)
    if mode == "sum":
        return ahead + behind
    if mode == "mul":
        return ahead * behind
    return (ahead + behind) * np.float32(0.5)


def _recurrent(layer):
    inner = lanes.native_recurrent(LANE, layer, activations=tuple(GATES))
    if not isinstance(layer, L.Bidirectional):

        def call(w, xs, rng):
            last, outputs = _direction(inner, w, xs[0], inner.go_backwards)
            return outputs.dimshuffle(1, 0, 2) if inner.return_sequences else last

        return call
    split = 2 + int(inner.use_bias)  # kernel, recurrent kernel[, bias] per direction

    def bidirectional(w, xs, rng):
        last_f, outputs_f = _direction(inner, w[:split], xs[0], False)
        last_b, outputs_b = _direction(inner, w[split:], xs[0], True)
        if inner.return_sequences:
            merged = _merge(layer.merge_mode, outputs_f, outputs_b[::-1])
            return merged.dimshuffle(1, 0, 2)
        return _merge(layer.merge_mode, last_f, last_b)

    return bidirectional


def _embedding(w, xs, rng):
    ids = xs[0]
    rows = w[0][T.flatten(ids)]
    return T.reshape(rows, (ids.shape[0], ids.shape[1], w[0].shape[1]), ndim=3)


def layer_fn(layer, activation: str, dense):
    """``f(weights, inputs, rng)`` for a sequence layer, or None for one this module does not
    handle; `dense(layer, activation)` builds a Dense (for TimeDistributed)."""
    if isinstance(layer, L.Embedding):
        return _embedding
    if isinstance(layer, L.LSTM | L.GRU | L.SimpleRNN | L.Bidirectional):
        return _recurrent(layer)
    if isinstance(layer, L.TimeDistributed):
        if not isinstance(layer.layer, L.Dense):
            raise lanes.unknown_layer(LANE, layer.layer)
        return dense(layer.layer, activation)
    if isinstance(layer, L.RepeatVector):
        n = layer.n
        return lambda w, xs, rng: T.alloc(
            xs[0].dimshuffle(0, "x", 1), xs[0].shape[0], n, xs[0].shape[1]
        )
    if isinstance(layer, L.GlobalAveragePooling1D):
        return lambda w, xs, rng: T.mean(xs[0], axis=1)
    if isinstance(layer, L.GlobalMaxPooling1D):
        return lambda w, xs, rng: T.max(xs[0], axis=1)
    return None
