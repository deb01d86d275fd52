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
- Adam: ``ResourceApplyAdam`` with the bias correction folded into the learning rate in float64
  and powers of 0 (the kernel would form ``1 - beta**t`` in float32, 1e-5 off).

RMSprop has no such kernel (``ResourceApplyRMSProp`` divides by ``sqrt(a + epsilon)``, Keras 2
by ``sqrt(a) + epsilon``): its rule is written with in-place ``assign``/``assign_sub``. The
equivalence tests check every rule against the NumPy reference step by step.
"""

from __future__ import annotations

import tensorflow as tf

from benchbench import optimizers as O  # noqa: N812


def _f32(value):
    return tf.cast(value, tf.float32)


def _sgd(opt, var, grad, slots, lr, t):
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


def _adagrad(opt, var, grad, slots, lr, t):
    tf.raw_ops.ResourceApplyAdagradV2(
        var=var.handle, accum=slots[0].handle, lr=_f32(lr), epsilon=_f32(opt.epsilon), grad=grad
    )


def _adadelta(opt, var, grad, slots, lr, t):
    tf.raw_ops.ResourceApplyAdadelta(
        var=var.handle,
        accum=slots[0].handle,
        accum_update=slots[1].handle,
        lr=_f32(lr),
        rho=_f32(opt.rho),
        epsilon=_f32(opt.epsilon),
        grad=grad,
    )


def _adam(opt, var, grad, slots, lr, t):
    step = t + 1.0
    lr_t = lr * tf.sqrt(1.0 - opt.beta_2**step) / (1.0 - opt.beta_1**step)  # float64
    zero = tf.zeros((), tf.float32)
    tf.raw_ops.ResourceApplyAdam(
        var=var.handle,
        m=slots[0].handle,
        v=slots[1].handle,
        beta1_power=zero,
        beta2_power=zero,
        lr=_f32(lr_t),
        beta1=_f32(opt.beta_1),
        beta2=_f32(opt.beta_2),
        epsilon=_f32(opt.epsilon),
        grad=grad,
    )


def _rmsprop(opt, var, grad, slots, lr, t):
    # no kernel computes Keras 2's rule; written with in-place assigns, as native code does
    acc = slots[0].assign(opt.rho * slots[0] + (1.0 - opt.rho) * tf.square(grad))
    var.assign_sub(_f32(lr) * grad / (tf.sqrt(acc) + opt.epsilon))


FUSED = {
    O.SGD: _sgd,
    O.RMSprop: _rmsprop,
    O.Adagrad: _adagrad,
    O.Adadelta: _adadelta,
    O.Adam: _adam,
}


def fused_update(optimizer):
    """``update(params, grads, slots, t)`` applying `optimizer`'s rule in place (``t``: the
    float64 count of steps done), or None for an optimizer class it has no form of."""
    rule = FUSED.get(type(optimizer))
    if rule is None:
        return None

    def update(params, grads, slots, t):
        lr = optimizer.lr_at(t)
        for var, grad, var_slots in zip(params, grads, slots, strict=True):
            rule(optimizer, var, grad, var_slots, lr, t)

    return update
