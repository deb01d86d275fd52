"""The PyTorch adapter: native ops and autograd, eager, on CPU or CUDA."""

from __future__ import annotations

import importlib.metadata

from benchbench.backend import BackendInfo
from benchbench.registry import missing_module_info


def probe() -> BackendInfo:
    missing = missing_module_info("torch", "torch", "torch", devices=("cpu", "gpu"))
    if missing:
        return missing
    return BackendInfo(
        name="torch",
        available=True,
        engine="torch",
        version=importlib.metadata.version("torch"),
        devices=("cpu", "gpu"),
    )


def build_devices() -> tuple[str, ...]:
    """'gpu' only for a build with CUDA or ROCm (the CPU-only wheel has neither). Imports torch:
    `benchbench list` calls it in a child process."""
    import torch

    gpu = torch.backends.cuda.is_built() or bool(getattr(torch.version, "hip", None))
    return ("cpu", "gpu") if gpu else ("cpu",)


def __getattr__(attr: str):
    # The framework is imported only when the backend is selected, never by probe().
    if attr == "Backend":
        from backends.torch.adapter import Backend

        return Backend
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
