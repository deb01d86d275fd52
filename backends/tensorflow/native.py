"""The ``native:tensorflow`` reference lane: the workload as plain TensorFlow, without Keras.

What a TensorFlow user writes by hand: the weights are ``tf.Variable``s (Keras's layout is
TensorFlow's own: NHWC activations, HWIO kernels), the forward pass is ``tf.matmul``/``tf.nn``
ops, the loss is ``tf.nn.softmax_cross_entropy_with_logits`` (or its sparse form), gradients come
from a ``GradientTape`` and the optimizer is TensorFlow's fused ``ResourceApply*`` kernel where
one computes exactly the benchbench update. The whole train step is one ``tf.function`` with the
batch dimension left as None; recurrent layers are ``tf.while_loop`` cells inside it
(`backends.tensorflow.native_rnn`). It starts from the benchbench model's weights and runs inside
benchbench's fit loop, so batching and timing are the adapter's and only the step differs.
"""

from __future__ import annotations

import math

import tensorflow as tf

from backends.tensorflow import native_rnn
from benchbench import lanes
from benchbench import layers as L

_ACTIVATIONS = {
    "linear": tf.identity,
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "softmax": tf.nn.softmax,
}


def _affine(layer, w, op, activation):
    """Dense and convolutions: `op` on the kernel, then the bias and the activation."""
    activate = _ACTIVATIONS[activation]

    def call(xs, seed):
        y = op(xs[0], w[0])
        return activate(tf.nn.bias_add(y, w[1]) if layer.use_bias else y)

    return call


def _matmul(x, kernel):
    """A Dense's product, on the last axis of a sequence too (TimeDistributed)."""
    return native_rnn.matmul_last(x, kernel)


def _dropout(rate):
    def call(xs, seed):
        if seed is None or rate == 0.0:
            return xs[0]
        return tf.nn.experimental.stateless_dropout(xs[0], rate, seed=seed)

    return call


def _layer_fn(layer, w, activation: str):
    """``f(inputs, seed)`` for one layer on its variables `w`; ``seed`` is None at inference.

    `activation` replaces the layer's own (the last layer's is left out: the loss takes logits).
    """
    pad = getattr(layer, "padding", "valid").upper()
    if isinstance(layer, L.Dense):
        return _affine(layer, w, _matmul, activation)
    sequence = native_rnn.layer_fn(
        layer, w, activation, lambda dense, act: _affine(dense, w, _matmul, act)
    )
    if sequence is not None:
        return sequence
    if isinstance(layer, L.Conv2D):
        conv2d = lambda x, k: tf.nn.conv2d(x, k, layer.strides, pad)  # noqa: E731
        return _affine(layer, w, conv2d, activation)
    if isinstance(layer, L.Conv1D):
        conv1d = lambda x, k: tf.nn.conv1d(x, k, layer.strides[0], pad)  # noqa: E731
        return _affine(layer, w, conv1d, activation)
    if isinstance(layer, L.MaxPooling2D):
        return lambda xs, seed: tf.nn.max_pool2d(xs[0], layer.pool_size, layer.strides, pad)
    if isinstance(layer, L.MaxPooling1D):
        return lambda xs, seed: tf.nn.max_pool1d(xs[0], layer.pool_size, layer.strides, pad)
    if isinstance(layer, L.Flatten):
        return lambda xs, seed: tf.reshape(xs[0], [-1, math.prod(xs[0].shape[1:])])
    if isinstance(layer, L.Dropout):
        return _dropout(layer.rate)
    if isinstance(layer, L.Activation):
        return lambda xs, seed: _ACTIVATIONS[activation](xs[0])
    if isinstance(layer, L.Add):
        return lambda xs, seed: tf.add_n(xs)
    if isinstance(layer, L.Concatenate):
        return lambda xs, seed: tf.concat(xs, axis=layer.axis)
    raise lanes.unknown_layer("native:tensorflow", layer)


