"""Error classes shared by every part of benchbench.

Every error a user can cause by what they type or write derives from `BenchbenchError`, so the
CLI can print it as one clean line instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class BenchbenchError(Exception):
    """Base class for errors caused by user input or by the environment."""


class UnknownNameError(BenchbenchError, ValueError):
    """A name (backend, workload, loss, optimizer, ...) that benchbench does not know."""

    def __init__(self, kind: str, name: object, valid: Iterable[str]):
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; expected one of: {', '.join(self.valid)}")


class BackendUnavailable(BenchbenchError, ImportError):
    """A known backend that cannot be used on this machine.

    Attributes:
        backend: the backend's registry name.
        reason: why it cannot run here.
        remedy: what the user can do about it.
    """

    def __init__(self, backend: str, reason: str, remedy: str):
        self.backend = backend
        self.reason = reason
        self.remedy = remedy
        super().__init__(f"backend {backend!r} is unavailable: {reason}. {remedy}")


class DeviceUnavailable(BenchbenchError, RuntimeError):
    """A device (e.g. a CUDA GPU) was asked for that this backend cannot use here."""

    def __init__(self, backend: str, device: str, reason: str):
        self.backend = backend
        self.device = device
        self.reason = reason
        super().__init__(f"backend {backend!r} cannot run on {device!r}: {reason}")


class ModelBuildError(BenchbenchError, ValueError):
    """A model whose layers do not fit together (raised when the model is built)."""


class DataUnavailable(BenchbenchError, FileNotFoundError):
    """A dataset that is not on disk and cannot be downloaded here."""


class LaneUnsupported(BenchbenchError):
    """A reference lane that has no hand-written form of a workload's model."""
