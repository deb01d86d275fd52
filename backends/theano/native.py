"""The ``native:theano`` reference lane: the workload as plain, hand-written PyTensor.

What a Theano/PyTensor user writes by hand for speed: the weights are shared variables, the
forward pass is a tensor expression (``dot`` plus bias; relu as ``x * (x > 0)``, whose gradient
fuses into one elementwise loop where ``maximum``'s leaves a separate ``Switch``), ``grad``
differentiates a cross-entropy on a stable log-softmax whose max carries no gradient, the
optimizer is a list of ``updates`` written out with Keras 2's rules on an int64 step counter, and
each step is one compiled ``function``; recurrent layers are ``scan`` loops over a hand-written
cell (`backends.theano.native_rnn`). PyTensor 3 has no convolution or pooling ops (Theano's
``nnet.conv2d`` and ``pool_2d`` are gone), so a hand-written CNN does what Theano tutorials did
before cuDNN: a convolution is im2col from kh*kw shifted strided slices concatenated along the
channels and one ``dot`` with the reshaped kernel; max-pooling is the elementwise maximum of the
window's strided slices. It starts from the benchbench model's weights, runs inside benchbench's
fit loop in the adapter's compile mode, so batching, timing and the C backend are the adapter's
and only the step differs.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from backends.theano import engine, native_rnn
from backends.theano.engine import T
from backends.theano.trainer import CompiledStep, PredictStep
from benchbench import lanes
from benchbench import layers as L
from benchbench.errors import LaneUnsupported


def _log_softmax(x):
    # written out: PyTensor 3's LogSoftmax op evaluates its inner graph from Python in the C VM,
    # and a user who times the step writes the stable expression instead; the max only
    # stabilises, so no gradient is built through it
    shifted = x - engine.lib.gradient.disconnected_grad(T.max(x, axis=1, keepdims=True))
    return shifted - T.log(T.sum(T.exp(shifted), axis=1, keepdims=True))


def _softmax(x):
    e = T.exp(x - T.max(x, axis=-1, keepdims=True))
    return e / T.sum(e, axis=-1, keepdims=True)


_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: x * (x > 0),
    "tanh": T.tanh,
    "sigmoid": T.sigmoid,
    "softmax": _softmax,
}


def _same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's 'same' rule: ceil(size / s) outputs, any odd padding goes after."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _window_slices(x, sizes, window, strides, padding, fill):
    """The kh*kw (or k) strided slices of `x` (n, *sizes, c), one per window element, and the
    output's spatial sizes. 'same' pads `x` with `fill` first."""
    pads = [
        _same_pads(n, k, s) if padding == "same" else (0, 0)
        for n, k, s in zip(sizes, window, strides, strict=True)
    ]
    if any(a or b for a, b in pads):
        padded = [n + a + b for n, (a, b) in zip(sizes, pads, strict=True)]
        base = T.alloc(np.float32(fill), x.shape[0], *padded, x.shape[-1])
        inner = tuple(slice(a, a + n) for n, (a, _) in zip(sizes, pads, strict=True))
        x, sizes = T.set_subtensor(base[(slice(None), *inner)], x), padded
    outs = [(n - k) // s + 1 for n, k, s in zip(sizes, window, strides, strict=True)]
    offsets = np.ndindex(*window)  # row-major: the kernel's (kh, kw) order
    slices = [
        x[
            (
                slice(None),
                *(
                    slice(o, o + s * (m - 1) + 1, s)
                    for o, s, m in zip(at, strides, outs, strict=True)
                ),
            )
        ]
        for at in offsets
    ]
    return slices, outs


def _conv(layer, sizes, channels):
    window = tuple(layer.kernel_size)
    strides = tuple(layer.strides)
    depth = int(np.prod(window)) * channels

    def conv(x, kernel):
        slices, outs = _window_slices(x, sizes, window, strides, layer.padding, 0.0)
        cols = T.concatenate(slices, axis=-1) if len(slices) > 1 else slices[0]
        rows = T.dot(cols.reshape((-1, depth)), kernel.reshape((depth, layer.filters)))
        return rows.reshape((x.shape[0], *outs, layer.filters))

    return conv


def _max_pool(layer, sizes):
    window, strides = tuple(layer.pool_size), tuple(layer.strides)

    def pool(w, xs, rng):
        slices, _ = _window_slices(xs[0], sizes, window, strides, layer.padding, -np.inf)
        return functools.reduce(T.maximum, slices)

    return pool


def _affine(layer, op, activation):
    activate = _ACTIVATIONS[activation]

    def call(w, xs, rng):
        y = op(xs[0], w[0])
        return activate(y + w[1] if layer.use_bias else y)

    return call


def _dropout(rate, seed):
    def call(w, xs, rng):
        if rng is None or rate == 0.0:
            return xs[0]
        x = xs[0]
        # a uniform draw and a compare: ``bernoulli`` samples with NumPy's binomial, 4-6x slower
        # (mnist_cnn's first dropout: 35.7 ms against 5.8 ms for the uniform draw)
        shared = T.random.shared_rng(seed=seed)
        next_rng, u = shared.uniform(size=x.shape, dtype="float32")
        rng.append((shared, next_rng))
        return T.switch(T.ge(u, np.float32(rate)), x * np.float32(1.0 / (1.0 - rate)), 0.0)

    return call


def _layer_fn(layer, input_shape, activation: str, seed: int):
    """``f(weights, inputs, rng)`` for one layer; ``rng`` collects the random generators' updates
    in training and is None at inference. `activation` replaces the layer's own (the last
    layer's is left out: the loss takes logits)."""
    if isinstance(layer, L.Dense):
        return _affine(layer, native_rnn.dot_last, activation)
    sequence = native_rnn.layer_fn(
        layer, activation, lambda dense, act: _affine(dense, native_rnn.dot_last, act)
    )
    if sequence is not None:
        return sequence
    if isinstance(layer, L.Conv1D | L.Conv2D):
        return _affine(layer, _conv(layer, input_shape[:-1], input_shape[-1]), activation)
    if isinstance(layer, L.MaxPooling1D | L.MaxPooling2D):
        return _max_pool(layer, input_shape[:-1])
    if isinstance(layer, L.Flatten):
        return lambda w, xs, rng: xs[0].reshape((xs[0].shape[0], -1))
    if isinstance(layer, L.Dropout):
        return _dropout(layer.rate, seed)
    if isinstance(layer, L.Activation):
        return lambda w, xs, rng: _ACTIVATIONS[activation](xs[0])
    if isinstance(layer, L.Add):
        return lambda w, xs, rng: functools.reduce(T.add, xs)
    if isinstance(layer, L.Concatenate):
        return lambda w, xs, rng: T.concatenate(xs, axis=layer.axis)
    raise lanes.unknown_layer("native:theano", layer)


def build_forward(model, seed: int):
    """``forward(params, x, rng) -> logits`` as a tensor expression of the shared `params`."""
    last = len(model._nodes) - 1
    shapes = {model.input.id: model.input.shape}  # per-sample static shapes
    nodes = []
    for index, (layer, ins, out) in enumerate(model._nodes):
        shape = [shapes[i] for i in ins] if layer.merges else shapes[ins[0]]
        activation = "linear" if index == last else layer.activation
        fn = _layer_fn(layer, tuple(shapes[ins[0]]), activation, seed + index)
        shapes[out] = layer.output_shape(shape)
        nodes.append((model._slices[layer], fn, ins, out))
    input_id, output_id = model.input.id, model.output.id

    def forward(params, x, rng=None):
        values = {input_id: x}
        for weights, fn, ins, out in nodes:
            values[out] = fn(params[weights], [values[i] for i in ins], rng)
        return values[output_id]

    return forward


# -- optimizers: the update lists, written out with Keras 2's rules ------------------------------


def _sgd(c, p, g, s, lr):
    if not c["momentum"]:
        return [(p, p - lr * g)]
    v = c["momentum"] * s[0] - lr * g
    new = p + c["momentum"] * v - lr * g if c["nesterov"] else p + v
    return [(s[0], v), (p, new)]


def _rmsprop(c, p, g, s, lr):
    a = c["rho"] * s[0] + (1.0 - c["rho"]) * T.sqr(g)
    return [(s[0], a), (p, p - lr * g / (T.sqrt(a) + c["epsilon"]))]


def _adagrad(c, p, g, s, lr):
    a = s[0] + T.sqr(g)
    return [(s[0], a), (p, p - lr * g / (T.sqrt(a) + c["epsilon"]))]


def _adadelta(c, p, g, s, lr):
    rho, eps = c["rho"], c["epsilon"]
    a = rho * s[0] + (1.0 - rho) * T.sqr(g)
    update = g * T.sqrt(s[1] + eps) / T.sqrt(a + eps)
    return [(s[0], a), (s[1], rho * s[1] + (1.0 - rho) * T.sqr(update)), (p, p - lr * update)]


def _adam(c, p, g, s, lr, t):
    b1, b2 = c["beta_1"], c["beta_2"]
    lr_t = T.cast(lr * T.sqrt(1.0 - b2 ** (t + 1.0)) / (1.0 - b1 ** (t + 1.0)), "float32")
    m = b1 * s[0] + (1.0 - b1) * g
    v = b2 * s[1] + (1.0 - b2) * T.sqr(g)
    return [(s[0], m), (s[1], v), (p, p - lr_t * m / (T.sqrt(v) + c["epsilon"]))]


#: name -> (slots per weight, rule(config, p, g, slots, lr[, t]) -> updates)
_OPTIMIZERS = {
    "sgd": (lambda c: 1 if c["momentum"] else 0, _sgd),
    "rmsprop": (lambda c: 1, _rmsprop),
    "adagrad": (lambda c: 1, _adagrad),
    "adadelta": (lambda c: 2, _adadelta),
    "adam": (lambda c: 2, _adam),
}


class _Optimizer:
    """The optimizer's shared state (slots per weight, the int64 step counter) and updates;
    the learning rate and Adam's bias correction are computed in float64 from the counter."""

    def __init__(self, config: dict, params):
        n_slots, self.rule = lanes.native_rule("native:theano", _OPTIMIZERS, config)
        self.config = config
        self.slots = [
            [
                engine.shared_variable(np.zeros_like(p.get_value()), f"{p.name}/{i}")
                for i in range(n_slots(config))
            ]
            for p in params
        ]
        self.t = engine.shared(np.int64(0), name="t")

    def updates(self, params, grads) -> list:
        c, t = self.config, T.cast(self.t, "float64")
        lr = c["learning_rate"] / (1.0 + c["decay"] * t) if c.get("decay") else c["learning_rate"]
        updates = [(self.t, self.t + 1)]
        for p, g, s in zip(params, grads, self.slots, strict=True):
            if c["name"] == "adam":
                args = (c, p, g, s, lr, t)
            else:
                args = (c, p, g, s, T.cast(lr, "float32") if c.get("decay") else lr)
            updates += self.rule(*args)
        return updates


# -- loss, steps ---------------------------------------------------------------------------------


def _loss_and_accuracy(model, forward, params, x, y, rng):
    kind = lanes.native_loss("native:theano", model)
    logits = forward(params, x, rng)
    if kind == "binary":  # max(z, 0) - z y + log(1 + exp(-|z|)): never overflows
        losses = logits * (logits > 0) - logits * y + T.log1p(T.exp(-abs(logits)))
        hits = T.eq(logits > 0, y > 0.5)
        return T.mean(losses), T.mean(hits, dtype="float32")
    classes = model.output.shape[-1]
    logits = T.reshape(logits, (-1, classes), ndim=2)  # one row per sample, or per output step
    log_probs = _log_softmax(logits)
    if kind == "sparse":
        labels = T.cast(y.flatten(), "int64")
        loss = -T.mean(log_probs[T.arange(labels.shape[0]), labels])
    else:
        y = T.reshape(y, (-1, classes), ndim=2)
        labels = T.argmax(y, axis=1)
        loss = -T.mean(T.sum(y * log_probs, axis=1))
    accuracy = T.mean(T.eq(T.argmax(logits, axis=1), labels), dtype="float32")
    return loss, accuracy


def attach(model, backend) -> list[str]:
    """Replaces a compiled benchbench model's steps with hand-written, compiled PyTensor ones
    (Keras 2's rules written out: no deviations)."""
    if not engine.PYTENSOR:
        raise LaneUnsupported("native:theano is written for PyTensor, not legacy Theano")
    lanes.native_loss("native:theano", model)
    forward = build_forward(model, backend.seed)
    params = [
        engine.shared_variable(np.array(w, np.float32), f"w{i}")
        for i, w in enumerate(model.get_weights())
    ]
    optimizer = _Optimizer(model.optimizer.config(), params)
    output = _ACTIVATIONS[model._nodes[-1][0].activation]
    mode = backend.mode

    def train(x, y):
        rng_updates: list = []
        loss, accuracy = _loss_and_accuracy(model, forward, params, x, y, rng_updates)
        updates = optimizer.updates(params, engine.grad(loss, params))
        return [loss, accuracy], updates + rng_updates

    def test(x, y):
        return list(_loss_and_accuracy(model, forward, params, x, y, None)), []

    model._train_step = CompiledStep(train, mode)
    model._test_step = CompiledStep(test, mode)
    model._predict_step = PredictStep(lambda x: (output(forward(params, x)), []), mode)
    return []
