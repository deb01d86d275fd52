"""The fit loop, `evaluate` and `predict`: the one place that drives every backend's steps.

Batches are cut on the host from NumPy arrays of the model's input dtype (float32, or int32
token ids for a model fed into an Embedding), shuffled by a generator seeded from the shuffle
seed (by default the model's) and the epoch number, so every backend sees the same batches in
the same order, and handed to the backend's compiled step. Timing callbacks hook in here, never
in adapters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from benchbench import activations, losses
from benchbench.callbacks import Callback, CallbackList, History, ProgbarLogger
from benchbench.errors import BenchbenchError
from benchbench.training_generator import GeneratorMixin
from benchbench.training_utils import (
    batch_size_of,
    check_verbose,
    refuse_unsupported,
    scores,
    slices,
    validates,
    xy_pair,
)


def _as_input_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    """`x` as a contiguous array of the model's input dtype; token ids must be whole numbers."""
    if dtype == "int32" and not np.issubdtype(x.dtype, np.integer):
        if not np.issubdtype(x.dtype, np.number) or not np.array_equal(x, np.trunc(x)):
            raise ValueError(
                f"the model takes integer ids (int32) but got {x.dtype} values that are not "
                "whole numbers; pass the token ids themselves"
            )
    return np.ascontiguousarray(x, dtype=dtype)


