"""The recurrent ops in NumPy: the generic loop on the tape, and the fused ops written out.

``rnn`` unrolls the layer's step function on the tape, so its gradient is the tape's. The fused
``lstm``, ``gru`` and ``simple_rnn`` are the oracle of the recurrent layers: the forward pass
keeps each step's gates, and backpropagation through time walks the steps back, written out
next to it. The input projection of all steps is one matrix product each way.
"""

from __future__ import annotations

import numpy as np

from backends.numpy.core import make, value

# -- the generic loop ----------------------------------------------------------------------------


def _step_input(x, t):
    v = value(x)

    def grad(g):
        out = np.zeros_like(v)
        out[:, t] = g
        return out

    return make(v[:, t], (x, grad))


def _stack(nodes):
    out = np.stack([value(n) for n in nodes], axis=1)
    return make(out, *[(n, lambda g, k=k: g[:, k]) for k, n in enumerate(nodes)])


def rnn(step, inputs, initial_states, constants, go_backwards, return_sequences):
    steps = np.shape(value(inputs))[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states, outputs = list(initial_states), []
    for t in order:
        states = list(step(_step_input(inputs, t), states, list(constants)))
        outputs.append(states[0])
    return _stack(outputs) if return_sequences else states[0]


# -- activations and their derivatives (from the input z and the output y) -----------------------


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _hard_sigmoid_derivative(z, y):
    linear = z * 0.2 + 0.5  # the generic path's clip passes the gradient on [0, 1]
    return 0.2 * ((linear >= 0.0) & (linear <= 1.0)).astype(z.dtype)


ACTIVATIONS = {
    "tanh": (np.tanh, lambda z, y: 1.0 - y * y),
    "sigmoid": (_sigmoid, lambda z, y: y * (1.0 - y)),
    "hard_sigmoid": (lambda z: np.clip(z * 0.2 + 0.5, 0.0, 1.0), _hard_sigmoid_derivative),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, y: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, y: np.ones_like(z)),
}


def _activation(name):
    if name not in ACTIVATIONS:
        raise NotImplementedError(f"no written-out derivative of {name!r}")
    return ACTIVATIONS[name]


# -- the fused ops: forward with a cache, backpropagation through time ---------------------------


def _fused(x, kernel, recurrent_kernel, bias, cell, go_backwards, return_sequences):
    """Runs `cell` over the steps and returns a tape node whose gradients come from the cell's
    written-out backward pass. The cell sees the projected inputs and returns, going back, the
    gradient of the projections, of the recurrent kernel and of its own bias row (or None)."""
    xs, w = value(x), value(kernel)
    b = None if bias is None else value(bias)
    if go_backwards:
        xs = xs[:, ::-1]
    n, steps, features = xs.shape
    projected = (xs.reshape(-1, features) @ w).reshape(n, steps, -1)
    if b is not None:
        projected += b if b.ndim == 1 else b[0]
    outputs = cell.forward(projected)
    out = outputs if return_sequences else outputs[:, -1]
    memo: dict = {}

    def grads(g):
        if memo.get("g") is not g:
            d_outputs = g if return_sequences else None
            d_projected, d_recurrent, d_bias_row = cell.backward(
                d_outputs, None if return_sequences else g
            )
            flat = d_projected.reshape(-1, d_projected.shape[-1])
            dx = (flat @ w.T).reshape(xs.shape)
            d_bias = flat.sum(axis=0)
            memo.update(
                g=g,
                x=dx[:, ::-1] if go_backwards else dx,
                kernel=xs.reshape(-1, features).T @ flat,
                recurrent_kernel=d_recurrent,
                bias=d_bias if d_bias_row is None else np.stack([d_bias, d_bias_row]),
            )
        return memo

    edges = [
        (x, lambda g: grads(g)["x"]),
        (kernel, lambda g: grads(g)["kernel"]),
        (recurrent_kernel, lambda g: grads(g)["recurrent_kernel"]),
    ]
    if bias is not None:
        edges.append((bias, lambda g: grads(g)["bias"]))
    return make(out, *edges)


class _Cell:
    """The loop both ways; subclasses define one step forward (keeping what the step back
    needs) and one step back."""

    def __init__(self, recurrent_kernel, activation, gate=None):
        self.u = value(recurrent_kernel)
        self.units = self.u.shape[0]
        self.act = _activation(activation)
        self.gate = _activation(gate) if gate else None

    def forward(self, projected):
        n, steps, _ = projected.shape
        h = np.zeros((n, self.units), projected.dtype)
        self.cache, outputs = [], np.empty((n, steps, self.units), projected.dtype)
        for t in range(steps):
            h = self.step(projected[:, t], h)
            outputs[:, t] = h
        self.projected = projected
        return outputs

    def backward(self, d_outputs, d_last):
        steps = self.projected.shape[1]
        d_projected = np.empty_like(self.projected)
        self.d_u = np.zeros_like(self.u)
        self.d_bias_row = None
        dh = d_last.copy() if d_last is not None else np.zeros_like(self.cache[0][0])
        self.zero_carry()
        for t in reversed(range(steps)):
            if d_outputs is not None:
                dh = dh + d_outputs[:, t]
            d_projected[:, t], dh = self.step_back(t, dh)
        return d_projected, self.d_u, self.d_bias_row

    def zero_carry(self):
        """Resets what flows back besides dh (LSTM's cell state)."""


