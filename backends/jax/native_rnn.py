"""Sequence layers of the ``native:jax`` lane, written as a JAX user writes them.

An LSTM or GRU is its input projection for every step in one matrix product, then a
hand-written cell stepped by ``lax.scan`` over the time-major sequence (carry: the states;
output: the hidden state). A Bidirectional runs a second scan with ``reverse=True``, whose
outputs come back aligned with the input steps, as Keras's merge wants them. Everything is part
of the lane's one jitted train step. Keras's layouts are used as they are: kernels
``(in, gates * units)``, gates i, f, c, o (LSTM) and z, r, h (GRU, both ``reset_after`` forms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from benchbench import lanes
from benchbench import layers as L

LANE = "native:jax"

GATES = {
    "sigmoid": jax.nn.sigmoid,
    "hard_sigmoid": lambda x: jnp.clip(0.2 * x + 0.5, 0.0, 1.0),  # Keras 2's
}


def _lstm_step(gate):
    def step(carry, projected, w):
        h, c = carry
        z = projected + h @ w[1]
        z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=-1)
        c = gate(z_f) * c + gate(z_i) * jnp.tanh(z_c)
        h = gate(z_o) * jnp.tanh(c)
        return (h, c), h

    return step


def _gru_step(gate, reset_after: bool, use_bias: bool):
    def step(carry, projected, w):
        (h,) = carry
        x_z, x_r, x_h = jnp.split(projected, 3, axis=-1)
        units = h.shape[-1]
        if reset_after:
            inner = h @ w[1]
            if use_bias:
                inner = inner + w[2][1]
            r_z, r_r, r_h = jnp.split(inner, 3, axis=-1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = jnp.tanh(x_h + r * r_h)
        else:
            r_z, r_r = jnp.split(h @ w[1][:, : 2 * units], 2, axis=-1)
            z, r = gate(x_z + r_z), gate(x_r + r_r)
            candidate = jnp.tanh(x_h + (r * h) @ w[1][:, 2 * units :])
        h = z * h + (1.0 - z) * candidate
        return (h,), h

    return step


def _direction(inner):
    """``run(w, x, reverse) -> (last hidden state, outputs (time, batch, units))`` for one
    direction of `inner`; with ``reverse`` the outputs stay aligned with the input steps."""
    gate = GATES[inner.recurrent_activation]
    lstm = isinstance(inner, L.LSTM)
    step = _lstm_step(gate) if lstm else _gru_step(gate, inner.reset_after, inner.use_bias)

    def run(w, x, reverse):
        projected = x @ w[0]
        if inner.use_bias:
            projected = projected + (w[2][0] if getattr(inner, "reset_after", False) else w[2])
        zeros = jnp.zeros((x.shape[0], inner.units), x.dtype)
        init = (zeros, zeros) if lstm else (zeros,)
        carry, outputs = lax.scan(
            lambda c, p: step(c, p, w), init, jnp.swapaxes(projected, 0, 1), reverse=reverse
        )
        return carry[0], outputs

    return run


def _merge(mode, ahead, behind):
    if mode == "concat":
        return jnp.concatenate([ahead, behind], axis=-1)
    if mode == "sum":
        return ahead + behind
    if mode == "mul":
        return ahead * behind
    return (ahead + behind) * 0.5


def _recurrent(layer):
    inner = lanes.native_recurrent(LANE, layer, activations=tuple(GATES))
    run = _direction(inner)
    if not isinstance(layer, L.Bidirectional):

        def call(w, xs, key):
            last, outputs = run(w, xs[0], inner.go_backwards)
            if not inner.return_sequences:
                return last
            if inner.go_backwards:  # Keras returns them in the order they are computed
                outputs = outputs[::-1]
            return jnp.swapaxes(outputs, 0, 1)

        return call
    split = 2 + int(inner.use_bias)  # kernel, recurrent kernel[, bias] per direction

    def bidirectional(w, xs, key):
        last_f, outputs_f = run(w[:split], xs[0], False)
        last_b, outputs_b = run(w[split:], xs[0], True)
        if inner.return_sequences:
            return jnp.swapaxes(_merge(layer.merge_mode, outputs_f, outputs_b), 0, 1)
        return _merge(layer.merge_mode, last_f, last_b)

    return bidirectional


def layer_fn(layer, activation: str, dense):
    """``f(weights, inputs, key)`` for a sequence layer, or None for one this module does not
    handle; `dense(layer, activation)` builds a Dense (for TimeDistributed)."""
    if isinstance(layer, L.Embedding):
        return lambda w, xs, key: jnp.take(w[0], xs[0], axis=0)
    if isinstance(layer, L.LSTM | L.GRU | L.SimpleRNN | L.Bidirectional):
        return _recurrent(layer)
    if isinstance(layer, L.TimeDistributed):
        if not isinstance(layer.layer, L.Dense):
            raise lanes.unknown_layer(LANE, layer.layer)
        return dense(layer.layer, activation)  # a matrix product acts on the last axis
    if isinstance(layer, L.RepeatVector):
        n = layer.n
        return lambda w, xs, key: jnp.broadcast_to(
            xs[0][:, None, :], (xs[0].shape[0], n, xs[0].shape[1])
        )
    if isinstance(layer, L.GlobalAveragePooling1D):
        return lambda w, xs, key: jnp.mean(xs[0], axis=1)
    if isinstance(layer, L.GlobalMaxPooling1D):
        return lambda w, xs, key: jnp.max(xs[0], axis=1)
    return None
