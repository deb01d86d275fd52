"""Losses and metrics, written once with backend ops.

Each loss is ``loss(K, y_true, y_pred, from_logits) -> scalar`` (mean over the batch). When the
model's last layer is a softmax or sigmoid, the model hands the pre-activation logits here with
``from_logits=True``, which is the numerically stable form; otherwise probabilities are clipped
to ``[EPSILON, 1 - EPSILON]`` as Keras does.

Keras 2 code may pass these functions instead of their names, and its own loss or metric
functions ``fn(y_true, y_pred)`` written with ``benchbench.backend`` ops (``K.mean(...)``): they
run on the model's backend through `benchbench.backend.using`, and their per-sample values are
averaged, as Keras does.
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


def _named(fn: Callable, table: dict[str, Callable]) -> str | None:
    return next((name for name, known in table.items() if known is fn), None)


def custom(fn: Callable) -> Callable:
    """A Keras 2 ``fn(y_true, y_pred)`` as ``loss(K, y_true, y_pred, from_logits)``: run with
    ``K.<op>`` dispatching to the model's backend, and averaged over the batch."""
    from benchbench import backend

    def loss(K, y_true, y_pred, from_logits=False):
        with backend.using(K):
            return K.mean(fn(y_true, y_pred))

    loss.__name__ = getattr(fn, "__name__", "custom")
    return loss


def get(name: str | Callable) -> tuple[str, Callable]:
    """Returns ``(canonical_name, loss_fn)`` for a loss name, one of this module's loss functions
    or a Keras 2 ``fn(y_true, y_pred)``; raises `UnknownNameError` listing the losses."""
    if callable(name):
        known = _named(name, LOSSES)
        if known:
            return known, LOSSES[known]
        return getattr(name, "__name__", "custom_loss"), custom(name)
    if not isinstance(name, str):
        raise TypeError(
            f"loss must be a loss name or a function, got {type(name).__name__}; valid names: "
            f"{', '.join([*LOSSES, *ALIASES])}"
        )
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
#: Metric functions by name (Keras 2's ``keras.metrics``), besides the losses.
METRIC_FUNCTIONS: dict[str, Callable] = {
    f.__name__: f for f in (categorical_accuracy, sparse_categorical_accuracy, binary_accuracy)
}


def takes_logits(fn: Callable) -> bool:
    """Whether a loss or metric function handles ``from_logits=True`` (the others are given
    probabilities)."""
    return fn in METRIC_FUNCTIONS.values() or _named(fn, LOSSES) in LOGIT_ACTIVATION


def get_metric(metrics, loss_name: str) -> tuple[str | None, Callable | None]:
    """Validates ``compile(metrics=...)``: ``(the key its value is logged under, the metric
    function)``, or ``(None, None)`` without a metric.

    'accuracy' and 'acc' are Keras's accuracy for the loss (categorical, sparse or binary); a
    function may be one of `METRIC_FUNCTIONS` or of the losses, or a Keras 2
    ``fn(y_true, y_pred)``. benchbench computes one metric per model.
    """
    if isinstance(metrics, str) or callable(metrics):
        raise TypeError(f"metrics must be a list such as ['accuracy'], got {metrics!r}")
    metrics = list(metrics or [])
    if len(metrics) > 1:
        raise ValueError(
            f"benchbench computes one metric per model, got {len(metrics)}: {metrics!r}; keep "
            "one (e.g. ['accuracy'])"
        )
    if not metrics:
        return None, None
    (metric,) = metrics
    if isinstance(metric, str):
        if metric not in METRICS:
            raise UnknownNameError("metric", metric, [*METRICS, *METRIC_FUNCTIONS])
        return metric, accuracy_for(loss_name)
    if not callable(metric):
        raise TypeError(f"a metric is a name or a function, got {type(metric).__name__}")
    known = _named(metric, METRIC_FUNCTIONS) or _named(metric, LOSSES)
    if known:
        return known, METRIC_FUNCTIONS.get(known) or LOSSES[known]
    return getattr(metric, "__name__", "metric"), custom(metric)
