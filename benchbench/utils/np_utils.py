"""Keras 2's ``keras.utils.np_utils``: NumPy helpers for labels and features."""

from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encodes integer class labels, classes on a new last axis (Keras 2's rule: a
    trailing axis of size 1, as CIFAR-10's ``(n, 1)`` labels have, is dropped first).

    Args:
        y: integer labels from 0 to ``num_classes - 1``.
        num_classes: the number of classes; default: the largest label + 1.
        dtype: of the result.

    Raises:
        ValueError: a label is negative or not below `num_classes`.
    """
    y = np.array(y, dtype="int")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = tuple(shape[:-1])
    y = y.ravel()
    if not num_classes:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must lie in [0, {num_classes}), got {y.min()}..{y.max()}"
        )
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape((*shape, num_classes))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """`x` divided by its `order`-norm along `axis` (zero norms left as they are)."""
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
