"""Train, test and predict steps for PyTorch: one autograd pass and an in-place update."""

from __future__ import annotations

import torch

from backends.torch.optim import fused_update


def _sqrt(x):
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else x**0.5


class Trainer:
    def _batch(self, array):
        return torch.from_numpy(array).to(self.torch_device, non_blocking=True)

    def make_train_step(self, forward, loss, metric, optimizer, params):
        slots = [[torch.zeros_like(p) for _ in optimizer.slot_names] for p in params]
        state = {"t": 0}
        fused = fused_update(optimizer)

        def step(x, y):
            xb, yb = self._batch(x), self._batch(y)
            out = forward(params, xb, True, None)
            batch_loss = loss(yb, out)
            grads = torch.autograd.grad(batch_loss, params)
            with torch.no_grad():
                batch_metric = metric(yb, out) if metric else batch_loss.new_zeros(())
                if fused:
                    fused(params, grads, slots, state["t"])
                else:
                    self._generic_update(optimizer, params, grads, slots, state["t"])
            state["t"] += 1
            return batch_loss.item(), batch_metric.item()

        return step

    @staticmethod
    def _generic_update(optimizer, params, grads, slots, t):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            new, new_slots = optimizer.update(p, g, slots[i], t, _sqrt)
            p.copy_(new)
            for s, v in zip(slots[i], new_slots, strict=True):
                s.copy_(v)

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
