"""Workloads: what a benchmark cell trains. One file per workload in the ``workloads`` package.

A workload file defines ``WORKLOAD = Workload(...)``; adding a file adds a workload, found by
`discover`. Builders use only the model layer, so a workload runs unchanged on every backend.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pkgutil
from collections.abc import Callable
from typing import Any

from benchbench.errors import UnknownNameError


@dataclasses.dataclass(frozen=True)
class Profile:
    """How long a workload trains: epochs and, for the quick profile, a subset of the data.

    Attributes:
        epochs: number of epochs.
        train_samples: use only the first N training samples (None: all).
        test_samples: use only the first N test samples (None: all).
    """

    epochs: int
    train_samples: int | None = None
    test_samples: int | None = None


@dataclasses.dataclass(frozen=True)
class AccuracyBand:
    """The published test accuracy range for the default profile, with where it comes from."""

    low: float
    high: float
    source: str

    def contains(self, accuracy: float) -> bool:
        return self.low <= accuracy <= self.high


@dataclasses.dataclass(frozen=True)
class Workload:
    """A standard training job.

    Attributes:
        name: registry name (the file's name).
        description: one line for ``benchbench list`` and reports.
        dataset: a dataset name from `benchbench.datasets`.
        input_shape: the model's input shape without the batch dimension; the dataset's arrays
            are reshaped to it.
        num_classes: number of classes of the labels.
        build: returns a fresh, built model (only model-layer code).
        optimizer: returns the optimizer, every argument explicit.
        loss: the loss name; its label format (one-hot or integer) follows from it.
        batch_size: default batch size.
        default: the default profile (the published setting).
        quick: a short profile for smoke runs and CI.
        params: the published parameter count.
        reference: the published accuracy band for the default profile, if there is one.
        options: recorded settings beyond the above (e.g. data augmentation).
        data: a loader for a dataset that `benchbench.datasets` does not provide, called as
            ``data(quick=, synthetic=, seed=)`` and returning a ``datasets.Prepared``; None (the
            usual case) loads `dataset` with ``benchbench.datasets.prepare``.
        vocabulary: for a model fed token ids (an Embedding first): how many ids there are.
            The inputs are then int32 ids in ``[0, vocabulary)``, and synthetic data draws them
            from that range; None: float32 inputs.
    """

    name: str
    description: str
    dataset: str
    input_shape: tuple[int, ...]
    num_classes: int
    build: Callable[[], Any]
    optimizer: Callable[[], Any]
    loss: str
    batch_size: int
    default: Profile
    quick: Profile
    params: int
    reference: AccuracyBand | None = None
    options: dict = dataclasses.field(default_factory=dict)
    data: Callable[..., Any] | None = None
    vocabulary: int | None = None

    def summary(self) -> dict:
        """The workload's settings as plain data, for results files and listings."""
        return {
            "name": self.name,
            "description": self.description,
            "dataset": self.dataset,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "loss": self.loss,
            "optimizer": self.optimizer().config(),
            "batch_size": self.batch_size,
            "default": dataclasses.asdict(self.default),
            "quick": dataclasses.asdict(self.quick),
            "params": self.params,
            "reference": dataclasses.asdict(self.reference) if self.reference else None,
            "options": dict(self.options),
            **({"vocabulary": self.vocabulary} if self.vocabulary else {}),
        }


#: Overrides `discover`'s default package: ``pkg[,pkg...]`` (later packages win on a name clash).
PACKAGE_ENV_VAR = "BENCHBENCH_WORKLOADS_PACKAGE"


def discover(package: str | None = None) -> dict[str, Workload]:
    """Imports every module of the workloads package and returns their ``WORKLOAD``s by name.

    Args:
        package: the package to search; default ``$BENCHBENCH_WORKLOADS_PACKAGE`` (a
            comma-separated list of packages), else ``workloads``.
    """
    packages = (package or os.environ.get(PACKAGE_ENV_VAR) or "workloads").split(",")
    found: dict[str, Workload] = {}
    for name in filter(None, (p.strip() for p in packages)):
        pkg = importlib.import_module(name)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{name}.{info.name}")
            workload = getattr(module, "WORKLOAD", None)
            if isinstance(workload, Workload):
                found[workload.name] = workload
    return found


def get(name: str) -> Workload:
    """Returns a workload by name; raises `UnknownNameError` listing the available ones."""
    available = discover()
    if name not in available:
        raise UnknownNameError("workload", name, available)
    return available[name]
