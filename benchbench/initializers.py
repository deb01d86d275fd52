"""Weight initializers, computed in NumPy so every backend starts from identical weights.

Semantics follow Keras: fans are computed from the kernel shape (for convolution kernels
``(k..., in, out)`` the receptive field multiplies both fans).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from benchbench.errors import UnknownNameError

Initializer = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


def compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def zeros(shape, rng):
    return np.zeros(shape, dtype=np.float32)


def ones(shape, rng):
    return np.ones(shape, dtype=np.float32)


def glorot_uniform(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def glorot_normal(shape, rng):
    fan_in, fan_out = compute_fans(shape)
    return _truncated_normal(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng)


def he_uniform(shape, rng):
    fan_in, _ = compute_fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def he_normal(shape, rng):
    fan_in, _ = compute_fans(shape)
    return _truncated_normal(shape, math.sqrt(2.0 / fan_in), rng)


def uniform(shape, rng):
    """Keras's 'uniform' (``RandomUniform()``): U(-0.05, 0.05), Embedding's default."""
    return rng.uniform(-0.05, 0.05, size=shape).astype(np.float32)


def orthogonal(shape, rng):
    """Keras 2's Orthogonal (gain 1): the orthonormal factor of a Gaussian matrix's SVD, on the
    shape flattened to ``(prod(shape[:-1]), shape[-1])``; recurrent kernels' default."""
    flat = (math.prod(shape[:-1]), shape[-1])
    u, _, v = np.linalg.svd(rng.standard_normal(flat), full_matrices=False)
    q = u if u.shape == flat else v
    return q.reshape(shape).astype(np.float32)


def _truncated_normal(shape, stddev: float, rng: np.random.Generator) -> np.ndarray:
    # Keras's VarianceScaling: a normal truncated at two standard deviations, rescaled so the
    # truncated distribution has the requested standard deviation.
    scale = stddev / 0.87962566103423978
    values = rng.standard_normal(size=shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(values) > 2.0
    return (values * scale).astype(np.float32)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "ones": ones,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "uniform": uniform,
    "orthogonal": orthogonal,
}


def get(identifier: str | Initializer) -> Initializer:
    """Returns an initializer by name, or a callable ``(shape, rng) -> ndarray`` unchanged."""
    if callable(identifier):
        return identifier
    if identifier not in INITIALIZERS:
        raise UnknownNameError("initializer", identifier, INITIALIZERS)
    return INITIALIZERS[identifier]
