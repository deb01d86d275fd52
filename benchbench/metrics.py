"""Keras 2's ``keras.metrics``: the functions ``compile(metrics=[...])`` takes besides names.

benchbench computes one metric per model (see `benchbench.losses.get_metric`).
"""

from benchbench.losses import (
    binary_accuracy,
    binary_crossentropy,
    categorical_accuracy,
    categorical_crossentropy,
    mean_squared_error,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
)

mse = MSE = mean_squared_error

__all__ = [
    "MSE",
    "binary_accuracy",
    "binary_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "mean_squared_error",
    "mse",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
]
