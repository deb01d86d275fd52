"""TensorFlow's fused training kernels, where one computes benchbench's (Keras 2's) update rule.

Written with TensorFlow ops, a rule from `benchbench.optimizers` costs one kernel per
arithmetic operation, each a full pass over the weight (Adadelta: about a dozen); without XLA
nothing fuses them. The ``ResourceApply*`` kernels, which Keras 2's own TensorFlow optimizers
used, do the whole update in one pass (on the Keras mnist_cnn model, Adadelta, the adapter went
from 0.88x to 1.01x the hand-written lane's throughput). They are used only where they compute
the same rule:

- SGD: ``ResourceApplyGradientDescent``; with momentum ``ResourceApplyKerasMomentum`` (Keras 2's
  velocity ``v = momentum * v - lr * g``, unlike ``ResourceApplyMomentum``'s).
- Adagrad: ``ResourceApplyAdagradV2`` (epsilon outside the square root, as in Keras 2).
- Adadelta: ``ResourceApplyAdadelta``.

RMSprop has no such kernel (``ResourceApplyRMSProp`` divides by ``sqrt(a + epsilon)``, Keras 2
by ``sqrt(a) + epsilon``), and ``ResourceApplyAdam`` forms ``1 - beta_2`` in float32 from a
float32 ``beta_2`` (1.3e-5 off for 0.999, so the first update is 6.5e-6 off the other backends):
both are written with in-place ``assign``/``assign_sub``, and their update is compiled with XLA
(a ``jit_compile=True`` function called from the step, compiled or not): XLA fuses the dozen
elementwise kernels into one pass over each weight. On imdb_bilstm's 20,000 x 128 embedding,
Adam by assigns took 8.7 ms a step without XLA, 3.5 ms with it, ``ResourceApplyAdam`` 3.2 ms
(one process, interleaved). The learning rate (Adam's with its bias
correction folded in) is the step's first `Optimizer.scalars` value, fed in from the host. The
equivalence tests check every rule against the NumPy reference step by step.
"""

from __future__ import annotations

import tensorflow as tf

from benchbench import optimizers as O  # noqa: N812


def _f32(value):
    return tf.cast(value, tf.float32)


def _sgd(opt, var, grad, slots, lr):
    if not opt.momentum:
        tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=_f32(lr), delta=grad)
        return
    tf.raw_ops.ResourceApplyKerasMomentum(
        var=var.handle,
        accum=slots[0].handle,
        lr=_f32(lr),
        grad=grad,
        momentum=_f32(opt.momentum),
        use_nesterov=bool(opt.nesterov),
    )


def _adagrad(opt, var, grad, slots, lr):
    tf.raw_ops.ResourceApplyAdagradV2(
        var=var.handle, accum=slots[0].handle, lr=_f32(lr), epsilon=_f32(opt.epsilon), grad=grad
    )


def _adadelta(opt, var, grad, slots, lr):
    tf.raw_ops.ResourceApplyAdadelta(
        var=var.handle,
        accum=slots[0].handle,
        accum_update=slots[1].handle,
        lr=_f32(lr),
        rho=_f32(opt.rho),
        epsilon=_f32(opt.epsilon),
        grad=grad,
    )


def _adam(opt, var, grad, slots, lr_t):
    m = slots[0].assign(opt.beta_1 * slots[0] + (1.0 - opt.beta_1) * grad)
    v = slots[1].assign(opt.beta_2 * slots[1] + (1.0 - opt.beta_2) * tf.square(grad))
    if opt.amsgrad:
        v = slots[2].assign(tf.maximum(slots[2], v))
    var.assign_sub(lr_t * m / (tf.sqrt(v) + opt.epsilon))


def _rmsprop(opt, var, grad, slots, lr):
    # no kernel computes Keras 2's rule; written with in-place assigns, as native code does
    acc = slots[0].assign(opt.rho * slots[0] + (1.0 - opt.rho) * tf.square(grad))
    var.assign_sub(lr * grad / (tf.sqrt(acc) + opt.epsilon))


ASSIGNED = frozenset({_adam, _rmsprop})  # written with assigns: XLA fuses them

FUSED = {
    O.SGD: _sgd,
    O.RMSprop: _rmsprop,
    O.Adagrad: _adagrad,
    O.Adadelta: _adadelta,
    O.Adam: _adam,
}


def fused_update(optimizer):
    """``update(params, grads, slots, scalars)`` applying `optimizer`'s rule in place
    (``scalars``: the step's `Optimizer.scalars` as float32 scalar tensors), or None for an
    optimizer class it has no form of."""
    rule = FUSED.get(type(optimizer))
    if rule is None:
        return None

    def update(params, grads, slots, scalars):
        for var, grad, var_slots in zip(params, grads, slots, strict=True):
            rule(optimizer, var, grad, var_slots, scalars[0])

    if rule in ASSIGNED:
        return tf.function(update, jit_compile=True, autograph=False)
    return update
