"""Train, test and predict steps for the NumPy backend (eager, on the tape)."""

from __future__ import annotations

import numpy as np

from backends.numpy.core import Node, backprop, value


def _sqrt(x):
    return np.sqrt(x, dtype=np.float32) if isinstance(x, np.ndarray) else x**0.5


class Trainer:
    def make_train_step(self, forward, loss, metric, optimizer, params):
        slots = [[np.zeros_like(p.value) for _ in optimizer.slot_names] for p in params]
        state = {"t": 0}

        def step(x, y):
            out = forward(params, Node(x), True, None)
            batch_loss = loss(y, out)
            grads = backprop(batch_loss, params)
            batch_metric = value(metric(y, out)) if metric else 0.0
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                new, slots[i] = optimizer.update(p.value, g, slots[i], state["t"], _sqrt)
                p.value = np.asarray(new, dtype=np.float32)
            state["t"] += 1
            return float(value(batch_loss)), float(batch_metric)

        return step

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
