"""The `Backend` class of the numpy adapter (imported only when the backend is selected)."""

from __future__ import annotations

from backends.numpy.core import Core
from backends.numpy.trainer import Trainer
from benchbench.backend import BackendBase, Capabilities


class Backend(Core, Trainer, BackendBase):
    name = "numpy"
    capabilities = Capabilities(devices=("cpu",), compiled_step=False, engine="numpy")
    nn_module = "backends.numpy.nn"