def build_forward(model, variables):
    """``forward(x, seeds) -> logits``: the model's graph as ``tf.nn`` ops on `variables`.

    ``seeds`` is a ``(2, nodes)`` int64 tensor of stateless seeds (training) or None
    (inference). The last layer's activation is left out: the loss takes logits.
    """
    last = len(model._nodes) - 1
    nodes = [
        (
            _layer_fn(
                layer, variables[model._slices[layer]], "linear" if i == last else layer.activation
            ),
            ins,
            out,
        )
        for i, (layer, ins, out) in enumerate(model._nodes)
    ]
    input_id, output_id = model.input.id, model.output.id

    def forward(x, seeds=None):
        values = {input_id: x}
        for index, (fn, ins, out) in enumerate(nodes):
            seed = None if seeds is None else seeds[:, index]
            values[out] = fn([values[i] for i in ins], seed)
        return values[output_id]

    return forward


# -- optimizers: TensorFlow's fused kernels where they compute benchbench's (Keras 2's) rule ------


def _f32(value):
    return tf.constant(value, tf.float32)


def _sgd(c):
    if not c["momentum"]:
        return 0, lambda v, g, s, lr, t: tf.raw_ops.ResourceApplyGradientDescent(
            var=v.handle, alpha=lr, delta=g
        )
    return 1, lambda v, g, s, lr, t: tf.raw_ops.ResourceApplyKerasMomentum(
        var=v.handle,
        accum=s[0].handle,
        lr=lr,
        grad=g,
        momentum=_f32(c["momentum"]),
        use_nesterov=bool(c["nesterov"]),
    )


def _rmsprop(c):
    # By hand: ResourceApplyRMSProp divides by sqrt(a + epsilon), Keras 2 by sqrt(a) + epsilon,
    # which moves small-gradient weights by a different amount.
    rho, eps = c["rho"], c["epsilon"]

    def rule(v, g, s, lr, t):
        a = s[0].assign(rho * s[0] + (1.0 - rho) * tf.square(g))
        v.assign_sub(lr * g / (tf.sqrt(a) + eps))

    return 1, rule


def _adagrad(c):
    return 1, lambda v, g, s, lr, t: tf.raw_ops.ResourceApplyAdagradV2(
        var=v.handle, accum=s[0].handle, lr=lr, epsilon=_f32(c["epsilon"]), grad=g
    )


def _adadelta(c):
    return 2, lambda v, g, s, lr, t: tf.raw_ops.ResourceApplyAdadelta(
        var=v.handle,
        accum=s[0].handle,
        accum_update=s[1].handle,
        lr=lr,
        rho=_f32(c["rho"]),
        epsilon=_f32(c["epsilon"]),
        grad=g,
    )


def _adam(c):
    def power(beta, t):  # beta ** (t + 1) in float64: 1 - 0.999**t is inexact in float32
        return tf.cast(
            tf.pow(tf.constant(beta, tf.float64), tf.cast(t + 1, tf.float64)), tf.float32
        )

    return 2, lambda v, g, s, lr, t: tf.raw_ops.ResourceApplyAdam(
        var=v.handle,
        m=s[0].handle,
        v=s[1].handle,
        beta1_power=power(c["beta_1"], t),
        beta2_power=power(c["beta_2"], t),
        lr=lr,
        beta1=_f32(c["beta_1"]),
        beta2=_f32(c["beta_2"]),
        epsilon=_f32(c["epsilon"]),
        grad=g,
    )


_OPTIMIZERS = {
    "sgd": _sgd,
    "rmsprop": _rmsprop,
    "adagrad": _adagrad,
    "adadelta": _adadelta,
    "adam": _adam,
}


def make_update(config: dict):
    """``(slots per weight, rule(var, grad, slots, lr, t), lr(t))`` for an optimizer config.

    ``t`` counts the steps done so far; ``lr(t)`` applies Keras 2's ``decay``.
    """
    n_slots, rule = lanes.native_rule("native:tensorflow", _OPTIMIZERS, config)(config)
    base, decay = config["learning_rate"], config.get("decay", 0.0)

    def learning_rate(t):
        return _f32(base) / (1.0 + decay * tf.cast(t, tf.float32)) if decay else _f32(base)

    return n_slots, rule, learning_rate


# -- loss, steps ---------------------------------------------------------------------------------


