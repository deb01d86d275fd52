"""The `Backend` class of the torch adapter (imported only when the backend is selected)."""

from __future__ import annotations

from backends.torch.core import Core
from backends.torch.trainer import Trainer
from benchbench.backend import BackendBase, Capabilities


class Backend(Core, Trainer, BackendBase):
    name = "torch"
    capabilities = Capabilities(devices=("cpu", "gpu"), compiled_step=False, engine="torch")
    nn_module = "backends.torch.nn"
