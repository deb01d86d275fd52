"""Losses and metrics, written once with backend ops.

Each loss is ``loss(K, y_true, y_pred, from_logits) -> scalar`` (mean over the batch). When the
model's last layer is a softmax or sigmoid, the model hands the pre-activation logits here with
``from_logits=True``, which is the numerically stable form; otherwise probabilities are clipped
to ``[EPSILON, 1 - EPSILON]`` as Keras does.
"""

from __future__ import annotations

from collections.abc import Callable

from benchbench.errors import UnknownNameError

EPSILON = 1e-7

#: Output activation whose logits each loss can take directly.
LOGIT_ACTIVATION = {
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
    "binary_crossentropy": "sigmoid",
}


def mean_squared_error(K, y_true, y_pred, from_logits=False):
    return K.mean(K.square(K.subtract(y_pred, y_true)))


def categorical_crossentropy(K, y_true, y_pred, from_logits=False):
    if from_logits:
        log_probs = K.log_softmax(y_pred)
    else:
        probs = K.divide(y_pred, K.sum(y_pred, axis=-1, keepdims=True))
        log_probs = K.log(K.clip(probs, EPSILON, 1.0 - EPSILON))
    return K.negative(K.mean(K.sum(K.multiply(y_true, log_probs), axis=-1)))


def sparse_categorical_crossentropy(K, y_true, y_pred, from_logits=False):
    num_classes = y_pred.shape[-1]
    labels = K.one_hot(K.reshape(y_true, (-1,)), num_classes)
    return categorical_crossentropy(K, labels, y_pred, from_logits)


def binary_crossentropy(K, y_true, y_pred, from_logits=False):
    if from_logits:
        # max(z, 0) - z * y + log(1 + exp(-|z|)): never overflows.
        terms = K.add(
            K.subtract(K.relu(y_pred), K.multiply(y_pred, y_true)),
            K.log1p(K.exp(K.negative(K.abs(y_pred)))),
        )
    else:
        p = K.clip(y_pred, EPSILON, 1.0 - EPSILON)
        terms = K.negative(
            K.add(
                K.multiply(y_true, K.log(p)),
                K.multiply(K.subtract(1.0, y_true), K.log(K.subtract(1.0, p))),
            )
        )
    return K.mean(terms)


LOSSES: dict[str, Callable] = {
    "mean_squared_error": mean_squared_error,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
}
ALIASES = {"mse": "mean_squared_error"}


def get(name: str) -> tuple[str, Callable]:
    """Returns ``(canonical_name, loss_fn)``; raises `UnknownNameError` listing the losses."""
    if not isinstance(name, str):
        raise TypeError(f"loss must be a loss name (str), got {type(name).__name__}")
    canonical = ALIASES.get(name, name)
    if canonical not in LOSSES:
        raise UnknownNameError("loss", name, list(LOSSES) + list(ALIASES))
    return canonical, LOSSES[canonical]


# -- metrics -------------------------------------------------------------------------------------


def categorical_accuracy(K, y_true, y_pred, from_logits=False):
    return K.mean(K.equal(K.argmax(y_true), K.argmax(y_pred)))


def sparse_categorical_accuracy(K, y_true, y_pred, from_logits=False):
    labels = K.cast_float(K.reshape(y_true, (-1,)))
    return K.mean(K.equal(labels, K.cast_float(K.argmax(y_pred))))


def binary_accuracy(K, y_true, y_pred, from_logits=False):
    threshold = 0.0 if from_logits else 0.5
    return K.mean(K.equal(y_true, K.greater(y_pred, threshold)))


def accuracy_for(loss_name: str) -> Callable:
    """Keras's 'accuracy' metric: which kind follows from the loss."""
    if loss_name == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    if loss_name == "binary_crossentropy":
        return binary_accuracy
    return categorical_accuracy


METRICS = ("accuracy", "acc")


def check_metrics(metrics) -> str | None:
    """Validates ``compile(metrics=...)``; returns the accuracy key as given, or None."""
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a list such as ['accuracy'], got {metrics!r}")
    metrics = list(metrics or [])
    for m in metrics:
        if m not in METRICS:
            raise UnknownNameError("metric", m, METRICS)
    return metrics[0] if metrics else None
