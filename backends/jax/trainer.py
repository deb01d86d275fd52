"""Train, test and predict steps for JAX: pure functions of explicit state under `jax.jit`.

The train step takes the weights and the optimizer's slots as arguments and returns their new
values, so forward, backward, loss, metric and update are one XLA program and a batch costs one
dispatch. The step counter is a Python int on the host; each call passes the rule's scalars for
that step (`Optimizer.scalars`, float64 on the host, rounded to float32 once) and the counter
(uint32, for the dropout keys). The host side of a call only swaps the returned arrays into the
variables' holders and reads loss and metric back in a single transfer.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchbench.optimizers import RuleOps

OPS = RuleOps(sqrt=jnp.sqrt, maximum=jnp.maximum, sum=jnp.sum, clip=jnp.clip)


def _objective(forward, loss, metric, training: bool):
    """``(params, x, y, rng) -> (loss, metric)``; the metric rides along as auxiliary output so
    it reuses the forward pass that the gradient needs anyway."""

    def objective(params, x, y, rng):
        out = forward(params, x, training, rng)
        value = loss(y, out)
        return value, (metric(y, out) if metric else jnp.zeros((), jnp.float32))

    return objective


def _floats(pair) -> tuple[float, float]:
    # One device-to-host copy for both numbers; it also waits for the whole step to finish.
    loss, metric = np.asarray(pair).tolist()
    return loss, metric


class TrainStep:
    """The compiled train step of one model.

    Attributes:
        traces: how often JAX traced the step, i.e. compiled it: once per batch shape (so the
            last partial batch of an epoch adds one), never once per step.
        iterations: steps done so far (the optimizer's step counter).
    """

    def __init__(self, backend, forward, loss, metric, optimizer, params):
        self.backend = backend
        self.holders = list(params)
        self.optimizer = optimizer
        self.objective = _objective(forward, loss, metric, training=True)
        # Distinct zero arrays per slot, on the weights' device: each is donated, and a buffer
        # may be donated only once.
        self.slots = [
            [backend.convert(np.full(h.shape, v, np.float32)) for v in optimizer.initial_slots()]
            for h in self.holders
        ]
        self.iterations = 0
        self.traces = 0
        # Weights and slots are replaced by the step's outputs: donating them lets XLA write the
        # new values into the old buffers instead of allocating fresh ones each step.
        self._step = jax.jit(self._pure_step, donate_argnums=(0, 1))

    def _pure_step(self, params, slots, scalars, step, x, y):
        self.traces += 1  # Python side effect: runs only while JAX traces
        grad_fn = jax.value_and_grad(self.objective, has_aux=True)
        (loss, metric), grads = grad_fn(params, x, y, self.backend.step_rng(step))
        scalars = tuple(scalars)
        grads = self.optimizer.clip_gradients(grads, OPS)
        new_params, new_slots = [], []
        for p, g, s in zip(params, grads, slots, strict=True):
            p_new, s_new = self.optimizer.update(p, g, s, scalars, OPS)
            new_params.append(p_new.astype(p.dtype))
            new_slots.append([v.astype(p.dtype) for v in s_new])
        return new_params, new_slots, jnp.stack([loss, metric])

    def __call__(self, x, y):
        # Read the holders each call so that set_value between steps is honoured.
        params = [h.value for h in self.holders]
        scalars = np.asarray(self.optimizer.scalars(self.iterations), np.float32)
        step = np.uint32(self.iterations % 2**32)
        params, self.slots, pair = self._step(params, self.slots, scalars, step, x, y)
        self.iterations += 1
        for holder, value in zip(self.holders, params, strict=True):
            holder.value = value
        self.backend._pending = pair
        return _floats(pair)


class EvalStep:
    """The compiled test step: loss and metric with ``training=False``, no update."""

    def __init__(self, forward, loss, metric, params):
        self.holders = list(params)
        self.objective = _objective(forward, loss, metric, training=False)
        self.traces = 0
        self._step = jax.jit(self._pure_step)

    def _pure_step(self, params, x, y):
        self.traces += 1
        return jnp.stack(self.objective(params, x, y, None))

    def __call__(self, x, y):
        return _floats(self._step([h.value for h in self.holders], x, y))


class PredictStep:
    """The compiled inference step (``training=False``)."""

    def __init__(self, forward, params):
        self.holders = list(params)
        self.forward = forward
        self.traces = 0
        self._step = jax.jit(self._pure_step)

    def _pure_step(self, params, x):
        self.traces += 1
        return self.forward(params, x, False, None)

    def __call__(self, x):
        return np.array(self._step([h.value for h in self.holders], x))


class Trainer:
    # Batches go in as NumPy arrays: jit places them on the device of the (committed) weights,
    # which is cheaper than a separate device_put call per array.

    def make_train_step(self, forward, loss, metric, optimizer, params):
        return TrainStep(self, forward, loss, metric, optimizer, params)

    def make_test_step(self, forward, loss, metric, params):
        return EvalStep(forward, loss, metric, params)

    def make_predict_step(self, forward, params):
        return PredictStep(forward, params)
