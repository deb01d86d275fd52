"""Train, test and predict steps for PyTorch: one autograd pass and an in-place update."""

from __future__ import annotations

import torch

from backends.torch.optim import fused_update
from benchbench.optimizers import RuleOps

OPS = RuleOps(sqrt=torch.sqrt, maximum=torch.maximum, sum=torch.sum, clip=torch.clamp)


class TrainStep:
    """One autograd pass, then the update in place (fused where `optim` has the rule).

    Attributes:
        iterations: steps done so far (the optimizer's step counter).
    """

    def __init__(self, backend, forward, loss, metric, optimizer, params):
        self.backend, self.forward, self.loss, self.metric = backend, forward, loss, metric
        self.optimizer, self.params = optimizer, list(params)
        self.slots = [
            [torch.full_like(p, v) for v in optimizer.initial_slots()] for p in self.params
        ]
        self.fused = fused_update(optimizer)
        self.iterations = 0

    def __call__(self, x, y):
        xb, yb = self.backend._batch(x), self.backend._batch(y)
        out = self.forward(self.params, xb, True, None)
        batch_loss = self.loss(yb, out)
        grads = torch.autograd.grad(batch_loss, self.params)
        with torch.no_grad():
            grads = self.optimizer.clip_gradients(grads, OPS)
            metric = self.metric(yb, out) if self.metric else batch_loss.new_zeros(())
            scalars = self.optimizer.scalars(self.iterations)
            if self.fused:
                self.fused(self.params, grads, self.slots, scalars)
            else:
                self._generic_update(grads, scalars)
            # one device-to-host copy for both numbers
            pair = torch.stack([batch_loss.detach(), metric.to(batch_loss.dtype)])
        self.iterations += 1
        loss_value, metric_value = pair.tolist()
        return loss_value, metric_value

    def _generic_update(self, grads, scalars):
        for p, g, slots in zip(self.params, grads, self.slots, strict=True):
            new, new_slots = self.optimizer.update(p, g, slots, scalars, OPS)
            p.copy_(new)
            for s, v in zip(slots, new_slots, strict=True):
                s.copy_(v)


class Trainer:
    def _batch(self, array):
        return torch.from_numpy(array).to(self.torch_device, non_blocking=True)

    def make_train_step(self, forward, loss, metric, optimizer, params):
        return TrainStep(self, forward, loss, metric, optimizer, params)

    def make_test_step(self, forward, loss, metric, params):
        def step(x, y):
            with torch.no_grad():
                xb, yb = self._batch(x), self._batch(y)
                out = forward(params, xb, False, None)
                batch_metric = metric(yb, out).item() if metric else 0.0
                return loss(yb, out).item(), batch_metric

        return step

    def make_predict_step(self, forward, params):
        def step(x):
            with torch.no_grad():
                return forward(params, self._batch(x), False, None).cpu().numpy()

        return step
