"""Callbacks for `fit`: the hooks the fit loop calls, `History`, and Keras's progress output.

Hooks are called with ``logs`` dicts. A callback that reads a clock sets ``needs_sync = True``:
the fit loop then waits for the backend's device work before calling its hooks, so the timer
sees finished work on every backend.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Callback:
    needs_sync = False

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict) -> None: ...
    def on_train_end(self, logs: dict) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict) -> None: ...
    def on_validation_begin(self, epoch: int, logs: dict) -> None: ...
    def on_validation_end(self, epoch: int, logs: dict) -> None: ...

    # Keras 2 names the batch hooks both ways; a callback may override either
    def on_batch_begin(self, batch: int, logs: dict) -> None: ...
    def on_batch_end(self, batch: int, logs: dict) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict) -> None:
        self.on_batch_end(batch, logs)


class CallbackList:
    def __init__(self, callbacks: list[Callback], model):
        self.callbacks = list(callbacks)
        self.backend = model.backend
        self.needs_sync = any(cb.needs_sync for cb in self.callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    def call(self, hook: str, *args) -> None:
        if self.needs_sync:
            self.backend.synchronize()
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


class History(Callback):
    """Per-epoch ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``, as in Keras."""

    def on_train_begin(self, logs):
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def _fmt_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Keras's console output: a progress bar (verbose=1) or one line per epoch (verbose=2)."""

    def __init__(self, verbose: int = 1, stream: TextIO | None = None, width: int = 30):
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self.width = width

    def on_train_begin(self, logs):
        self.epochs = logs["epochs"]
        self.steps = logs["steps"]

    def on_epoch_begin(self, epoch, logs):
        self.start = time.perf_counter()
        self.last_draw = 0.0
        if self.verbose:
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs):
        if self.verbose != 1:
            return
        now = time.perf_counter()
        if batch + 1 < self.steps and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        done = batch + 1
        filled = int(self.width * done / self.steps)
        arrow = ">" if done < self.steps else "="
        bar = "=" * max(filled - 1, 0) + (arrow if filled else "") + "." * (self.width - filled)
        digits = len(str(self.steps))
        self.stream.write(f"\r{done:{digits}d}/{self.steps} [{bar}] - {_fmt_logs(logs)}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(self.steps, 1) * 1000
        if self.verbose == 1:
            bar = "=" * self.width
            self.stream.write(
                f"\r{self.steps}/{self.steps} [{bar}] - {elapsed:.0f}s {per_step:.0f}ms/step - "
                f"{_fmt_logs(logs)}\n"
            )
        else:
            self.stream.write(f"{self.steps}/{self.steps} - {elapsed:.0f}s - {_fmt_logs(logs)}\n")
        self.stream.flush()


# Keras 2's ready-made callbacks live beside these (imported last: they subclass Callback)
from benchbench.callbacks_keras2 import (  # noqa: E402
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
