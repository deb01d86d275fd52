"""The JAX adapter: `jax.numpy`/`jax.lax` ops and one jitted, pure train step per model.

Importing this package does not import JAX, so `probe()` stays cheap and works where JAX is
missing; ``Backend`` (in ``adapter.py``, and with it JAX) loads on first access.

What the constructor's arguments do here:

- ``device``: 'cpu' or 'gpu' (the first device JAX lists of that kind).
- ``seed``: the root PRNG key; dropout masks depend on it and on the step number only.
- ``threads``: sets ``PJRT_NPROC``, which sizes XLA's CPU pool, but only if no JAX computation
  or device query has happened yet in the process (XLA reads it once, when its CPU client is
  created). Otherwise a RuntimeWarning says so and ``info()['threads']`` shows the pool's size.
  OMP_NUM_THREADS and ``--xla_cpu_multi_thread_eigen`` do not limit current XLA:CPU.
"""

from __future__ import annotations

import importlib.metadata
import os

from benchbench.backend import BackendInfo, Capabilities
from benchbench.registry import missing_module_info

# XLA reads this when it creates its GPU client (at the first device query), so setting it
# before this adapter imports jax keeps JAX from reserving 75% of GPU memory up front, which
# would starve other backends benchmarked in the same process. setdefault: a user's choice wins.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

DEVICES = ("cpu", "gpu")
CAPABILITIES = Capabilities(devices=DEVICES, compiled_step=True, stateful_rng=False, engine="jax")


def probe() -> BackendInfo:
    try:
        missing = missing_module_info("jax", "jax", "jax", devices=DEVICES) or missing_module_info(
            "jax", "jaxlib", "jax", devices=DEVICES
        )
        if missing:
            return missing
        version = importlib.metadata.version("jax")
    except Exception as exc:  # a broken install must not crash listing the backends
        return BackendInfo(
            name="jax",
            available=False,
            engine="jax",
            devices=DEVICES,
            reason=f"looking up 'jax' failed: {type(exc).__name__}: {exc}",
            remedy="reinstall it with: pip install 'benchbench[jax]'",
        )
    return BackendInfo(name="jax", available=True, version=version, engine="jax", devices=DEVICES)


#: Distribution name prefixes of JAX's GPU plugins (CPU-only jaxlib installs none of them).
GPU_PLUGINS = ("jax-cuda", "jax-rocm", "jax-plugin-cuda", "jax-plugin-rocm")


def build_devices() -> tuple[str, ...]:
    """'gpu' only where a JAX GPU plugin (or a CUDA jaxlib) is installed; imports nothing."""
    names = {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in importlib.metadata.distributions()
    }
    try:
        jaxlib = importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        jaxlib = ""
    gpu = any(name.startswith(GPU_PLUGINS) for name in names) or "cuda" in jaxlib
    return DEVICES if gpu else ("cpu",)


def __getattr__(attr: str):
    # JAX is imported only when the backend is selected, never by probe().
    if attr == "Backend":
        from backends.jax.adapter import Backend

        return Backend
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
