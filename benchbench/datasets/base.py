"""What every dataset module states: its fixed facts."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset's fixed facts: one stored sample's shape, split sizes and input scaling.

    Attributes:
        name: the name workloads use.
        shape: one stored sample's shape (before the workload reshapes it).
        train_size, test_size: the samples of each split.
        num_classes: label classes (2 for a binary task).
        scale: stored values are divided by this (1.0: used as they are; token ids are).
        seeded: the data is generated from the cell's seed (its ``load`` takes ``seed``), so
            every backend of a repeat trains on the same data and repeats differ.
    """

    name: str
    shape: tuple[int, ...]
    train_size: int
    test_size: int
    num_classes: int
    scale: float
    seeded: bool = False
