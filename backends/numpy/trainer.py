"""Train, test and predict steps for the NumPy backend (eager, on the tape)."""

from __future__ import annotations

import numpy as np

from backends.numpy.core import Node, backprop, value
from benchbench.optimizers import RuleOps

OPS = RuleOps(
    sqrt=lambda x: np.sqrt(x, dtype=np.float32), maximum=np.maximum, sum=np.sum, clip=np.clip
)


class TrainStep:
    """Forward and backward on the tape, then the rule applied to every weight.

    Attributes:
        iterations: steps done so far (the optimizer's step counter).
    """

    def __init__(self, forward, loss, metric, optimizer, params):
        self.forward, self.loss, self.metric = forward, loss, metric
        self.optimizer, self.params = optimizer, params
        self.slots = [
            [np.full_like(p.value, v) for v in optimizer.initial_slots()] for p in params
        ]
        self.iterations = 0

    def __call__(self, x, y):
        out = self.forward(self.params, Node(x), True, None)
        batch_loss = self.loss(y, out)
        grads = self.optimizer.clip_gradients(backprop(batch_loss, self.params), OPS)
        batch_metric = value(self.metric(y, out)) if self.metric else 0.0
        scalars = self.optimizer.scalars(self.iterations)
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            new, self.slots[i] = self.optimizer.update(p.value, g, self.slots[i], scalars, OPS)
            p.value = np.asarray(new, dtype=np.float32)
        self.iterations += 1
        return float(value(batch_loss)), float(batch_metric)


class Trainer:
    def make_train_step(self, forward, loss, metric, optimizer, params):
        return TrainStep(forward, loss, metric, optimizer, params)

    def make_test_step(self, forward, loss, metric, params):
        def step(x, y):
            out = forward(params, Node(x), False, None)
            batch_metric = value(metric(y, out)) if metric else 0.0
            return float(value(loss(y, out))), float(batch_metric)

        return step

    def make_predict_step(self, forward, params):
        def step(x):
            return np.asarray(value(forward(params, Node(x), False, None)))

        return step
