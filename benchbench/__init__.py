"""benchbench: one Keras-like model, compiled onto every deep-learning backend, timed fairly.

The model layer is importable without any framework::

    from benchbench import Sequential
    from benchbench.layers import Dense, Dropout
    from benchbench.optimizers import RMSprop
"""

from benchbench.errors import (
    BackendUnavailable,
    BenchbenchError,
    DataUnavailable,
    DeviceUnavailable,
    ModelBuildError,
    UnknownNameError,
)
from benchbench.models import Input, Model, Sequential
from benchbench.registry import backend_names, get_backend, set_backend

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "BenchbenchError",
    "DataUnavailable",
    "DeviceUnavailable",
    "Input",
    "Model",
    "ModelBuildError",
    "Sequential",
    "UnknownNameError",
    "backend_names",
    "get_backend",
    "set_backend",
    "__version__",
]
