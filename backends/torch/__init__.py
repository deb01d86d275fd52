"""The PyTorch adapter: native ops and autograd, eager, on CPU or CUDA."""

from __future__ import annotations

import importlib.metadata

from backends.torch.core import Core
from backends.torch.trainer import Trainer
from benchbench.backend import BackendBase, BackendInfo, Capabilities
from benchbench.registry import missing_module_info


def probe() -> BackendInfo:
    missing = missing_module_info("torch", "torch", "torch", devices=("cpu", "gpu"))
    if missing:
        return missing
    return BackendInfo(
        name="torch",
        available=True,
        engine="torch",
        version=importlib.metadata.version("torch"),
        devices=("cpu", "gpu"),
    )


class Backend(Core, Trainer, BackendBase):
    name = "torch"
    capabilities = Capabilities(devices=("cpu", "gpu"), compiled_step=False, engine="torch")
    nn_module = "backends.torch.nn"
