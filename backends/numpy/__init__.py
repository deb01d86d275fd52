"""The NumPy reference backend: every op's forward and gradient written side by side.

It needs no framework, runs on the CPU only, and is the oracle the other adapters are tested
against.
"""

from __future__ import annotations

import numpy as np

from benchbench.backend import BackendInfo


def probe() -> BackendInfo:
    return BackendInfo(name="numpy", available=True, version=np.__version__, engine="numpy")


def __getattr__(attr: str):
    # The framework is imported only when the backend is selected, never by probe().
    if attr == "Backend":
        from backends.numpy.adapter import Backend

        return Backend
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
