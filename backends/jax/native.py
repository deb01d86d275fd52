"""The ``native:jax`` reference lane: the workload as plain, idiomatic JAX.

What a JAX user writes by hand: the weights are a list of arrays (Keras's layouts are JAX's
own: NHWC activations, HWIO kernels), ``loss_fn(params, x, y, key)`` is a pure function of
``jax.numpy``/``jax.lax`` ops, ``jax.value_and_grad`` differentiates it, the optimizer update
is written out, and the whole train step is one ``jax.jit`` program whose weights, slots and step
counter are donated and returned. Recurrent layers are ``lax.scan`` loops over a hand-written
cell (`backends.jax.native_rnn`). It starts from the benchbench model's weights and runs inside
benchbench's fit loop, so batching and timing are the adapter's and only the step differs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from backends.jax import native_rnn
from benchbench import lanes
from benchbench import layers as L

_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softmax": jax.nn.softmax,
}


def _conv(layer):
    spatial = "HW" if layer.rank == 2 else "W"
    numbers = (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C")

    def conv(x, kernel):
        return lax.conv_general_dilated(
            x, kernel, layer.strides, layer.padding.upper(), dimension_numbers=numbers
        )

    return conv


def _affine(layer, op, activation):
    """Dense and convolutions: `op` on the kernel, then the bias and the activation."""
    activate = _ACTIVATIONS[activation]

    def call(w, xs, key):
        y = op(xs[0], w[0])
        return activate(y + w[1] if layer.use_bias else y)

    return call


def _max_pool(layer):
    window, strides = (1, *layer.pool_size, 1), (1, *layer.strides, 1)
    pad = layer.padding.upper()
    return lambda w, xs, key: lax.reduce_window(xs[0], -jnp.inf, lax.max, window, strides, pad)


def _dropout(rate):
    def call(w, xs, key):
        if key is None or rate == 0.0:
            return xs[0]
        keep = jax.random.bernoulli(key, 1.0 - rate, xs[0].shape)
        return jnp.where(keep, xs[0] / (1.0 - rate), 0.0)

    return call


def _layer_fn(layer, activation: str):
    """``f(weights, inputs, key)`` for one layer; ``key`` is None at inference.

    `activation` replaces the layer's own (the last layer's is left out: the loss takes logits).
    """
    if isinstance(layer, L.Dense):
        return _affine(layer, jnp.matmul, activation)
    sequence = native_rnn.layer_fn(
        layer, activation, lambda dense, act: _affine(dense, jnp.matmul, act)
    )
    if sequence is not None:
        return sequence
    if isinstance(layer, L.Conv1D | L.Conv2D):
        return _affine(layer, _conv(layer), activation)
    if isinstance(layer, L.MaxPooling1D | L.MaxPooling2D):
        return _max_pool(layer)
    if isinstance(layer, L.Flatten):
        return lambda w, xs, key: xs[0].reshape(xs[0].shape[0], -1)
    if isinstance(layer, L.Dropout):
        return _dropout(layer.rate)
    if isinstance(layer, L.Activation):
        return lambda w, xs, key: _ACTIVATIONS[activation](xs[0])
    if isinstance(layer, L.Add):
        return lambda w, xs, key: sum(xs[1:], xs[0])
    if isinstance(layer, L.Concatenate):
        return lambda w, xs, key: jnp.concatenate(xs, axis=layer.axis)
    raise lanes.unknown_layer("native:jax", layer)


def build_forward(model):
    """``forward(params, x, key) -> logits``, a pure function of the weights list `params`.

    ``key`` is a PRNG key in training and None at inference. The last layer's activation is
    left out: the loss takes logits.
    """
    last = len(model._nodes) - 1
    nodes = [
        (
            model._slices[layer],
            _layer_fn(layer, "linear" if index == last else layer.activation),
            ins,
            out,
        )
        for index, (layer, ins, out) in enumerate(model._nodes)
    ]
    input_id, output_id = model.input.id, model.output.id

    def forward(params, x, key=None):
        values = {input_id: x}
        for index, (weights, fn, ins, out) in enumerate(nodes):
            layer_key = None if key is None else jax.random.fold_in(key, index)
            values[out] = fn(params[weights], [values[i] for i in ins], layer_key)
        return values[output_id]

    return forward


# -- optimizers, written out with Keras 2's rules ------------------------------------------------


def _sgd(c):
    momentum, nesterov = c["momentum"], c["nesterov"]

    def rule(p, g, s, lr, t):
        if not momentum:
            return p - lr * g, ()
        v = momentum * s[0] - lr * g
        return (p + momentum * v - lr * g if nesterov else p + v), (v,)

    return (1 if momentum else 0), rule


def _rmsprop(c):
    rho, eps = c["rho"], c["epsilon"]

    def rule(p, g, s, lr, t):
        a = rho * s[0] + (1.0 - rho) * g * g
        return p - lr * g / (jnp.sqrt(a) + eps), (a,)

    return 1, rule


def _adagrad(c):
    def rule(p, g, s, lr, t):
        a = s[0] + g * g
        return p - lr * g / (jnp.sqrt(a) + c["epsilon"]), (a,)

    return 1, rule


def _adadelta(c):
    rho, eps = c["rho"], c["epsilon"]

    def rule(p, g, s, lr, t):
        a = rho * s[0] + (1.0 - rho) * g * g
        update = g * jnp.sqrt(s[1] + eps) / jnp.sqrt(a + eps)
        return p - lr * update, (a, rho * s[1] + (1.0 - rho) * update * update)

    return 2, rule


def _adam(c):
    b1, b2, eps = c["beta_1"], c["beta_2"], c["epsilon"]

    def rule(p, g, s, lr, t):
        step = (t + 1).astype(jnp.float32)
        lr_t = lr * jnp.sqrt(1.0 - b2**step) / (1.0 - b1**step)
        m = b1 * s[0] + (1.0 - b1) * g
        v = b2 * s[1] + (1.0 - b2) * g * g
        return p - lr_t * m / (jnp.sqrt(v) + eps), (m, v)

    return 2, rule


_OPTIMIZERS = {
    "sgd": _sgd,
    "rmsprop": _rmsprop,
    "adagrad": _adagrad,
    "adadelta": _adadelta,
    "adam": _adam,
}


def make_update(config: dict):
    """``update(params, grads, slots, t) -> (params, slots)`` and the slots per weight."""
    n_slots, rule = lanes.native_rule("native:jax", _OPTIMIZERS, config)(config)
    base, decay = config["learning_rate"], config.get("decay", 0.0)

    def update(params, grads, slots, t):
        lr = base / (1.0 + decay * t.astype(jnp.float32)) if decay else base
        pairs = [rule(p, g, s, lr, t) for p, g, s in zip(params, grads, slots, strict=True)]
        return [p for p, _ in pairs], [s for _, s in pairs]

    return n_slots, update


# -- loss, steps ---------------------------------------------------------------------------------


def make_loss_fn(model, forward):
    """``loss_fn(params, x, y, key) -> (loss, accuracy)``: cross-entropy on the logits (softmax
    over the last axis, for one class per sample or per output step; or a sigmoid unit)."""
    kind = lanes.native_loss("native:jax", model)

    def loss_fn(params, x, y, key):
        logits = forward(params, x, key)
        if kind == "binary":  # max(z, 0) - z y + log(1 + exp(-|z|)): never overflows
            losses = jnp.maximum(logits, 0.0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits)))
            hits = (logits > 0.0) == (y > 0.5)
            return losses.mean(), hits.mean(dtype=jnp.float32)
        logits = logits.reshape(-1, logits.shape[-1])
        log_probs = jax.nn.log_softmax(logits)
        if kind == "sparse":
            labels = y.reshape(-1).astype(jnp.int32)
            loss = -jnp.take_along_axis(log_probs, labels[:, None], axis=1).mean()
        else:
            y = y.reshape(logits.shape)
            labels = jnp.argmax(y, axis=1)
            loss = -(y * log_probs).sum(axis=1).mean()
        return loss, (jnp.argmax(logits, axis=1) == labels).mean(dtype=jnp.float32)

    return loss_fn


class NativeSteps:
    """The lane's state (weights, optimizer slots, step counter) and its three jitted steps."""

    def __init__(self, model, backend):
        forward = build_forward(model)
        loss_fn = make_loss_fn(model, forward)
        n_slots, update = make_update(model.optimizer.config())
        device = backend.jax_device
        self.params = [jax.device_put(w, device) for w in model.get_weights()]
        self.slots = [
            tuple(jax.device_put(np.zeros_like(w), device) for _ in range(n_slots))
            for w in model.get_weights()
        ]
        self.t = jax.device_put(np.int32(0), device)
        root = jax.device_put(jax.random.key(backend.seed), device)
        output = _ACTIVATIONS[model._nodes[-1][0].activation]

        def train(params, slots, t, x, y):
            grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
            (loss, accuracy), grads = grad_fn(params, x, y, jax.random.fold_in(root, t))
            params, slots = update(params, grads, slots, t)
            return params, slots, t + 1, jnp.stack([loss, accuracy])

        self._train = jax.jit(train, donate_argnums=(0, 1, 2))
        self._test = jax.jit(lambda params, x, y: jnp.stack(loss_fn(params, x, y, None)))
        self._predict = jax.jit(lambda params, x: output(forward(params, x)))

    def train_step(self, x, y):
        self.params, self.slots, self.t, pair = self._train(self.params, self.slots, self.t, x, y)
        loss, accuracy = np.asarray(pair).tolist()
        return loss, accuracy

    def test_step(self, x, y):
        loss, accuracy = np.asarray(self._test(self.params, x, y)).tolist()
        return loss, accuracy

    def predict_step(self, x):
        return np.array(self._predict(self.params, x))


def attach(model, backend) -> list[str]:
    """Replaces a compiled benchbench model's steps with hand-written, jitted JAX ones (Keras 2's
    rules written out: no deviations)."""
    steps = NativeSteps(model, backend)
    model._train_step, model._test_step = steps.train_step, steps.test_step
    model._predict_step = steps.predict_step
    return []
