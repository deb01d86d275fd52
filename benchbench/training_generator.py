"""Keras 2's generator API: `fit_generator`, `evaluate_generator`, `predict_generator`.

A generator is a `benchbench.utils.Sequence` (``len`` batches, indexable; its `on_epoch_end` is
called after each epoch) or any iterator of ``(x, y)`` batches (then ``steps_per_epoch`` /
``steps`` say how many batches make an epoch). Batches run through the same fit loop and
callbacks as `fit`, so the same timing hooks measure them. ``max_queue_size``, ``workers`` and
``use_multiprocessing`` are accepted and have no effect: batches are produced in this thread
(their preparation, e.g. augmentation, counts in the epoch's time).
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC

import numpy as np

from benchbench.callbacks import CallbackList, History, ProgbarLogger
from benchbench.training_utils import check_verbose, refuse_unsupported, scores
from benchbench.utils.data_utils import Sequence


class GeneratorMixin:
    """The generator methods of `benchbench.models.Model` (see `TrainingMixin`)."""

    def fit_generator(
        self,
        generator,
        steps_per_epoch: int | None = None,
        epochs: int = 1,
        verbose: int = 1,
        callbacks=None,
        validation_data=None,
        validation_steps: int | None = None,
        validation_freq=1,
        class_weight=None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ) -> History:
        """Trains on batches from `generator`, as Keras 2's ``fit_generator`` does.

        `validation_data` is ``(x, y)`` arrays or another generator (with `validation_steps`
        for a plain iterator). `shuffle` visits a `Sequence`'s batches in a new order each epoch.
        """
        self._require_compiled("fit_generator")
        refuse_unsupported("fit_generator", class_weight=class_weight)
        check_verbose("fit_generator", verbose)
        steps = _steps(generator, steps_per_epoch, "steps_per_epoch")
        self.history = History()
        self.stop_training = False
        extra = [ProgbarLogger(verbose)] if verbose else []
        cbs = CallbackList([self.history, *extra, *(callbacks or [])], self)
        cbs.call("on_train_begin", {"epochs": epochs, "steps": steps, "samples": 0})
        rng = np.random.default_rng(self.seed)

        def epoch_batches(epoch):
            order = rng.permutation(len(generator)) if shuffle and _indexable(generator) else None
            yield from self._prepared(_batches(generator, steps, order))
            if isinstance(generator, Sequence):
                generator.on_epoch_end()

        def validate():
            if _is_arrays(validation_data):
                x, y = self._prepare(*validation_data)
                return self._evaluate_arrays(x, y, 32)
            n = _steps(validation_data, validation_steps, "validation_steps")
            return self._evaluate_batches(self._prepared(_batches(validation_data, n, None)))

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

    def evaluate_generator(
        self,
        generator,
        steps: int | None = None,
        callbacks=None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int = 0,
    ):
        """The loss (and metric) over `steps` batches of `generator`."""
        self._require_compiled("evaluate_generator")
        n = _steps(generator, steps, "steps")
        return scores(self._evaluate_batches(self._prepared(_batches(generator, n, None))), 0)

    def predict_generator(
        self,
        generator,
        steps: int | None = None,
        callbacks=None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int = 0,
    ) -> np.ndarray:
        """The model's outputs for `steps` batches of `generator` (of ``x`` or ``(x, y)``)."""
        self._require_compiled("predict_generator")
        step = self.predict_step()
        outputs = []
        for batch in _batches(generator, _steps(generator, steps, "steps"), None):
            x = batch[0] if isinstance(batch, tuple) else batch
            outputs.append(step(self._prepare(x)[0]))
        return np.concatenate(outputs, axis=0)

    def _prepared(self, batches):
        for batch in batches:
            if not isinstance(batch, tuple) or len(batch) != 2:
                raise ValueError(
                    "a generator for training must yield (x, y) batches; sample weights are "
                    "not supported"
                )
            yield self._prepare(*batch)


def _indexable(generator) -> bool:
    return isinstance(generator, Sequence | SequenceABC)


def _is_arrays(data) -> bool:
    return isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray)


def _steps(generator, steps: int | None, what: str) -> int:
    if steps is not None:
        if not isinstance(steps, int) or steps <= 0:
            raise ValueError(f"{what} must be a positive int, got {steps!r}")
        return steps
    if _indexable(generator) or hasattr(generator, "__len__"):
        return len(generator)
    raise ValueError(f"{what} is needed for a generator without a length (an iterator)")


def _batches(generator, steps: int, order):
    """`steps` batches: by index from a `Sequence` (in `order` if given), else by ``next``."""
    if _indexable(generator):
        n = len(generator)
        for i in range(steps):
            yield generator[int(order[i % n]) if order is not None else i % n]
        return
    iterator = iter(generator)
    for _ in range(steps):
        try:
            yield next(iterator)
        except StopIteration:
            raise ValueError(
                f"the generator ran out after fewer than {steps} batches; give steps_per_epoch "
                "it can serve"
            ) from None
