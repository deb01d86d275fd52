"""Workloads: what a benchmark cell trains. One file per workload in the ``workloads`` package.

A workload file defines ``WORKLOAD = Workload(...)``; adding a file adds a workload, found by
`discover`. Builders use only the model layer, so a workload runs unchanged on every backend.

A user's own file runs by path (``run --workload path/to/my_model.py``, `load_file`): either a
file like the package's, defining ``WORKLOAD = Workload(...)``, or a Keras-2-style module::

    def build():                      # required: a model with its input shape (not compiled)
        return Sequential([...])
    OPTIMIZER = RMSprop(...)          # required: an optimizer instance or name
    LOSS = "categorical_crossentropy" # required: a loss name
    DATASET = "mnist"                 # required, unless the module defines data() (below)
    BATCH_SIZE = 128                  # optional (32)
    EPOCHS = 20                       # optional: the default profile's epochs (10)
    QUICK_EPOCHS = 1                  # optional: --quick's epochs (1)
    NAME = "my_model"                 # optional: the file's stem
    QUALITY = "val_accuracy"          # optional: or "train_loss" (see Workload.quality)
    def data(quick, synthetic, seed): # optional: returns benchbench.datasets.Prepared

The input shape, the number of classes and the parameter count come from the built model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import os
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchbench.errors import BenchbenchError, UnknownNameError
from benchbench.measures import DEFAULT_QUALITY, METRICS, QUALITY_METRICS


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
class Band:
    """The published range of a workload's quality measure at its default profile (a test
    accuracy, or a training loss for a workload judged on its loss), with where it comes from."""

    low: float
    high: float
    source: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


#: The name the band had when every workload was judged on accuracy.
AccuracyBand = Band


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
        reference: the published band of the quality measure for the default profile, if
            there is one.
        options: recorded settings beyond the above (e.g. data augmentation).
        data: a loader for a dataset that `benchbench.datasets` does not provide, called as
            ``data(quick=, synthetic=, seed=)`` and returning a ``datasets.Prepared``; None (the
            usual case) loads `dataset` with ``benchbench.datasets.prepare``.
        vocabulary: for a model fed token ids (an Embedding first): how many ids there are.
            The inputs are then int32 ids in ``[0, vocabulary)``, and synthetic data draws them
            from that range; None: float32 inputs.
        quality: the measure the workload is judged on and its band applies to, one of
            `benchbench.measures.QUALITY_METRICS`: 'val_accuracy' (the default; higher is
            better) or 'train_loss' (the last epoch's training loss, lower is better: for a
            workload with no test set, such as Keras's text generation).
        label_shape: the shape of one sample's integer labels: () for one class per sample,
            ``(steps,)`` for a model that predicts a class at every output step (a
            ``TimeDistributed`` softmax). One-hot encoding adds the class axis.
        dataset_options: keyword arguments for the dataset's loader (e.g. IMDB's ``num_words``
            and ``maxlen``), recorded with the settings.
        in_default_run: whether ``run`` without ``--workload`` runs it. False for a workload
            that needs no download but whose default setting takes much longer than the default
            run's ten minutes on two cores (``--workload all`` or its name runs it).
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
    reference: Band | None = None
    options: dict = dataclasses.field(default_factory=dict)
    data: Callable[..., Any] | None = None
    vocabulary: int | None = None
    quality: str = DEFAULT_QUALITY
    label_shape: tuple[int, ...] = ()
    dataset_options: dict = dataclasses.field(default_factory=dict)
    in_default_run: bool = True

    def __post_init__(self):
        if self.quality not in QUALITY_METRICS:
            raise ValueError(
                f"workload {self.name!r}: quality must be one of {', '.join(QUALITY_METRICS)}, "
                f"got {self.quality!r}"
            )

    @property
    def lower_is_better(self) -> bool:
        """Whether a lower value of its quality measure is better (a loss)."""
        return not METRICS[self.quality].higher_is_better

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
            "quality": self.quality,
            **({"vocabulary": self.vocabulary} if self.vocabulary else {}),
            **({"label_shape": list(self.label_shape)} if self.label_shape else {}),
            **({"dataset_options": dict(self.dataset_options)} if self.dataset_options else {}),
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


# -- a user's own workload file -----------------------------------------------------------------


class WorkloadFileError(BenchbenchError):
    """A workload file that cannot be loaded; the message names the file and the problem."""


def is_file(text: str) -> bool:
    """Whether ``--workload`` names a file (ends in .py or has a directory) rather than a name."""
    return text.endswith(".py") or os.sep in text or "/" in text


def load_file(path: str | os.PathLike) -> Workload:
    """The workload a file defines (see the module's docstring for the two forms).

    Raises:
        WorkloadFileError: the file is missing, fails to import, or defines neither form.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkloadFileError(f"workload file {path}: no such file")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"benchbench_user_workload_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise WorkloadFileError(f"workload file {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any error is reported with the file
        del sys.modules[module_name]
        where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) else ""
        raise WorkloadFileError(
            f"workload file {path}: importing it failed{where}: {type(exc).__name__}: {exc}"
        ) from None
    found = getattr(module, "WORKLOAD", None)
    if found is not None:
        if not isinstance(found, Workload):
            raise WorkloadFileError(
                f"workload file {path}: WORKLOAD is a {type(found).__name__}, expected a "
                "benchbench.workloads.Workload"
            )
        return found
    return _from_keras_style(path, module)


def _from_keras_style(path: Path, module) -> Workload:
    from benchbench import optimizers

    missing = [n for n in ("build", "OPTIMIZER", "LOSS") if not hasattr(module, n)]
    if not hasattr(module, "DATASET") and not hasattr(module, "data"):
        missing.append("DATASET (or a data() function)")
    if missing:
        raise WorkloadFileError(
            f"workload file {path}: defines neither WORKLOAD = Workload(...) nor the Keras-2 "
            f"form; missing {', '.join(missing)} (see benchbench.workloads)"
        )
    try:
        model = module.build()
        model.count_params()  # a model without an input shape cannot be timed
        optimizer = optimizers.get(module.OPTIMIZER)
    except Exception as exc:  # the user's code again
        raise WorkloadFileError(
            f"workload file {path}: build() or OPTIMIZER failed: {type(exc).__name__}: {exc}"
        ) from None
    epochs = int(getattr(module, "EPOCHS", 10))
    doc = (module.__doc__ or "").strip().splitlines()
    binary = module.LOSS == "binary_crossentropy"  # one sigmoid output, labels 0 and 1
    try:
        return Workload(
            name=str(getattr(module, "NAME", path.stem)),
            description=doc[0] if doc else f"user workload from {path.name}",
            dataset=str(getattr(module, "DATASET", "custom")),
            input_shape=tuple(model.input.shape),
            num_classes=2 if binary else int(model.output.shape[-1]),
            build=module.build,
            optimizer=lambda: optimizer,
            loss=module.LOSS,
            batch_size=int(getattr(module, "BATCH_SIZE", 32)),
            default=Profile(epochs=epochs),
            quick=Profile(epochs=int(getattr(module, "QUICK_EPOCHS", 1))),
            params=model.count_params(),
            options={"file": str(path)},
            data=getattr(module, "data", None),
            quality=str(getattr(module, "QUALITY", DEFAULT_QUALITY)),
            label_shape=() if binary else tuple(model.output.shape[:-1]),
        )
    except ValueError as exc:  # e.g. an unknown QUALITY
        raise WorkloadFileError(f"workload file {path}: {exc}") from None


def name_of_file(path: str | os.PathLike) -> str:
    """The name a workload file's cells run under: its workload's name, or the file's stem when
    it cannot be loaded (its cells then fail with the reason, and the others run)."""
    try:
        return load_file(path).name
    except WorkloadFileError:
        return Path(path).stem
