"""The 'theano' adapter: compiled symbolic graphs, served by PyTensor (Theano's maintained fork)
where the legacy ``theano`` package cannot be imported (1.0.5 does not build on Python 3.11).

The engine is imported only when `Backend` is first looked up: ``probe()`` stays cheap, and the
compile-cache flags (see `backends.theano.engine`) are set before the engine reads them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os

from benchbench.backend import BackendBase, BackendInfo, Capabilities
from benchbench.registry import missing_module_info

ENGINES = ("theano", "pytensor")


def _version(module: str) -> str:
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _blas_warning(module: str) -> str:
    """Why PyTensor may run without a BLAS here ('' when benchbench or the user links one)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if module != "pytensor" or "blas__ldflags" in flags:
        return ""
    if importlib.util.find_spec("scipy_openblas32") is not None:
        return ""
    return (
        "no BLAS for PyTensor's C code unless its own search finds a system one (else matrix "
        "products run through NumPy from Python): pip install 'benchbench[theano]'"
    )


def probe() -> BackendInfo:
    """Available if theano or pytensor is installed; imports neither."""
    try:
        for module in ENGINES:
            if importlib.util.find_spec(module) is not None:
                return BackendInfo(
                    name="theano",
                    available=True,
                    engine=module,
                    version=_version(module),
                    devices=("cpu",),
                    warning=_blas_warning(module),
                )
        return missing_module_info("theano", "pytensor", "theano", engine="pytensor")
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        return BackendInfo(
            name="theano",
            available=False,
            engine="pytensor",
            reason=f"probing failed: {type(exc).__name__}: {exc}",
            remedy="reinstall it with: pip install 'benchbench[theano]'",
        )


def _make_backend():
    from backends.theano import engine
    from backends.theano.core import Core
    from backends.theano.trainer import Trainer

    class Backend(Core, Trainer, BackendBase):
        name = "theano"
        capabilities = Capabilities(
            devices=("cpu",), compiled_step=True, stateful_rng=True, engine=engine.ENGINE
        )
        nn_module = "backends.theano.nn"

    Backend.__module__ = __name__
    return Backend


def __getattr__(name: str):
    # PEP 562: `Backend` imports the engine, so it is made on first access, not on import
    if name == "Backend":
        globals()["Backend"] = backend = _make_backend()
        return backend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
