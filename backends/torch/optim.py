"""Fused in-place forms of benchbench's update rules for PyTorch.

`benchbench.optimizers` states each rule once, functionally; applied eagerly in PyTorch that
costs about ten full passes over every weight per step (each operator allocates a new tensor),
which on the Keras mnist_mlp model was more than the forward and backward pass together. These
are the same rules written with ``torch._foreach_*`` in-place kernels, as ``torch.optim`` does;
the equivalence tests check them against the NumPy reference step by step. Learning-rate
schedules and Adam's bias correction come from `Optimizer.scalars`, on the host in float64.

Adam and Adagrad go further, to PyTorch's fused kernels (``torch._fused_adam_``,
``torch._fused_adagrad_``, behind ``torch.optim``'s ``fused=True``): one pass over each weight
instead of five or six. They compute Keras 2's rule when handed a step count that turns their
own schedule off: Adam's bias correction is 1 at step ``inf`` (``1 - beta ** inf``), so
PyTorch's epsilon-after-correction becomes Keras 2's epsilon beside ``sqrt(v)``, with the
corrected learning rate from the host; Adagrad runs with ``lr_decay`` 0 at step 1, Keras 2's
decay being in that learning rate too. On weights of about imdb_bilstm's sizes (a 20,000 x 128
embedding, LSTM and Dense kernels) Adam took 0.95 ms a step fused, 3.35 ms in foreach kernels
(one process, interleaved, 2 threads).
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


def _counts(params, value: float) -> list:
    """The step counts a fused kernel reads, one per weight, all `value`."""
    return [torch.full((), value, device=p.device) for p in params]


def _adagrad(opt, params, grads, slots, lr, steps):
    torch._fused_adagrad_(
        params,
        grads,
        [s[0] for s in slots],
        steps,
        lr=lr,
        lr_decay=0.0,
        weight_decay=0.0,
        eps=opt.epsilon,
        maximize=False,
    )


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


def _adam(opt, params, grads, slots, lr_t, steps):
    torch._fused_adam_(
        params,
        grads,
        [s[0] for s in slots],
        [s[1] for s in slots],
        [s[2] for s in slots] if opt.amsgrad else [],  # amsgrad's running max of v
        steps,
        lr=lr_t,
        beta1=opt.beta_1,
        beta2=opt.beta_2,
        weight_decay=0.0,
        eps=opt.epsilon,
        amsgrad=bool(opt.amsgrad),
        maximize=False,
    )


# PyTorch's fused kernels, and the step count that turns their own schedule off: Adam's bias
# correction is 1 at step inf; Adagrad divides by 1 + (step - 1) * lr_decay, which is nan there
KERNELS = {_adagrad: 1.0, _adam: float("inf")}

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

    steps: list = []

    def update(params, grads, slots, scalars):
        params = list(params)
        if rule not in KERNELS:
            rule(optimizer, params, list(grads), slots, scalars[0])
            return
        if len(steps) != len(params):
            steps[:] = _counts(params, KERNELS[rule])
        # the kernels walk every tensor as flat memory: a gradient that came back through a
        # permuted view (a convolution's kernel) is laid out to match its weight first
        grads = [g if g.is_contiguous() else g.contiguous() for g in grads]
        rule(optimizer, params, grads, slots, scalars[0], steps)

    return update
