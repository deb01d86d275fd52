"""Fused in-place forms of benchbench's update rules for PyTorch.

`benchbench.optimizers` states each rule once, functionally; applied eagerly in PyTorch that
costs about ten full passes over every weight per step (each operator allocates a new tensor),
which on the Keras mnist_mlp model was more than the forward and backward pass together. These
are the same rules written with ``torch._foreach_*`` in-place kernels, as ``torch.optim`` does;
the equivalence tests check them against the NumPy reference step by step. Learning-rate
schedules and Adam's bias correction come from `Optimizer.scalars`, on the host in float64.
"""

from __future__ import annotations

import torch

from benchbench import optimizers as O  # noqa: N812


def _sgd(opt, params, grads, slots, lr):
    if not opt.momentum:
        torch._foreach_add_(params, grads, alpha=-lr)
        return
    velocity = [s[0] for s in slots]
    torch._foreach_mul_(velocity, opt.momentum)
    torch._foreach_add_(velocity, grads, alpha=-lr)
    if opt.nesterov:
        torch._foreach_add_(params, velocity, alpha=opt.momentum)
        torch._foreach_add_(params, grads, alpha=-lr)
    else:
        torch._foreach_add_(params, velocity)


def _rmsprop(opt, params, grads, slots, lr):
    acc = [s[0] for s in slots]
    torch._foreach_mul_(acc, opt.rho)
    torch._foreach_addcmul_(acc, grads, grads, value=1.0 - opt.rho)
    denom = torch._foreach_sqrt(acc)
    torch._foreach_add_(denom, opt.epsilon)
    torch._foreach_addcdiv_(params, grads, denom, value=-lr)


def _adagrad(opt, params, grads, slots, lr):
    acc = [s[0] for s in slots]
    torch._foreach_addcmul_(acc, grads, grads, value=1.0)
    denom = torch._foreach_sqrt(acc)
    torch._foreach_add_(denom, opt.epsilon)
    torch._foreach_addcdiv_(params, grads, denom, value=-lr)


def _adadelta(opt, params, grads, slots, lr):
    acc, delta_acc = [s[0] for s in slots], [s[1] for s in slots]
    torch._foreach_mul_(acc, opt.rho)
    torch._foreach_addcmul_(acc, grads, grads, value=1.0 - opt.rho)
    update = torch._foreach_add(delta_acc, opt.epsilon)
    torch._foreach_sqrt_(update)
    denom = torch._foreach_add(acc, opt.epsilon)
    torch._foreach_sqrt_(denom)
    torch._foreach_div_(update, denom)
    torch._foreach_mul_(update, grads)
    torch._foreach_add_(params, update, alpha=-lr)
    torch._foreach_mul_(delta_acc, opt.rho)
    torch._foreach_addcmul_(delta_acc, update, update, value=1.0 - opt.rho)


def _adam(opt, params, grads, slots, lr_t):
    m, v = [s[0] for s in slots], [s[1] for s in slots]
    torch._foreach_lerp_(m, grads, 1.0 - opt.beta_1)
    torch._foreach_mul_(v, opt.beta_2)
    torch._foreach_addcmul_(v, grads, grads, value=1.0 - opt.beta_2)
    if opt.amsgrad:
        vhat = [s[2] for s in slots]
        torch._foreach_maximum_(vhat, v)
        v = vhat
    denom = torch._foreach_sqrt(v)
    torch._foreach_add_(denom, opt.epsilon)
    torch._foreach_addcdiv_(params, m, denom, value=-lr_t)


FUSED = {
    O.SGD: _sgd,
    O.RMSprop: _rmsprop,
    O.Adagrad: _adagrad,
    O.Adadelta: _adadelta,
    O.Adam: _adam,
}


def fused_update(optimizer):
    """``update(params, grads, slots, scalars)`` applying `optimizer`'s rule in place
    (``scalars``: `Optimizer.scalars` of the step), or None for an optimizer class without a
    fused form (the generic rule is used then)."""
    rule = FUSED.get(type(optimizer))
    if rule is None:
        return None

    def update(params, grads, slots, scalars):
        rule(optimizer, list(params), list(grads), slots, scalars[0])

    return update