class TrainingMixin(GeneratorMixin):
    """`fit`, `evaluate` and `predict` for `benchbench.models.Model`.

    Attributes:
        fit_loop: what drives `fit`'s epochs: None for benchbench's own loop (the backend's
            compiled steps, batch by batch); a reference lane that trains through its
            framework's own loop (Keras 3's ``fit``) sets a callable taking
            ``(x, y, *, batch_size, epochs, initial_epoch, validation_data, shuffle, seed, cbs)``
            ``seed`` (of the batch order), which calls the same hooks on ``cbs``, so the same
            callbacks time it.
    """

    fit_loop = None

    # -- steps -----------------------------------------------------------------------------------

    def _require_compiled(self, what: str) -> None:
        if self.backend is None or not hasattr(self, "optimizer"):
            raise BenchbenchError(f"{what}: call model.compile(optimizer, loss) first")

    def _loss_and_metric(self):
        K, fused = self.backend, self._logits_fused()
        loss_fn = self._loss_fn
        metric_fn = self._metric_fn

        def loss(y_true, y_pred):
            return loss_fn(K, y_true, y_pred, from_logits=fused)

        # a metric that cannot take logits gets the output activation applied first
        on_logits = fused and losses.takes_logits(metric_fn)
        activation = losses.LOGIT_ACTIVATION.get(self.loss_name) if fused else None

        def metric(y_true, y_pred):
            if fused and not on_logits:
                y_pred = activations.apply(K, activation, y_pred)
            return metric_fn(K, y_true, y_pred, from_logits=on_logits)

        def forward(params, x, training, rng):
            return self.forward(params, x, training, rng, logits=fused)

        return forward, loss, metric if metric_fn else None

    def train_step(self):
        """The backend's compiled train step for this model (built on first use)."""
        self._require_compiled("fit")
        if self._train_step is None:
            forward, loss, metric = self._loss_and_metric()
            self._train_step = self.backend.make_train_step(
                forward, loss, metric, self.optimizer, self._vars
            )
        return self._train_step

    def test_step(self):
        self._require_compiled("evaluate")
        if self._test_step is None:
            forward, loss, metric = self._loss_and_metric()
            self._test_step = self.backend.make_test_step(forward, loss, metric, self._vars)
        return self._test_step

    def predict_step(self):
        self._require_compiled("predict")
        if self._predict_step is None:

            def forward(params, x, training, rng):
                return self.forward(params, x, training, rng, logits=False)

            self._predict_step = self.backend.make_predict_step(forward, self._vars)
        return self._predict_step

    # -- data ------------------------------------------------------------------------------------

    def _prepare(self, x, y=None):
        x = np.asarray(x)
        self._ensure_built(x)
        x = _as_input_dtype(x, self.input_dtype)
        if x.shape[1:] != self.input.shape:
            raise ValueError(
                f"input of shape {x.shape} does not fit the model, which expects "
                f"{(None, *self.input.shape)}"
            )
        for layer in self.input_layers():
            layer.check_input(x)
        if y is None:
            return x, None
        sparse = self.loss_name == "sparse_categorical_crossentropy"
        y = np.ascontiguousarray(y, dtype=np.int32 if sparse else np.float32)
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
        expected = self.output.shape
        if not sparse and y.shape[1:] != expected:
            raise ValueError(
                f"targets of shape {y.shape} do not fit the model's output {(None, *expected)}"
                + (
                    "; for integer labels use loss='sparse_categorical_crossentropy'"
                    if y.ndim == 1
                    else ""
                )
            )
        return x, y

    # -- public API ------------------------------------------------------------------------------

    def fit(
        self,
        x,
        y,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: tuple | None = None,
        shuffle: bool = True,
        class_weight=None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_freq=1,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        *,
        shuffle_seed: int | None = None,
    ) -> History:
        """Trains the model, as Keras 2's ``fit`` does for in-memory arrays (same arguments,
        same order).

        `validation_split` holds out the last fraction of `x`/`y` (before shuffling) when no
        `validation_data` is given; `validation_freq` validates every that many epochs (an int)
        or after the listed epochs (1-based). `max_queue_size`, `workers` and
        `use_multiprocessing` have no effect (batches are cut from memory). `shuffle_seed` seeds
        the order of the batches (default: the model's seed, which also seeds its weights);
        benchbench's runner gives every repeat its own.

        Returns:
            A `History` whose ``history`` maps 'loss', the metric (if asked for), 'val_loss' and
            'val_<metric>' (with validation data) to per-epoch values.

        Raises:
            ValueError: for `class_weight`, `sample_weight` and `steps_per_epoch` /
                `validation_steps` with arrays, which benchbench does not support.
        """
        self._require_compiled("fit")
        refuse_unsupported(
            "fit",
            class_weight=class_weight,
            sample_weight=sample_weight,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
        )
        batch_size = batch_size_of("fit", batch_size)
        check_verbose("fit", verbose)
        x, y = self._prepare(x, y)
        if validation_data is None and validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(
                    f"fit: validation_split must lie in (0, 1), got {validation_split}"
                )
            split = int(len(x) * (1.0 - validation_split))
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        elif validation_data is not None:
            validation_data = self._prepare(*xy_pair("validation_data", validation_data))
        self.history = History()
        self.stop_training = False  # a callback (EarlyStopping) may set it to end training
        extra = [ProgbarLogger(verbose)] if verbose else []
        cbs = CallbackList([self.history, *extra, *(callbacks or [])], self)
        n = len(x)
        cbs.call(
            "on_train_begin",
            {
                "epochs": epochs,
                "steps": -(-n // batch_size),
                "samples": n,
                "batch_size": batch_size,
            },
        )
        if self.fit_loop is not None:  # a reference lane driving its framework's own loop
            self.fit_loop(
                x,
                y,
                batch_size=batch_size,
                epochs=epochs,
                initial_epoch=initial_epoch,
                validation_data=validation_data,
                shuffle=shuffle,
                seed=self.seed if shuffle_seed is None else shuffle_seed,
                cbs=cbs,
            )
        else:
            seed = self.seed if shuffle_seed is None else shuffle_seed

            def epoch_batches(epoch):
                order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else None
                return slices(x, y, batch_size, order)

            def validate():
                return self._evaluate_arrays(*validation_data, batch_size)

            self._fit_epochs(
                epoch_batches,
                epochs=epochs,
                initial_epoch=initial_epoch,
                validate=validate if validation_data is not None else None,
                validation_freq=validation_freq,
                cbs=cbs,
            )
        cbs.call("on_train_end", {})
        return self.history

    def _fit_epochs(self, epoch_batches, *, epochs, initial_epoch, validate, validation_freq, cbs):
        """benchbench's own loop: ``epoch_batches(epoch)`` yields the epoch's ``(x, y)`` batches,
        run by the backend's compiled step; ``validate()`` returns the validation logs."""
        step = self.train_step()
        for epoch in range(initial_epoch, epochs):
            cbs.call("on_epoch_begin", epoch, {})
            logs = self._run_epoch(step, epoch_batches(epoch), cbs)
            if validate is not None and validates(epoch, validation_freq):
                cbs.call("on_validation_begin", epoch, logs)
                logs.update({f"val_{k}": v for k, v in validate().items()})
                cbs.call("on_validation_end", epoch, logs)
            cbs.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break

    def _run_epoch(self, step, batches, cbs) -> dict:
        total_loss = total_metric = 0.0
        seen = 0
        for b, (xb, yb) in enumerate(batches):
            cbs.call("on_train_batch_begin", b, {})
            loss, metric = step(xb, yb)
            seen += len(xb)
            total_loss += loss * len(xb)
            total_metric += metric * len(xb)
            cbs.call("on_train_batch_end", b, self._logs(total_loss / seen, total_metric / seen))
        if not seen:
            raise ValueError("fit: an epoch had no batches")
        return self._logs(total_loss / seen, total_metric / seen)

    def _logs(self, loss: float, metric: float) -> dict:
        logs = {"loss": float(loss)}
        if self.metric_name:
            logs[self.metric_name] = float(metric)
        return logs

    def _evaluate_batches(self, batches) -> dict:
        step = self.test_step()
        total_loss = total_metric = 0.0
        seen = 0
        for xb, yb in batches:
            loss, metric = step(xb, yb)
            seen += len(xb)
            total_loss += loss * len(xb)
            total_metric += metric * len(xb)
        if not seen:
            raise ValueError("evaluate: no samples to evaluate")
        return self._logs(total_loss / seen, total_metric / seen)

    def _evaluate_arrays(self, x, y, batch_size: int) -> dict:
        return self._evaluate_batches(slices(x, y, batch_size, None))

    def evaluate(
        self, x, y, batch_size: int | None = None, verbose: int = 1, sample_weight=None, steps=None
    ):
        """Returns the loss, or ``[loss, metric]`` when the model was compiled with a metric;
        with `verbose`, prints them as Keras does."""
        self._require_compiled("evaluate")
        refuse_unsupported("evaluate", sample_weight=sample_weight, steps=steps)
        x, y = self._prepare(x, y)
        logs = self._evaluate_arrays(x, y, batch_size_of("evaluate", batch_size))
        return scores(logs, verbose)

    def predict(self, x, batch_size: int | None = None, verbose: int = 0, steps=None):
        """Returns the model's outputs (after the last activation) for `x`."""
        self._require_compiled("predict")
        refuse_unsupported("predict", steps=steps)
        batch_size = batch_size_of("predict", batch_size)
        x, _ = self._prepare(x)
        step = self.predict_step()
        outputs = [step(x[lo : lo + batch_size]) for lo in range(0, len(x), batch_size)]
        return np.concatenate(outputs, axis=0)

    def set_learning_rate(self, learning_rate: float) -> None:
        """Changes the optimizer's learning rate from the next step on (Keras 2's
        ``K.set_value(model.optimizer.lr, ...)``; the schedule callbacks use it). The rate is
        one of the step's host-side scalars, so nothing is recompiled."""
        self.optimizer = dataclasses.replace(self.optimizer, learning_rate=float(learning_rate))
        if self._train_step is not None:
            self._train_step.optimizer = self.optimizer

    # -- Keras 2's batch-level API ---------------------------------------------------------------

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, reset_metrics=True):
        """One training step on one batch: the loss, or ``[loss, metric]``."""
        self._require_compiled("train_on_batch")
        refuse_unsupported(
            "train_on_batch", sample_weight=sample_weight, class_weight=class_weight
        )
        x, y = self._prepare(x, y)
        return scores(self._logs(*self.train_step()(x, y)), 0)

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True):
        """The loss (and metric) of one batch, without training: a scalar or ``[loss, metric]``."""
        self._require_compiled("test_on_batch")
        refuse_unsupported("test_on_batch", sample_weight=sample_weight)
        x, y = self._prepare(x, y)
        return scores(self._logs(*self.test_step()(x, y)), 0)

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's outputs for one batch."""
        self._require_compiled("predict_on_batch")
        x, _ = self._prepare(x)
        return self.predict_step()(x)
