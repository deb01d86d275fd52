"""Result records: the only interface between running benchmarks and reporting on them.

Layout on disk::

    results/<machine>/<run-id>/manifest.json      the run: plan, arguments, environment
    results/<machine>/<run-id>/<cell-id>.json     one file per cell (backend x workload x device
                                                  x repeat), written atomically

Every file carries ``schema_version``. Readers skip files that are corrupt or of a newer schema
with a warning, so one bad file never hides the rest. Nothing here imports a framework.

Schema versions: 1, the first; 2 adds each cell's ``interference`` (see
`benchbench.interference`), ``timing.epoch_time_cv``, the spec's ``quiet_wait``, and per-repeat
seeds (``spec.seed`` is the repeat's own seed of data order and dropout). Version 1 files are read
as cells whose interference was not measured. Cluster runs (``run --cluster``) add
``machine_lost`` to version 2 files: a cell that failed because its machine left the cluster
while it ran (older readers ignore the field; ``--resume`` runs such a cell again).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchbench.interference import Interference, is_unstable

# Re-exported: the measures were defined here before `benchbench.measures` existed.
from benchbench.measures import (  # noqa: F401
    DEFAULT_QUALITY,
    METRICS,
    QUALITY_METRICS,
    Metric,
    median,
    percentile,
)

SCHEMA_VERSION = 2
#: Versions this benchbench reads (older ones lack the fields added since; see above).
READABLE_VERSIONS = (1, 2)

#: Cell outcomes. Only 'ok' cells carry timings; the others carry a reason.
STATUSES = ("ok", "failed", "timeout", "skipped", "unavailable", "interrupted")


class ResultsWarning(UserWarning):
    """A results file that was skipped (corrupt, unknown schema, not a result)."""


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """What one worker process runs. Goes to the worker as JSON."""

    backend: str
    workload: str
    device: str = "cpu"
    repeat: int = 0
    epochs: int | None = None
    batch_size: int | None = None
    quick: bool = False
    synthetic: bool = False
    threads: int | None = None
    seed: int = 0
    timeout: float | None = None
    verbose: bool = False
    workload_file: str | None = None  # a user's workload file, run by path
    quiet_wait: float | None = None

    @property
    def cell_id(self) -> str:
        """A file-name-safe id, unique within a run."""
        raw = f"{self.workload}--{self.backend}--{self.device}--r{self.repeat}"
        return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)

    @property
    def key(self) -> tuple[str, str, str]:
        """(workload, backend, device): what repeats share."""
        return (self.workload, self.backend, self.device)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CellSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True)
class EpochRecord:
    """One epoch. Times in seconds; ``train_time`` excludes validation."""

    epoch: int
    train_time: float
    val_time: float | None = None
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    steps: int = 0
    step_time_sum: float = 0.0

    @classmethod
    def from_dict(cls, data: dict) -> EpochRecord:
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class Timing:
    """Timing summary of a cell.

    Attributes:
        first_epoch_time: the first epoch's training time (includes graph building and
            compilation on backends that compile).
        steady_epoch_times: training time of every later epoch.
        epoch_time: median of ``steady_epoch_times`` (the first epoch if there is no other).
        step_time_median: median per-step time over the steady-state epochs.
        step_time_p90: 90th percentile of the same.
        throughput: training samples per second in the steady state.
        setup_time: data loading, model build and compile() before the first epoch.
        samples_per_epoch: training samples per epoch.
        epoch_time_cv: standard deviation / mean of ``steady_epoch_times`` (None with fewer
            than 3 of them, and in files of schema 1).
    """

    first_epoch_time: float
    steady_epoch_times: list[float]
    epoch_time: float
    step_time_median: float
    step_time_p90: float
    throughput: float
    setup_time: float
    samples_per_epoch: int
    epoch_time_cv: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Timing:
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class Memory:
    """Peaks of the worker process: host from ``ru_maxrss``/``VmHWM``; GPU where exposed."""

    peak_host_bytes: int
    peak_gpu_bytes: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Memory:
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class CellResult:
    """Everything recorded about one cell. Written as ``<cell-id>.json``."""

    spec: CellSpec
    status: str
    machine: str
    run_id: str
    reason: str = ""
    exit_code: int | None = None
    stderr_tail: str = ""
    epochs: list[EpochRecord] = dataclasses.field(default_factory=list)
    timing: Timing | None = None
    memory: Memory | None = None
    accuracy_meaningful: bool = True
    backend_info: dict = dataclasses.field(default_factory=dict)
    workload_info: dict = dataclasses.field(default_factory=dict)
    environment: dict = dataclasses.field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    wall_time: float | None = None
    interference: Interference | None = None
    machine_lost: bool = False
    schema_version: int = SCHEMA_VERSION

    @property
    def noisy(self) -> bool:
        """Other processes (or the hypervisor) took a share of the cell's CPUs past the
        threshold while it trained (`benchbench.interference`); False where not measured."""
        return bool(self.interference and self.interference.noisy)

    @property
    def unstable(self) -> bool:
        """Its steady epoch times vary by more than `interference.UNSTABLE_CV` of their mean."""
        return bool(self.timing and is_unstable(self.timing.steady_epoch_times))

    @property
    def degraded(self) -> str:
        """Why the backend ran handicapped here ('' if it did not), as its adapter reported it
        (``backend_info['degraded']``), e.g. PyTensor with no BLAS linked."""
        return str((self.backend_info or {}).get("degraded") or "")

    @property
    def final_val_accuracy(self) -> float | None:
        if not self.epochs or not self.accuracy_meaningful:
            return None
        last = self.epochs[-1]
        return last.val_accuracy if last.val_accuracy is not None else last.accuracy

    @property
    def final_train_loss(self) -> float | None:
        """The training loss of the last epoch (the mean over its batches, as Keras logs it)."""
        if not self.epochs or not self.accuracy_meaningful:
            return None
        return self.epochs[-1].loss

    @property
    def quality_metric(self) -> str:
        """The measure its workload is judged on (`QUALITY_METRICS`); results written before
        workloads named one are judged on validation accuracy."""
        name = (self.workload_info or {}).get("quality") or DEFAULT_QUALITY
        return name if name in QUALITY_METRICS else DEFAULT_QUALITY

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CellResult:
        data = dict(data)
        check_version(data)
        data["spec"] = CellSpec.from_dict(data["spec"])
        data["epochs"] = [EpochRecord.from_dict(e) for e in data.get("epochs", [])]
        if data.get("timing") is not None:
            data["timing"] = Timing.from_dict(data["timing"])
        if data.get("memory") is not None:
            data["memory"] = Memory.from_dict(data["memory"])
        if data.get("interference") is not None:
            data["interference"] = Interference.from_dict(data["interference"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True)
class RunManifest:
    """A run as a whole: what was planned, how it was invoked, and how far it got.

    Written as ``manifest.json`` next to the cell files when the run starts, after every cell,
    and at the end; `--resume` reads it back to run the cells that have no result yet.

    Attributes:
        run_id: the run directory's name.
        machine: the machine label (``--machine``, default the host name).
        argv: the command line of the first invocation.
        plan: every planned cell, as `CellSpec.to_dict` dicts, in run order.
        environment: host facts (see `benchbench.environment`) of the first invocation.
        cells: cell id -> status ('pending', 'running', 'dropped' (a repeat the time budget
            left out; `--resume` runs it), or one of `STATUSES`).
        started_at: ISO time the run started; ``finished_at``: when it last stopped.
        interrupted: the last invocation was stopped by Ctrl-C before finishing its plan.
        resumed_at: ISO times of every ``--resume`` invocation.
        options: run-wide settings (profile, threads, timeout, pythons) as plain data.
    """

    run_id: str
    machine: str
    argv: list[str]
    plan: list[dict]
    environment: dict = dataclasses.field(default_factory=dict)
    cells: dict[str, str] = dataclasses.field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    interrupted: bool = False
    resumed_at: list[str] = dataclasses.field(default_factory=list)
    options: dict = dataclasses.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def specs(self) -> list[CellSpec]:
        return [CellSpec.from_dict(d) for d in self.plan]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunManifest:
        check_version(data)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def check_version(data: dict) -> None:
    """Raises ValueError for a file whose schema this benchbench cannot read."""
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise ValueError(
            f"schema_version {version!r}, this benchbench reads {readable} "
            "(a newer file needs a newer benchbench)"
        )


MANIFEST = "manifest.json"


def write_manifest(run_dir: Path, manifest: RunManifest) -> Path:
    path = Path(run_dir) / MANIFEST
    write_json_atomic(path, manifest.to_dict())
    return path


def read_manifest(run_dir: Path) -> RunManifest:
    """Reads ``<run_dir>/manifest.json``; raises OSError or ValueError if missing or unreadable."""
    with open(Path(run_dir) / MANIFEST) as f:
        return RunManifest.from_dict(json.load(f))


def finished_cells(run_dir: Path) -> dict[str, CellResult]:
    """Cell id -> result for every readable cell file of a run whose status is final.

    'interrupted' cells, cells whose machine was lost while they ran (``machine_lost``: the
    cell itself did not fail) and unreadable files do not count: `--resume` runs those again.
    """
    done = {}
    for path in sorted(Path(run_dir).glob("*.json")):
        if path.name == MANIFEST or path.name.startswith("."):
            continue
        try:
            result = read_result(path)
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if result.status != "interrupted" and not result.machine_lost:
            done[result.spec.cell_id] = result
    return done


# -- files ---------------------------------------------------------------------------------------


def write_json_atomic(path: Path, data: Any) -> None:
    """Writes JSON so that a reader sees the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(run_dir: Path, result: CellResult) -> Path:
    path = Path(run_dir) / f"{result.spec.cell_id}.json"
    write_json_atomic(path, result.to_dict())
    return path


def read_result(path: Path) -> CellResult:
    with open(path) as f:
        return CellResult.from_dict(json.load(f))


def iter_result_files(paths: Iterable[Path]) -> Iterable[Path]:
    """Every cell file under the given files or directories (manifests excluded)."""
    for path in map(Path, paths):
        if path.is_file():
            yield path
        elif path.is_dir():
            for p in sorted(path.rglob("*.json")):
                if p.name != MANIFEST and not p.name.startswith("."):
                    yield p
        else:
            raise FileNotFoundError(f"no results at {path}")


def load_results(paths: Iterable[Path]) -> list[CellResult]:
    """Reads every result under `paths`, skipping unreadable files with a `ResultsWarning`."""
    results = []
    for path in iter_result_files(paths):
        try:
            results.append(read_result(path))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            warnings.warn(f"skipping {path}: {exc}", ResultsWarning, stacklevel=2)
    return results
