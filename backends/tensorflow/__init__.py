"""The TensorFlow adapter: native ops, GradientTape, steps compiled with ``tf.function``.

Environment:
    BENCHBENCH_TF_JIT: '1' compiles the train, test and predict steps with XLA
        (``tf.function(jit_compile=True)``); off by default. Read when a backend is created and
        reported by ``info()['jit_compile']``.

Importing this package does not import TensorFlow: the registry imports it to call `probe`,
which must stay cheap and must not fail where TensorFlow is absent. ``Backend`` (and with it
TensorFlow) loads on first access.
"""

from __future__ import annotations

import importlib.metadata
import os

from benchbench.backend import BackendBase, BackendInfo, Capabilities
from benchbench.registry import missing_module_info

# Before TensorFlow is first imported, or its C++ start-up logging floods stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEVICES = ("cpu", "gpu")
#: Distributions that install the ``tensorflow`` module.
DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")

CAPABILITIES = Capabilities(
    devices=DEVICES, compiled_step=True, stateful_rng=False, engine="tensorflow"
)


def _version() -> str:
    for dist in DISTRIBUTIONS:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return ""


def probe() -> BackendInfo:
    try:
        missing = missing_module_info("tensorflow", "tensorflow", "tensorflow", devices=DEVICES)
    except (ImportError, ValueError) as exc:  # a broken install must not crash the probe
        return BackendInfo(
            name="tensorflow",
            available=False,
            engine="tensorflow",
            reason=f"the 'tensorflow' module cannot be located: {exc}",
            remedy="reinstall it with: pip install 'benchbench[tensorflow]'",
            devices=DEVICES,
        )
    if missing:
        return missing
    return BackendInfo(
        name="tensorflow", available=True, engine="tensorflow", version=_version(), devices=DEVICES
    )


def build_devices() -> tuple[str, ...]:
    """'gpu' only for a build with CUDA or ROCm (``tensorflow-cpu`` has neither). Imports
    TensorFlow: `benchbench list` calls it in a child process."""
    import tensorflow as tf

    gpu = tf.test.is_built_with_cuda() or tf.test.is_built_with_rocm()
    return DEVICES if gpu else ("cpu",)


def __getattr__(name: str):
    if name != "Backend":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from backends.tensorflow.core import Core
    from backends.tensorflow.trainer import Trainer

    class Backend(Core, Trainer, BackendBase):
        name = "tensorflow"
        capabilities = CAPABILITIES
        nn_module = "backends.tensorflow.nn"

    Backend.__qualname__ = "Backend"
    Backend.__module__ = __name__
    globals()["Backend"] = Backend
    return Backend
