"""Keras 2's ``keras.utils.Sequence``: a dataset served batch by batch, for ``fit_generator``."""

from __future__ import annotations


class Sequence:
    """Base class of a batch source: ``len(seq)`` batches, ``seq[i]`` the i-th as ``(x, y)``.

    ``fit_generator`` asks for every batch of an epoch in order (or shuffled, with
    ``shuffle=True``) and calls `on_epoch_end` after each epoch, as Keras 2 does.
    """

    def __getitem__(self, index: int):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called after every epoch (e.g. to reshuffle)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
