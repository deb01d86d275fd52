"""Keras 2's module-level backend functions, which ``from benchbench import backend as K`` gives.

Keras 2 scripts ask the backend module for its image layout, epsilon and float type, and custom
losses and metrics call ``K.mean(...)``-style ops on the backend in use. `benchbench.backend`
re-exports these functions; its ``K.<op>`` attributes dispatch to the backend a model is
compiling or running on (`using`), so a loss written against ``K`` runs on every adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchbench.backend import BackendBase

EPSILON = 1e-7
_ACTIVE: list[BackendBase] = []


def active() -> BackendBase | None:
    """The backend ``K.<op>`` calls go to now (the innermost `using`), or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def image_data_format() -> str:
    """Always 'channels_last': every benchbench layer and adapter takes NHWC / NWC."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts only 'channels_last'.

    Raises:
        ValueError: for 'channels_first', which benchbench does not support; reshape the data to
            (samples, rows, cols, channels) instead (Keras scripts do when
            ``image_data_format()`` says 'channels_last').
    """
    if data_format != "channels_last":
        raise ValueError(
            f"set_image_data_format({data_format!r}): benchbench is channels-last only; keep "
            "images as (samples, rows, cols, channels)"
        )


def epsilon() -> float:
    """The fuzz factor of the losses' clipping and the optimizers' default epsilon (1e-7)."""
    return EPSILON


def floatx() -> str:
    """Always 'float32': weights and activations are float32 on every backend."""
    return "float32"


def set_floatx(dtype: str) -> None:
    """Accepts only 'float32' (ValueError otherwise: benchbench computes in float32)."""
    if dtype != "float32":
        raise ValueError(f"set_floatx({dtype!r}): benchbench computes in float32 only")


def backend() -> str:
    """The name of the default backend (``$BENCHBENCH_BACKEND``, `set_backend`'s, or numpy)."""
    from benchbench import registry

    return registry.default_backend().name


def clear_session() -> None:
    """Nothing to clear: benchbench keeps no global graph (kept for Keras 2 scripts)."""


class using:  # noqa: N801 - a context manager, named as a verb like contextlib's
    """Within the block, ``K.<op>`` calls dispatch to `backend`'s op."""

    def __init__(self, backend: BackendBase):
        self.backend = backend

    def __enter__(self) -> BackendBase:
        _ACTIVE.append(self.backend)
        return self.backend

    def __exit__(self, *exc) -> None:
        _ACTIVE.pop()
