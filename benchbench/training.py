"""The fit loop, `evaluate` and `predict`: the one place that drives every backend's steps.

Batches are cut on the host from float32 NumPy arrays (shuffled by a generator seeded from the
shuffle seed, by default the model's, and the epoch number, so every backend sees the same
batches in the same order)
and handed to the backend's compiled step. Timing callbacks hook in here, never in adapters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchbench import losses
from benchbench.callbacks import Callback, CallbackList, History, ProgbarLogger
from benchbench.errors import BenchbenchError


class TrainingMixin:
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
        metric_fn = losses.accuracy_for(self.loss_name) if self.metric_name else None

        def loss(y_true, y_pred):
            return loss_fn(K, y_true, y_pred, from_logits=fused)

        def metric(y_true, y_pred):
            return metric_fn(K, y_true, y_pred, from_logits=fused)

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
        x = np.ascontiguousarray(x, dtype=np.float32)
        self._ensure_built(x)
        if x.shape[1:] != self.input.shape:
            raise ValueError(
                f"input of shape {x.shape} does not fit the model, which expects "
                f"{(None, *self.input.shape)}"
            )
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
        batch_size: int = 32,
        epochs: int = 1,
        verbose: int = 1,
        validation_data: tuple | None = None,
        shuffle: bool = True,
        callbacks: Sequence[Callback] | None = None,
        initial_epoch: int = 0,
        shuffle_seed: int | None = None,
    ) -> History:
        """Trains the model, as Keras's ``fit`` does for in-memory arrays.

        `shuffle_seed` seeds the order of the batches (default: the model's seed, which also
        seeds its weights); benchbench's runner gives every repeat its own.

        Returns:
            A `History` whose ``history`` maps 'loss', 'accuracy' (if asked for), 'val_loss' and
            'val_accuracy' (with validation data) to per-epoch values.
        """
        self._require_compiled("fit")
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
        x, y = self._prepare(x, y)
        if validation_data is not None:
            validation_data = self._prepare(*validation_data)
        self.history = History()
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
        loop = self.fit_loop or self._fit_epochs
        loop(
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
        cbs.call("on_train_end", {})
        return self.history

    def _fit_epochs(
        self, x, y, *, batch_size, epochs, initial_epoch, validation_data, shuffle, seed, cbs
    ):
        """benchbench's own loop: batches cut on the host, the backend's compiled steps."""
        step = self.train_step()
        n = len(x)
        steps = -(-n // batch_size)
        for epoch in range(initial_epoch, epochs):
            cbs.call("on_epoch_begin", epoch, {})
            order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else None
            logs = self._run_epoch(step, x, y, batch_size, steps, order, cbs)
            if validation_data is not None:
                cbs.call("on_validation_begin", epoch, logs)
                val = self._evaluate_arrays(*validation_data, batch_size)
                logs.update({f"val_{k}": v for k, v in val.items()})
                cbs.call("on_validation_end", epoch, logs)
            cbs.call("on_epoch_end", epoch, logs)

    def _run_epoch(self, step, x, y, batch_size, steps, order, cbs) -> dict:
        total_loss = total_metric = 0.0
        seen = 0
        for b in range(steps):
            lo, hi = b * batch_size, min((b + 1) * batch_size, len(x))
            if order is None:
                xb, yb = x[lo:hi], y[lo:hi]
            else:
                idx = order[lo:hi]
                xb, yb = x[idx], y[idx]
            cbs.call("on_train_batch_begin", b, {})
            loss, metric = step(xb, yb)
            size = hi - lo
            seen += size
            total_loss += loss * size
            total_metric += metric * size
            cbs.call("on_train_batch_end", b, self._logs(total_loss / seen, total_metric / seen))
        return self._logs(total_loss / seen, total_metric / seen)

    def _logs(self, loss: float, metric: float) -> dict:
        logs = {"loss": float(loss)}
        if self.metric_name:
            logs[self.metric_name] = float(metric)
        return logs

    def _evaluate_arrays(self, x, y, batch_size: int) -> dict:
        step = self.test_step()
        total_loss = total_metric = 0.0
        for lo in range(0, len(x), batch_size):
            xb, yb = x[lo : lo + batch_size], y[lo : lo + batch_size]
            loss, metric = step(xb, yb)
            total_loss += loss * len(xb)
            total_metric += metric * len(xb)
        return self._logs(total_loss / len(x), total_metric / len(x))

    def evaluate(self, x, y, batch_size: int = 32, verbose: int = 0):
        """Returns the loss, or ``[loss, accuracy]`` when the model was compiled with metrics."""
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y)
        logs = self._evaluate_arrays(x, y, batch_size)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        values = list(logs.values())
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size: int = 32) -> np.ndarray:
        """Returns the model's outputs (after the last activation) for `x`."""
        self._require_compiled("predict")
        x, _ = self._prepare(x)
        step = self.predict_step()
        outputs = [step(x[lo : lo + batch_size]) for lo in range(0, len(x), batch_size)]
        return np.concatenate(outputs, axis=0)