class _SimpleRNNCell(_Cell):
    def step(self, xp, h):
        z = xp + h @ self.u
        h_new = self.act[0](z)
        self.cache.append((h, z, h_new))
        return h_new

    def step_back(self, t, dh):
        h, z, y = self.cache[t]
        dz = dh * self.act[1](z, y)
        self.d_u += h.T @ dz
        return dz, dz @ self.u.T


class _LSTMCell(_Cell):
    def forward(self, projected):
        self.c = np.zeros((projected.shape[0], self.units), projected.dtype)
        return super().forward(projected)

    def step(self, xp, h):
        gate, act = self.gate[0], self.act[0]
        z = xp + h @ self.u
        zi, zf, zc, zo = np.split(z, 4, axis=1)
        i, f, g, o = gate(zi), gate(zf), act(zc), gate(zo)
        c = f * self.c + i * g
        ac = act(c)
        self.cache.append((h, self.c, z, i, f, g, o, c, ac))
        self.c = c
        return o * ac

    def zero_carry(self):
        self.dc = 0.0

    def step_back(self, t, dh):
        h, c_prev, z, i, f, g, o, c, ac = self.cache[t]
        gate, act = self.gate[1], self.act[1]
        zi, zf, zc, zo = np.split(z, 4, axis=1)
        dc = self.dc + dh * o * act(c, ac)
        self.dc = dc * f
        dz = np.concatenate(
            [
                dc * g * gate(zi, i),
                dc * c_prev * gate(zf, f),
                dc * i * act(zc, g),
                dh * ac * gate(zo, o),
            ],
            axis=1,
        )
        self.d_u += h.T @ dz
        return dz, dz @ self.u.T


class _GRUCell(_Cell):
    def __init__(self, recurrent_kernel, activation, gate, reset_after, recurrent_bias):
        super().__init__(recurrent_kernel, activation, gate)
        self.reset_after = reset_after
        self.rb = recurrent_bias

    def step(self, xp, h):
        gate, act, units = self.gate[0], self.act[0], self.units
        xz, xr, xh = np.split(xp, 3, axis=1)
        if self.reset_after:
            inner = h @ self.u + (0.0 if self.rb is None else self.rb)
            rz, rr, rh = np.split(inner, 3, axis=1)
            z, r = gate(xz + rz), gate(xr + rr)
            candidate = xh + r * rh
        else:
            rz, rr = np.split(h @ self.u[:, : 2 * units], 2, axis=1)
            z, r = gate(xz + rz), gate(xr + rr)
            rh = r * h  # what the candidate's recurrent product takes
            candidate = xh + rh @ self.u[:, 2 * units :]
        hh = act(candidate)
        self.cache.append((h, xz + rz, xr + rr, z, r, rh, candidate, hh))
        return z * h + (1.0 - z) * hh

    def step_back(self, t, dh):
        h, pre_z, pre_r, z, r, rh, candidate, hh = self.cache[t]
        gate, act, units = self.gate[1], self.act[1], self.units
        d_candidate = dh * (1.0 - z) * act(candidate, hh)
        d_pre_z = dh * (h - hh) * gate(pre_z, z)
        dh_prev = dh * z
        if self.reset_after:
            d_pre_r = d_candidate * rh * gate(pre_r, r)
            d_inner = np.concatenate([d_pre_z, d_pre_r, d_candidate * r], axis=1)
            self.d_u += h.T @ d_inner
            if self.rb is not None:
                self.d_bias_row = d_inner.sum(axis=0) + (
                    0.0 if self.d_bias_row is None else self.d_bias_row
                )
            dh_prev = dh_prev + d_inner @ self.u.T
        else:
            u_zr, u_h = self.u[:, : 2 * units], self.u[:, 2 * units :]
            d_rh = d_candidate @ u_h.T
            d_pre_r = d_rh * h * gate(pre_r, r)
            d_inner = np.concatenate([d_pre_z, d_pre_r], axis=1)
            self.d_u[:, 2 * units :] += rh.T @ d_candidate
            self.d_u[:, : 2 * units] += h.T @ d_inner
            dh_prev = dh_prev + d_rh * r + d_inner @ u_zr.T
        return np.concatenate([d_pre_z, d_pre_r, d_candidate], axis=1), dh_prev


def simple_rnn(x, kernel, recurrent_kernel, bias, activation, go_backwards, return_sequences):
    cell = _SimpleRNNCell(recurrent_kernel, activation)
    return _fused(x, kernel, recurrent_kernel, bias, cell, go_backwards, return_sequences)


def lstm(
    x,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    go_backwards,
    return_sequences,
):
    cell = _LSTMCell(recurrent_kernel, activation, recurrent_activation)
    return _fused(x, kernel, recurrent_kernel, bias, cell, go_backwards, return_sequences)


def gru(
    x,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    reset_after,
    go_backwards,
    return_sequences,
):
    recurrent_bias = value(bias)[1] if reset_after and bias is not None else None
    cell = _GRUCell(
        recurrent_kernel, activation, recurrent_activation, reset_after, recurrent_bias
    )
    return _fused(x, kernel, recurrent_kernel, bias, cell, go_backwards, return_sequences)
