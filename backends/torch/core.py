"""Device placement, seeding, threads, conversion and variables for PyTorch."""

from __future__ import annotations

import numpy as np
import torch

from benchbench.errors import DeviceUnavailable


class Core:
    def setup(self, device, seed, threads):
        if device == "gpu":
            if not torch.cuda.is_available():
                raise DeviceUnavailable(
                    "torch",
                    "gpu",
                    f"torch {torch.__version__} sees no CUDA GPU (a CPU-only build, or no driver)",
                )
            self.torch_device = torch.device("cuda")
        elif device == "cpu":
            self.torch_device = torch.device("cpu")
        else:
            raise DeviceUnavailable("torch", device, "expected 'cpu' or 'gpu'")
        torch.manual_seed(seed)
        if threads:
            torch.set_num_threads(threads)

    def info(self) -> dict:
        cuda = self.torch_device.type == "cuda"
        return {
            "engine": "torch",
            "version": torch.__version__,
            "device": self.device,
            "device_name": torch.cuda.get_device_name() if cuda else "cpu",
            "threads": torch.get_num_threads(),
            "cuda": torch.version.cuda or "",
        }

    def synchronize(self):
        if self.torch_device.type == "cuda":
            torch.cuda.synchronize()

    def convert(self, array):
        return torch.as_tensor(np.asarray(array), device=self.torch_device)

    def to_numpy(self, tensor):
        return tensor.detach().cpu().numpy()

    def variable(self, value, name):
        return torch.tensor(
            np.asarray(value, dtype=np.float32), device=self.torch_device, requires_grad=True
        )

    def get_value(self, var):
        return var.detach().cpu().numpy().copy()

    def set_value(self, var, value):
        with torch.no_grad():
            var.copy_(torch.as_tensor(np.asarray(value, dtype=np.float32)))

    def evaluate(self, fn, *arrays):
        with torch.no_grad():
            return self.to_numpy(fn(*[self.convert(a) for a in arrays]))

    def value_and_grad(self, fn, *arrays):
        inputs = [self.convert(a).requires_grad_(True) for a in arrays]
        out = fn(*inputs)
        grads = torch.autograd.grad(out, inputs, allow_unused=True, materialize_grads=True)
        return out.item(), [self.to_numpy(g) for g in grads]
