"""benchbench: one Keras-like model, compiled onto every deep-learning backend, timed fairly.

The model layer is importable without any framework::

    from benchbench import Sequential
    from benchbench.layers import Dense, Dropout
    from benchbench.optimizers import RMSprop

It also answers to Keras 2's names, so a Keras 2 script runs with its imports changed:
``import benchbench as keras`` gives ``keras.layers``, ``keras.models``, ``keras.optimizers``,
``keras.losses``, ``keras.metrics``, ``keras.activations``, ``keras.initializers``,
``keras.callbacks``, ``keras.utils``, ``keras.datasets``, ``keras.preprocessing`` and
``keras.backend`` (each imported on first use: nothing heavy happens at import).
"""

import importlib

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

#: Keras 2's submodules, imported when first asked for (``keras.utils.to_categorical``).
KERAS_MODULES = (
    "activations",
    "backend",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "preprocessing",
    "utils",
)


def __getattr__(name: str):
    if name in KERAS_MODULES:
        return importlib.import_module(f"benchbench.{name}")
    raise AttributeError(f"module 'benchbench' has no attribute {name!r}")


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
