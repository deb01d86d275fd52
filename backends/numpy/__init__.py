"""The NumPy reference backend: every op's forward and gradient written side by side.

It needs no framework, runs on the CPU only, and is the oracle the other adapters are tested
against.
"""

from __future__ import annotations

import numpy as np

from backends.numpy.core import Core
from backends.numpy.trainer import Trainer
from benchbench.backend import BackendBase, BackendInfo, Capabilities


def probe() -> BackendInfo:
    return BackendInfo(name="numpy", available=True, version=np.__version__, engine="numpy")


class Backend(Core, Trainer, BackendBase):
    name = "numpy"
    capabilities = Capabilities(devices=("cpu",), compiled_step=False, engine="numpy")
    nn_module = "backends.numpy.nn"