def _loss(model):
    kind = lanes.native_loss("native:tensorflow", model)

    def loss_and_accuracy(logits, y):
        if kind == "binary":
            losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits)
            hits = tf.equal(logits > 0.0, y > 0.5)
        elif kind == "sparse":
            labels = tf.reshape(tf.cast(y, tf.int32), tf.shape(logits)[:-1])
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels)
        else:  # the last axis holds the classes, per sample or per output step
            losses = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)
            hits = tf.equal(tf.argmax(logits, axis=-1), tf.argmax(y, axis=-1))
        return tf.reduce_mean(losses), tf.reduce_mean(tf.cast(hits, tf.float32))

    return loss_and_accuracy, kind == "sparse"


def _signature(model, sparse: bool):
    x = tf.TensorSpec((None, *model.input.shape), tf.as_dtype(model.input_dtype))
    y = (
        tf.TensorSpec(None, tf.int32)
        if sparse
        else tf.TensorSpec((None, *model.output.shape), tf.float32)
    )
    return x, y


def _variables(model, n_slots: int, device: str):
    """The weights (from the benchbench model), the optimizer's slots and the step counter."""
    with tf.device(device):
        variables = [tf.Variable(w) for w in model.get_weights()]
        slots = [
            [tf.Variable(tf.zeros_like(v), trainable=False) for _ in range(n_slots)]
            for v in variables
        ]
        return variables, slots, tf.Variable(0, dtype=tf.int64, trainable=False)


def deviations(config: dict) -> list[str]:
    """Where TensorFlow's fused kernel for `config` is not Keras 2's rule to float32 rounding."""
    if config["name"] == "adam":
        return [
            "ResourceApplyAdam forms 1 - beta_1 and 1 - beta_2 in float32 "
            "(1.3e-5 off for beta_2 = 0.999)"
        ]
    return []


def attach(model, backend) -> list[str]:
    """Replaces a compiled benchbench model's steps with hand-written TensorFlow ones; returns
    the optimizer's `deviations`."""
    loss_and_accuracy, sparse = _loss(model)
    n_slots, rule, learning_rate = make_update(model.optimizer.config())
    device, jit = backend.tf_device, getattr(backend, "jit_compile", False)
    variables, slots, iterations = _variables(model, n_slots, device)
    with tf.device(device):
        generator = tf.random.Generator.from_seed(backend.seed)
    forward = build_forward(model, variables)
    dropout = any(isinstance(layer, L.Dropout) for layer in model.layers)

    def train(x, y):
        t = iterations.read_value()
        seeds = generator.make_seeds(len(model._nodes)) if dropout else None
        with tf.GradientTape() as tape:
            loss, accuracy = loss_and_accuracy(forward(x, seeds), y)
        # an Embedding's gradient comes as IndexedSlices; Keras 2's rules update densely
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
        lr = learning_rate(t)
        for v, g, s in zip(variables, grads, slots, strict=True):
            rule(v, g, s, lr, t)
        iterations.assign_add(1)
        return tf.stack([loss, accuracy])

    def test(x, y):
        return tf.stack(loss_and_accuracy(forward(x), y))

    def predict(x):
        return _ACTIVATIONS[model._nodes[-1][0].activation](forward(x))

    x_spec, y_spec = _signature(model, sparse)
    train_fn = _concrete(train, (x_spec, y_spec), device, jit)
    test_fn = _concrete(test, (x_spec, y_spec), device, jit)
    predict_fn = _concrete(predict, (x_spec,), device, jit)
    model._train_step = lambda x, y: tuple(train_fn(x, y).numpy().tolist())
    model._test_step = lambda x, y: tuple(test_fn(x, y).numpy().tolist())
    model._predict_step = lambda x: predict_fn(x).numpy()
    return deviations(model.optimizer.config())


def _concrete(fn, signature, device: str, jit: bool):
    """`fn` traced on `device` at its first call (in the first epoch, as the adapter's steps
    are); calling the concrete function directly skips ``tf.function``'s dispatch."""
    traced = []

    def run(*args):
        with tf.device(device):
            return fn(*args)

    def call(*arrays):
        if not traced:
            function = tf.function(run, input_signature=signature, jit_compile=jit)
            traced.append(function.get_concrete_function())
        return traced[0](*arrays)

    return call
