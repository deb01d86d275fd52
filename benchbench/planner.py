"""Planning a run: which cells, in which order, with which seeds, and how many repeats fit.

Shared by every executor (the local runner, and any that starts cells elsewhere), so that two
runs of one plan measure the same cells the same way.

- A **cell** is backend x workload x device x repeat (`CellSpec`).
- **Order**: repeats are rounds. Round 0 visits every workload, device and backend, then round
  1 does it again, and so on; within a round each workload and device visits every backend, and
  the backend order rotates by one place per round (round 1 starts with the second backend). A
  drift over the run, or a neighbour's load, hits every backend alike instead of one of them.
- **Seeds**: repeat r runs with seed ``seed + r`` (``--seed``, default 0) for the order of the
  batches and for dropout, so repeats differ the way independent trainings do and the spread of
  their accuracies is real. The initial weights come from the workload's model seed and are the
  same in every repeat and on every backend.
- **Time budget** (`RepeatBudget`): with automatic repeats (``run`` without ``--repeats``), round
  0 always runs in full and each later round of a workload and device runs only if, estimated
  from the wall time of that workload's earlier rounds, it ends within the budget. Rounds that
  do not fit are dropped as a whole, so every backend of a column has the same repeats.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Iterable

from benchbench.errors import UnknownNameError
from benchbench.results import CellResult, CellSpec

DEVICES = ("cpu", "gpu")
#: Repeats of a run without --repeats, as many as the time budget allows.
AUTO_REPEATS = 3
#: Seconds within which a run without --repeats must end its extra repeats (round 0 always
#: runs). 8.5 minutes, chosen so that with the report and the estimate's error the default
#: `run --backend all` ends within 10 minutes on two cores (README says how to time it).
DEFAULT_BUDGET = 510.0


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What ``benchbench run`` was asked to do, with names already resolved.

    Attributes:
        budget: seconds within which rounds after the first must end (None: no limit).
        quiet_wait: seconds each cell may wait for other processes to leave its CPUs.
    """

    backends: tuple[str, ...]
    workloads: tuple[str, ...]
    devices: tuple[str, ...] = ("cpu",)
    repeats: int = 1
    epochs: int | None = None
    batch_size: int | None = None
    quick: bool = False
    synthetic: bool = False
    threads: int | None = None
    timeout: float | None = None
    seed: int = 0
    verbose: bool = False
    pythons: dict = dataclasses.field(default_factory=dict)
    budget: float | None = None
    quiet_wait: float | None = None
    workload_files: dict = dataclasses.field(default_factory=dict)  # name -> a user's file


def resolve(
    text: str, valid: list[str], kind: str, groups: dict[str, list[str]] | None = None
) -> tuple[str, ...]:
    """A comma-separated list of names -> the names; unknown ones raise.

    `groups` maps words to several names (e.g. 'all'; for backends also 'refs', the reference
    lanes), usable alongside plain names: ``--backend all,refs``.
    """
    groups = {"all": list(valid), **(groups or {})}
    names: list[str] = []
    for name in (n.strip() for n in text.split(",")):
        if name in groups:
            names.extend(groups[name])
        elif name in valid:
            names.append(name)
        else:
            raise UnknownNameError(kind, name, [*valid, *groups])
    if not names:
        raise UnknownNameError(kind, text, [*valid, *groups])
    return tuple(dict.fromkeys(names))


def rotated(items: tuple[str, ...], by: int) -> tuple[str, ...]:
    """`items` rotated left by `by` places: the order of backends in round `by`."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def plan(options: RunOptions) -> list[CellSpec]:
    """Every cell in run order: repeat (round) > workload > device > backend, the backend
    order rotated by one place per round; repeat r gets seed ``options.seed + r``."""
    return [
        CellSpec(
            backend=backend,
            workload=workload,
            device=device,
            repeat=repeat,
            epochs=options.epochs,
            batch_size=options.batch_size,
            quick=options.quick,
            synthetic=options.synthetic,
            threads=options.threads,
            seed=options.seed + repeat,
            timeout=options.timeout,
            verbose=options.verbose,
            quiet_wait=options.quiet_wait,
            workload_file=options.workload_files.get(workload),
        )
        for repeat in range(options.repeats)
        for workload in options.workloads
        for device in options.devices
        for backend in rotated(options.backends, repeat)
    ]


Round = tuple[str, str, int]  # (workload, device, repeat)


def round_of(spec: CellSpec) -> Round:
    return (spec.workload, spec.device, spec.repeat)


class RepeatBudget:
    """Decides, round by round, whether the repeats after the first still fit a time budget.

    Args:
        seconds: the budget, counted from the creation of this object (None: unlimited).
        plan: the cells of the run, in run order.
        clock: monotonic seconds (tests pass a fake).
    """

    def __init__(
        self,
        seconds: float | None,
        plan: Iterable[CellSpec],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.seconds, self.clock = seconds, clock
        self.start = clock()
        self.rounds: dict[Round, list[CellSpec]] = {}
        for spec in plan:
            self.rounds.setdefault(round_of(spec), []).append(spec)
        self.decided: dict[Round, bool] = {}
        self.dropped: list[CellSpec] = []

    def elapsed(self) -> float:
        return self.clock() - self.start

    def allows(self, spec: CellSpec, done: dict[str, CellResult]) -> bool:
        """Whether `spec` runs; the first cell of each round decides for the whole round."""
        if self.seconds is None or spec.repeat == 0:
            return True
        key = round_of(spec)
        if key not in self.decided:
            estimate = self.estimate(key, done)
            self.decided[key] = estimate is not None and self.elapsed() + estimate <= self.seconds
        if not self.decided[key]:
            self.dropped.append(spec)
        return self.decided[key]

    def estimate(self, key: Round, done: dict[str, CellResult]) -> float | None:
        """Seconds the round should take: per cell, the median wall time of its earlier
        repeats (0 for a cell that needed no worker); None if nothing is known yet."""
        workload, device, repeat = key
        total, known = 0.0, False
        for spec in self.rounds[key]:
            earlier = [
                r.wall_time
                for r in done.values()
                if r.spec.key == spec.key and r.spec.repeat < repeat
            ]
            if not earlier:
                continue
            known = True
            times = [t for t in earlier if t is not None]
            total += statistics.median(times) if times else 0.0
        return total if known else None

    def summary(self) -> list[str]:
        """One line per workload and device that lost repeats to the budget."""
        lost: dict[tuple[str, str], set[int]] = {}
        for spec in self.dropped:
            lost.setdefault((spec.workload, spec.device), set()).add(spec.repeat)
        planned: dict[tuple[str, str], int] = {}
        for workload, device, _ in self.rounds:
            planned[(workload, device)] = planned.get((workload, device), 0) + 1
        return [
            f"{workload} ({device}): {planned[(workload, device)] - len(repeats)} of "
            f"{planned[(workload, device)]} repeats; the time budget of {self.seconds:g} s "
            "left no room for the others"
            for (workload, device), repeats in sorted(lost.items())
        ]
