"""Device placement, seeding, threads, conversion and variables for JAX.

JAX arrays are immutable, so a variable is a small holder whose ``value`` the train step
replaces with the array it returns. Randomness is explicit: the backend keeps one PRNG key made
from its seed, and every training step derives its own key from it and the step number.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import warnings

import jax
import numpy as np

from benchbench.errors import DeviceUnavailable

GPU_REMEDY = "install a CUDA build of JAX, e.g. pip install -U 'jax[cuda12]'"


class Variable:
    """A trainable weight: a mutable slot holding an immutable float32 JAX array."""

    __slots__ = ("value", "name")

    def __init__(self, value, name: str = ""):
        self.value = value
        self.name = name

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def __repr__(self) -> str:
        return f"<jax Variable {self.name} shape={self.value.shape}>"


def _select_device(device: str):
    if device not in ("cpu", "gpu"):
        raise DeviceUnavailable("jax", device, "expected 'cpu' or 'gpu'")
    try:
        found = jax.devices(device)
    except RuntimeError as exc:  # JAX raises this when no backend of the kind exists
        found, detail = [], str(exc).splitlines()[0]
    else:
        detail = "it lists no such device"
    if not found:
        remedy = f"; {GPU_REMEDY}" if device == "gpu" else ""
        raise DeviceUnavailable(
            "jax", device, f"jax {jax.__version__} has no {device.upper()} here ({detail}){remedy}"
        )
    return found[0]


def _client_started() -> bool:
    """Whether XLA's clients exist already (then thread settings come too late)."""
    try:
        from jax._src import xla_bridge  # private, hence the fallback

        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):
        return True


def _default_pool_size() -> int:
    """XLA:CPU's intra-op pool size as XLA computes it (its ``DefaultThreadPoolSize``)."""
    for var in ("PJRT_NPROC", "NPROC"):
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _apply_threads(threads: int | None) -> int:
    """Sizes XLA:CPU's thread pool; returns the size in effect as far as can be known.

    XLA ignores OMP_NUM_THREADS and, in current JAX, ``--xla_cpu_multi_thread_eigen`` too: the
    pool is sized once, from ``PJRT_NPROC``, when the CPU client is created (on the first device
    query, not on ``import jax``). So `threads` is honoured only if no JAX computation or device
    query has happened in this process before the backend is constructed.
    """
    if threads:
        if _client_started():
            warnings.warn(
                f"jax: threads={threads} not applied: XLA's CPU client already exists in this "
                "process (set PJRT_NPROC before any JAX work to size its pool)",
                RuntimeWarning,
                stacklevel=4,
            )
        else:
            os.environ["PJRT_NPROC"] = str(threads)
    return _default_pool_size()


class Core:
    def setup(self, device, seed, threads):
        self.pool_threads = _apply_threads(threads)
        self.jax_device = _select_device(device)
        self._key = jax.device_put(jax.random.key(seed), self.jax_device)
        self._pending = None  # the last step's outputs, for `synchronize`

    def info(self) -> dict:
        gpu = self.jax_device.platform != "cpu"
        try:
            jaxlib = importlib.metadata.version("jaxlib")
        except importlib.metadata.PackageNotFoundError:
            jaxlib = ""
        return {
            "engine": "jax",
            "version": jax.__version__,
            "jaxlib": jaxlib,
            "device": self.device,
            "device_name": (
                self.jax_device.device_kind if gpu else platform.processor() or platform.machine()
            ),
            "platform": self.jax_device.platform,
            "threads": self.pool_threads,
            "threads_requested": self.threads,
            "preallocate": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", ""),
        }

    def synchronize(self):
        pending = [a for a in jax.tree_util.tree_leaves(self._pending) if not a.is_deleted()]
        jax.block_until_ready(pending)
        jax.effects_barrier()

    # -- tensors and variables -------------------------------------------------------------------

    def convert(self, array):
        if not isinstance(array, jax.Array):
            array = np.asarray(array)
        return jax.device_put(array, self.jax_device)

    def to_numpy(self, tensor):
        # np.array copies: a zero-copy view could alias a buffer a later step donates.
        return np.array(tensor)

    def variable(self, value, name):
        return Variable(self.convert(np.asarray(value, dtype=np.float32)), name)

    def get_value(self, var):
        return np.array(var.value)

    def set_value(self, var, value):
        var.value = self.convert(np.asarray(value, dtype=np.float32))

    # -- functions of tensors --------------------------------------------------------------------

    def evaluate(self, fn, *arrays):
        return self.to_numpy(fn(*[self.convert(a) for a in arrays]))

    def value_and_grad(self, fn, *arrays):
        inputs = [self.convert(a) for a in arrays]
        value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(inputs))))(*inputs)
        return float(value), [self.to_numpy(g) for g in grads]

    # -- randomness ------------------------------------------------------------------------------

    def step_rng(self, step):
        """The key of training step `step` (an int or a traced counter): seed and step alone
        decide it, so a rerun with the same seed draws the same masks."""
        return jax.random.fold_in(self._key, step)

    def fold_rng(self, rng, index):
        """One key per layer, so two Dropout layers in a step draw different masks."""
        return None if rng is None else jax.random.fold_in(rng, index)
