"""Keras 2's ready-made callbacks: `EarlyStopping`, `ModelCheckpoint`, `LearningRateScheduler`,
`ReduceLROnPlateau`, `CSVLogger`, `TerminateOnNaN` and `LambdaCallback`, with Keras 2.3's
arguments and behaviour (``benchbench.callbacks`` re-exports them)."""

from __future__ import annotations

import csv
import inspect
import math
import sys

import numpy as np

from benchbench.callbacks import Callback


def _mode(mode: str, monitor: str) -> tuple[callable, float]:
    """(is the first value better than the second, the worst start) for Keras's `mode`."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.startswith("fmeasure"))):
        return np.greater, -np.inf
    return np.less, np.inf


def _say(verbose: int, message: str) -> None:
    if verbose:
        print(message, file=sys.stdout)


class EarlyStopping(Callback):
    """Stops training when `monitor` has stopped improving for `patience` epochs."""

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ):
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.better, self.start = _mode(mode, monitor)
        self.min_delta = abs(min_delta) if self.better is np.greater else -abs(min_delta)

    def on_train_begin(self, logs):
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None
        self.best = self.start if self.baseline is None else self.baseline

    def on_epoch_end(self, epoch, logs):
        current = logs.get(self.monitor)
        if current is None:
            raise KeyError(
                f"EarlyStopping: no {self.monitor!r} in the logs; available: {', '.join(logs)}"
            )
        if self.better(current - self.min_delta, self.best):
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs):
        if self.stopped_epoch:
            _say(self.verbose, f"Epoch {self.stopped_epoch + 1:05d}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) after every `period` epochs, to `filepath` formatted
    with ``epoch`` (1-based) and the logs (``weights.{epoch:02d}-{val_loss:.2f}.h5``)."""

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        period: int = 1,
    ):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.period = (
            save_best_only,
            save_weights_only,
            period,
        )
        self.better, self.best = _mode(mode, monitor)
        self.since = 0

    def on_epoch_end(self, epoch, logs):
        self.since += 1
        if self.since < self.period:
            return
        self.since = 0
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None or not self.better(current, self.best):
                return
            _say(self.verbose, f"Epoch {epoch + 1:05d}: {self.monitor} improved, saving {path}")
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Sets the learning rate at every epoch's start to ``schedule(epoch)`` or
    ``schedule(epoch, lr)`` (epoch 0-based)."""

    def __init__(self, schedule, verbose: int = 0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs):
        lr = self.model.optimizer.learning_rate
        takes_lr = len(inspect.signature(self.schedule).parameters) > 1
        new = float(self.schedule(epoch, lr) if takes_lr else self.schedule(epoch))
        self.model.set_learning_rate(new)
        _say(self.verbose, f"Epoch {epoch + 1:05d}: LearningRateScheduler setting rate to {new}.")


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
    epochs, waiting `cooldown` epochs after each cut, never below `min_lr`."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0,
    ):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be below 1, got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.better, self.start = _mode(mode, monitor)

    def on_train_begin(self, logs):
        self.best, self.wait, self.cooling = self.start, 0, 0

    def on_epoch_end(self, epoch, logs):
        current = logs.get(self.monitor)
        if current is None:
            return
        delta = -self.min_delta if self.better is np.less else self.min_delta
        if self.cooling:
            self.cooling -= 1
            self.wait = 0
        if self.better(current, self.best + delta):
            self.best, self.wait = current, 0
        elif not self.cooling:
            self.wait += 1
            if self.wait >= self.patience:
                lr = self.model.optimizer.learning_rate
                new = max(lr * self.factor, self.min_lr)
                if new < lr:
                    self.model.set_learning_rate(new)
                    _say(self.verbose, f"Epoch {epoch + 1:05d}: reducing learning rate to {new}.")
                self.cooling, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Writes each epoch's logs as a row of a CSV file."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        self.filename, self.separator, self.append = str(filename), separator, append

    def on_train_begin(self, logs):
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = None

    def on_epoch_end(self, epoch, logs):
        if self.writer is None:
            fields = ["epoch", *logs]
            self.writer = csv.DictWriter(self.file, fields, delimiter=self.separator)
            if not self.append or self.file.tell() == 0:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **logs})
        self.file.flush()

    def on_train_end(self, logs):
        self.file.close()


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs):
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch,
    logs)``, ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``,
    ``on_train_begin(logs)``, ``on_train_end(logs)``."""

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_batch_begin=None,
        on_batch_end=None,
        on_train_begin=None,
        on_train_end=None,
    ):
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }
        for hook, fn in given.items():
            if fn is not None:
                setattr(self, hook, fn)
