"""The timing protocol, as a callback on the fit loop's hooks: every backend is timed by this code.

- An epoch's training time runs from ``on_epoch_begin`` to ``on_validation_begin`` (or to
  ``on_epoch_end`` without validation data), so the validation pass is never counted in it;
  validation is timed on its own.
- The first epoch (graph building, tracing, compilation) is reported apart from the steady state
  (every later epoch); with a single epoch there is no steady state and its time stands in.
- Step times come from ``on_train_batch_begin``/``on_train_batch_end``. Steady-state step
  statistics use the steps of the steady-state epochs; with a single epoch, every step but the
  first (which carries the compilation).
- ``epoch_time_cv`` is the coefficient of variation of the steady epochs: past
  `benchbench.interference.UNSTABLE_CV` the cell is flagged unstable.
- What the rest of the machine did meanwhile is sampled by `benchbench.interference`, beside
  this callback and at the same boundaries, never inside a timed epoch.
- ``needs_sync`` makes the fit loop synchronise the backend's device before every hook, so each
  clock read sees finished work (CUDA kernels and XLA dispatch are asynchronous).
- A fit loop that runs several steps per call (Keras's ``steps_per_execution``, in a keras3
  lane) calls the batch hooks once per call and says how many steps it ran with
  ``logs['steps_in_batch']``; each of those steps is then recorded as an equal share.
"""

from __future__ import annotations

import time

from benchbench.callbacks import Callback
from benchbench.interference import epoch_time_cv
from benchbench.results import EpochRecord, Timing, median, percentile


class TimingCallback(Callback):
    """Records per-epoch and per-step times and the fit logs.

    Args:
        clock: the clock to read (seconds); `time.perf_counter` unless a test passes another.

    After ``fit``, ``epochs`` holds one `EpochRecord` per epoch and ``step_times`` one list of
    step durations per epoch; `timing` summarises them.
    """

    needs_sync = True

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.epochs: list[EpochRecord] = []
        self.step_times: list[list[float]] = []
        self.samples = 0

    def on_train_begin(self, logs):
        self.samples = int(logs.get("samples", 0))

    def on_epoch_begin(self, epoch, logs):
        self._epoch_start = self.clock()
        self._train_time = self._val_start = None
        self._steps: list[float] = []

    def on_train_batch_begin(self, batch, logs):
        self._step_start = self.clock()

    def on_train_batch_end(self, batch, logs):
        n = int((logs or {}).get("steps_in_batch", 1))
        self._steps.extend([(self.clock() - self._step_start) / n] * n)

    def on_validation_begin(self, epoch, logs):
        self._val_start = self.clock()
        self._train_time = self._val_start - self._epoch_start

    def on_epoch_end(self, epoch, logs):
        now = self.clock()
        if self._train_time is None:
            train_time, val_time = now - self._epoch_start, None
        else:
            train_time, val_time = self._train_time, now - self._val_start
        self.step_times.append(self._steps)
        self.epochs.append(
            EpochRecord(
                epoch=epoch,
                train_time=train_time,
                val_time=val_time,
                loss=logs.get("loss"),
                accuracy=logs.get("accuracy"),
                val_loss=logs.get("val_loss"),
                val_accuracy=logs.get("val_accuracy"),
                steps=len(self._steps),
                step_time_sum=sum(self._steps),
            )
        )

    def steady_step_times(self) -> list[float]:
        if len(self.step_times) > 1:
            return [t for steps in self.step_times[1:] for t in steps]
        first = self.step_times[0] if self.step_times else []
        return first[1:] or first

    def timing(self, setup_time: float) -> Timing:
        """The cell's `Timing`; raises ValueError if no epoch was recorded."""
        if not self.epochs:
            raise ValueError("no epoch was timed: fit ran zero epochs")
        first = self.epochs[0].train_time
        steady = [e.train_time for e in self.epochs[1:]]
        epoch_time = median(steady) if steady else first
        steps = self.steady_step_times()
        return Timing(
            first_epoch_time=first,
            steady_epoch_times=steady,
            epoch_time=epoch_time,
            step_time_median=median(steps) if steps else 0.0,
            step_time_p90=percentile(steps, 90) if steps else 0.0,
            throughput=self.samples / epoch_time if epoch_time > 0 else 0.0,
            setup_time=setup_time,
            samples_per_epoch=self.samples,
            epoch_time_cv=_rounded(epoch_time_cv(steady)),
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
