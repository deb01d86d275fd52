"""Train, test and predict steps: each one compiled PyTensor function, called once per batch.

The symbolic graph is built on the first call, when the batch's dtypes are known (int32 labels
for the sparse loss, float32 otherwise), with the batch dimension left unknown so the last,
partial batch of an epoch reuses the same function. Weights and optimizer slots are shared
variables updated inside the function, so a step is one call with no copies of the weights
between Python and the engine. The step counter is a Python int on the host: each call passes
the rule's scalars for that step (`Optimizer.scalars`, float64 on the host, rounded to float32
once) as a third input.
"""

from __future__ import annotations

import numpy as np

from backends.theano import engine, nn
from backends.theano.engine import T
from benchbench.optimizers import RuleOps


class CompiledStep:
    """Calls the function compiled for the batch's dtypes and trailing shape, building it first
    if there is none yet. ``functions`` maps that signature to the compiled function."""

    def __init__(self, build, mode):
        self.build = build
        self.mode = mode
        self.functions: dict = {}

    def function(self, *arrays):
        key = tuple((a.dtype.str, a.shape[1:]) for a in arrays)
        fn = self.functions.get(key)
        if fn is None:
            inputs = [engine.input_var(a.dtype, (None, *a.shape[1:])) for a in arrays]
            with engine.float32_graphs(self.mode):
                outputs, updates = self.build(*inputs)
            fn = engine.function(
                inputs,
                outputs,
                updates=updates + nn.take_rng_updates(),
                mode=self.mode,
                on_unused_input="ignore",
            )
            # inputs always match the function's types (the key), so skip per-call validation
            fn.trust_input = True
            self.functions[key] = fn
        return fn

    def __call__(self, x, y):
        x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
        loss, metric = self.function(x, y)(x, y)
        return float(loss), float(metric)


class TrainStep(CompiledStep):
    """A compiled step that also takes the optimizer's scalars of the step.

    Attributes:
        iterations: steps done so far (the optimizer's step counter).
    """

    def __init__(self, build, mode, optimizer):
        super().__init__(build, mode)
        self.optimizer = optimizer
        self.iterations = 0

    def __call__(self, x, y):
        x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
        scalars = np.asarray(self.optimizer.scalars(self.iterations), np.float32)
        loss, metric = self.function(x, y, scalars)(x, y, scalars)
        self.iterations += 1
        return float(loss), float(metric)


class PredictStep(CompiledStep):
    def __call__(self, x):
        x = np.ascontiguousarray(x)
        return np.asarray(self.function(x)(x))


OPS = RuleOps(sqrt=T.sqrt, maximum=T.maximum, sum=T.sum, clip=T.clip)


def _loss_and_metric(forward, loss, metric, params, x, y, training):
    out = forward(params, x, training, None)
    batch_loss = loss(y, out)
    batch_metric = metric(y, out) if metric else T.constant(np.float32(0.0))
    return out, T.cast(batch_loss, "float32"), T.cast(batch_metric, "float32")


def _optimizer_slots(optimizer, params):
    """Shared slots per parameter, made once per train step so every compiled variant of it
    updates the same state."""
    return [
        [
            engine.shared_variable(np.full_like(p.get_value(borrow=True), v), f"{p.name}/{s}")
            for s, v in zip(optimizer.slot_names, optimizer.initial_slots(), strict=True)
        ]
        for p in params
    ]


def _optimizer_updates(optimizer, params, grads, all_slots, scalars) -> list:
    """(shared, new value) pairs for the weights and their slots."""
    scalars = [scalars[i] for i in range(len(optimizer.scalars(0)))]
    grads = optimizer.clip_gradients(grads, OPS)
    updates = []
    for p, g, slots in zip(params, grads, all_slots, strict=True):
        new, new_slots = optimizer.update(p, g, slots, scalars, OPS)
        updates.append((p, T.cast(new, "float32")))
        updates += [(s, T.cast(v, "float32")) for s, v in zip(slots, new_slots, strict=True)]
    return updates


class Trainer:
    def make_train_step(self, forward, loss, metric, optimizer, params):
        slots = _optimizer_slots(optimizer, params)

        def build(x, y, scalars):
            _, batch_loss, batch_metric = _loss_and_metric(
                forward, loss, metric, params, x, y, True
            )
            grads = engine.grad(batch_loss, list(params))
            updates = _optimizer_updates(optimizer, params, grads, slots, scalars)
            return [batch_loss, batch_metric], updates

        return TrainStep(build, self.mode, optimizer)

    def make_test_step(self, forward, loss, metric, params):
        def build(x, y):
            _, batch_loss, batch_metric = _loss_and_metric(
                forward, loss, metric, params, x, y, False
            )
            return [batch_loss, batch_metric], []

        return CompiledStep(build, self.mode)

    def make_predict_step(self, forward, params):
        def build(x):
            return forward(params, x, False, None), []

        return PredictStep(build, self.mode)
