"""The `Backend` class of the JAX adapter (imported only when the backend is selected)."""

from __future__ import annotations

from backends.jax import CAPABILITIES
from backends.jax.core import Core
from backends.jax.trainer import Trainer
from benchbench.backend import BackendBase


class Backend(Core, Trainer, BackendBase):
    name = "jax"
    capabilities = CAPABILITIES
    nn_module = "backends.jax.nn"
