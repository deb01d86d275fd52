"""Interference: what the rest of the machine did while a cell trained, and whether to trust it.

The worker samples it for every backend alike, at the fit loop's boundaries (train begin, epoch
ends, train end: never inside a timed epoch), over the CPUs the cell was given:

- ``others_cpu``: CPU time used on those CPUs by processes *outside the cell's process tree*, as
  a fraction of those CPUs' time over the window (0: nothing else ran there; 1: other processes
  used all of it). ``others_cpu_peak`` is the same over the busiest sub-window of at least
  `PEAK_WINDOW` seconds.
- ``own_cpu``: the same for the cell's own process tree (for context).
- ``steal``: time the hypervisor gave those CPUs to other guests (``steal`` in ``/proc/stat``),
  as a fraction; None where the OS does not report it.
- ``run_queue``: runnable tasks on the whole machine, the cell's own included (``procs_running``
  in ``/proc/stat``), median and maximum over the samples; None where not reported.
- ``load_avg``: the 1-, 5- and 15-minute load averages at the end of the window.
- ``resolution``: how precise ``others_cpu`` is: the kernel counts CPU time in ticks
  (``SC_CLK_TCK``, usually 10 ms), so a short window reads coarsely.

A cell is **noisy** when other processes used more than `NOISY_OTHERS_CPU` (10%) of its CPUs,
or the hypervisor stole more than `NOISY_STEAL` (5%) of them, by more than the measurement's
resolution. A cell is **unstable** when the coefficient of variation (standard deviation /
mean) of its steady-state epoch times is above `UNSTABLE_CV` (10%, the level at which pyperf
warns that a result "may be unstable"), with at least `UNSTABLE_MIN_EPOCHS` steady epochs.

`wait_for_quiet` waits, before a cell's timed epochs, until other processes leave its CPUs
(``run --quiet-wait SECONDS``), up to a limit, and says whether it gave up.

Linux reads ``/proc``; elsewhere psutil gives the CPU times (no run queue, no steal). Nothing
here imports a framework, and psutil is imported only when sampling.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchbench.callbacks import Callback
from benchbench.environment import allowed_cpus

#: Other processes' share of the cell's CPUs above which a cell is noisy.
NOISY_OTHERS_CPU = 0.10
#: Stolen share of the cell's CPUs above which a cell is noisy.
NOISY_STEAL = 0.05
#: Coefficient of variation of the steady epoch times above which a cell is unstable.
UNSTABLE_CV = 0.10
UNSTABLE_MIN_EPOCHS = 3
#: Shortest sub-window (seconds) for ``others_cpu_peak``; samples are at least this far apart.
PEAK_WINDOW = 0.5

PROC_STAT = Path("/proc/stat")


@dataclasses.dataclass(frozen=True)
class QuietWait:
    """What ``--quiet-wait`` did before a cell: seconds waited, and whether it gave up."""

    limit: float
    waited: float
    gave_up: bool
    others_cpu: float | None = None

    @classmethod
    def from_dict(cls, data: dict) -> QuietWait:
        return cls(**data)

    def describe(self) -> str:
        if not self.gave_up:
            return f"waited {self.waited:.0f} s for a quiet machine"
        busy = f" (others used {percent(self.others_cpu)})" if self.others_cpu is not None else ""
        return f"gave up waiting for a quiet machine after {self.limit:g} s{busy}: ran anyway"


@dataclasses.dataclass(frozen=True)
class Interference:
    """What other processes did on a cell's CPUs while it trained; see the module docstring.

    Fractions are of the cell's CPUs' time over the window (0-1).
    """

    window: float
    cpus: tuple[int, ...]
    others_cpu: float
    others_cpu_peak: float
    own_cpu: float
    resolution: float
    steal: float | None = None
    run_queue: float | None = None
    run_queue_max: int | None = None
    load_avg: tuple[float, ...] = ()
    samples: int = 0
    noisy: bool = False
    quiet_wait: QuietWait | None = None

    @classmethod
    def from_dict(cls, data: dict) -> Interference:
        data = dict(data)
        data["cpus"] = tuple(data.get("cpus", ()))
        data["load_avg"] = tuple(data.get("load_avg", ()))
        if data.get("quiet_wait") is not None:
            data["quiet_wait"] = QuietWait.from_dict(data["quiet_wait"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def describe(self) -> str:
        """One line of the figures, e.g. 'others used 48% of 1 CPU (peak 90%), run queue 3...'."""
        cpus = f"{len(self.cpus)} CPU{'s' * (len(self.cpus) != 1)}"
        parts = [
            f"others used {percent(self.others_cpu)} of its {cpus} over {self.window:.3g} s "
            f"(peak {percent(self.others_cpu_peak)})"
        ]
        if self.steal is not None:
            parts.append(f"steal {percent(self.steal)}")
        if self.run_queue is not None:
            parts.append(f"run queue {self.run_queue:g} (max {self.run_queue_max})")
        if self.load_avg:
            parts.append(f"load {self.load_avg[0]:.2f}")
        return ", ".join(parts)


def percent(fraction: float | None) -> str:
    return "?" if fraction is None else f"{100 * fraction:.0f}%"


def is_noisy(others_cpu: float, resolution: float, steal: float | None) -> bool:
    """The noisy rule: others' share, or steal, past its threshold by more than the
    measurement's resolution (a few ticks over a short window prove nothing)."""
    excess_steal = (steal or 0.0) - resolution
    return others_cpu - resolution > NOISY_OTHERS_CPU or excess_steal > NOISY_STEAL


def epoch_time_cv(steady_epoch_times: Sequence[float]) -> float | None:
    """Standard deviation / mean of the steady epochs; None with fewer than
    `UNSTABLE_MIN_EPOCHS` of them."""
    times = list(steady_epoch_times)
    if len(times) < UNSTABLE_MIN_EPOCHS or statistics.fmean(times) <= 0:
        return None
    return statistics.stdev(times) / statistics.fmean(times)


def is_unstable(steady_epoch_times: Sequence[float]) -> bool:
    cv = epoch_time_cv(steady_epoch_times)
    return cv is not None and cv > UNSTABLE_CV


# -- sampling ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Cumulative counters at one instant. CPU times in seconds."""

    time: float
    busy: float
    own: float
    steal: float | None
    run_queue: int | None


def _tick() -> float:
    try:
        return 1.0 / os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 0.01


def _proc_stat(cpus: Sequence[int]) -> tuple[float, float, int | None] | None:
    """(busy seconds, steal seconds, procs_running) of `cpus` from /proc/stat, or None."""
    try:
        text = PROC_STAT.read_text()
    except OSError:
        return None
    wanted = {f"cpu{c}" for c in cpus}
    busy = steal = 0.0
    running = None
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] in wanted:
            # user nice system idle iowait irq softirq steal (guest is already in user)
            ticks = [int(v) for v in fields[1:9]] + [0] * 8
            busy += ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
            steal += ticks[7]
        elif fields[0] == "procs_running":
            running = int(fields[1])
    tick = _tick()
    return busy * tick, steal * tick, running


def _psutil_busy(cpus: Sequence[int]) -> float:
    import psutil

    per_cpu = psutil.cpu_times(percpu=True)
    total = 0.0
    for index in cpus:
        if index < len(per_cpu):
            t = per_cpu[index]
            total += t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0)
            total += getattr(t, "softirq", 0.0)
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by process `pid` and its descendants (reaped ones included)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:  # a child that just ended: its time moves to its parent's
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def snapshot(cpus: Sequence[int], pid: int, clock: Callable[[], float] = time.monotonic):
    """The counters of `cpus` and of the process tree of `pid`, now."""
    stat = _proc_stat(cpus)
    if stat is None:
        busy, steal, running = _psutil_busy(cpus), None, None
    else:
        busy, steal, running = stat
    return Snapshot(clock(), busy, tree_cpu_seconds(pid), steal, running)


def summarise(samples: Sequence[Snapshot], cpus: Sequence[int]) -> Interference | None:
    """The figures of a window from its snapshots (first to last); None if it has no length."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    window = last.time - first.time
    if window <= 0:
        return None
    capacity = window * max(len(cpus), 1)
    others = _others(first, last) / capacity
    resolution = (len(cpus) + 1) * _tick() / capacity
    steal = None
    if first.steal is not None and last.steal is not None:
        steal = max(last.steal - first.steal, 0.0) / capacity
    queue = [s.run_queue for s in samples if s.run_queue is not None]
    return Interference(
        window=round(window, 4),
        cpus=tuple(cpus),
        others_cpu=round(min(others, 1.0), 4),
        others_cpu_peak=round(min(max(others, _peak(samples, cpus)), 1.0), 4),
        own_cpu=round(max(last.own - first.own, 0.0) / capacity, 4),
        resolution=round(resolution, 4),
        steal=None if steal is None else round(steal, 4),
        run_queue=statistics.median(queue) if queue else None,
        run_queue_max=max(queue) if queue else None,
        load_avg=_load_avg(),
        samples=len(samples),
        noisy=is_noisy(others, resolution, steal),
    )


def _others(a: Snapshot, b: Snapshot) -> float:
    return max((b.busy - a.busy) - (b.own - a.own), 0.0)


def _peak(samples: Sequence[Snapshot], cpus: Sequence[int]) -> float:
    """Others' share over the busiest stretch of consecutive samples >= `PEAK_WINDOW` long."""
    peak, start = 0.0, 0
    for end in range(1, len(samples)):
        length = samples[end].time - samples[start].time
        if length >= PEAK_WINDOW:
            share = _others(samples[start], samples[end]) / (length * max(len(cpus), 1))
            peak = max(peak, share)
            start = end
    return peak


def _load_avg() -> tuple[float, ...]:
    try:
        return tuple(round(v, 2) for v in os.getloadavg())
    except (AttributeError, OSError):
        return ()


class InterferenceSampler(Callback):
    """Fit-loop callback: snapshots at train begin, at epoch ends (at most every
    `PEAK_WINDOW` seconds, the first and last always) and at train end.

    Place it after the timing callback: at an epoch's end the timer reads its clock first, so
    sampling never falls inside a timed epoch.

    Args:
        cpus: the CPUs the cell was given (default: the ones this process may use).
        pid: the root of the cell's process tree (default: this process).
        clock: the clock of the snapshots (tests pass a fake with `take`).
        take: the snapshot function (tests pass a fake).
    """

    def __init__(
        self,
        cpus: Sequence[int] | None = None,
        pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        take: Callable[[], Snapshot] | None = None,
    ):
        self.cpus = tuple(cpus if cpus is not None else allowed_cpus())
        self.pid = os.getpid() if pid is None else pid
        self.clock = clock
        self.take = take or (lambda: snapshot(self.cpus, self.pid, clock))
        self.samples: list[Snapshot] = []

    def on_train_begin(self, logs):
        self.samples = [self.take()]

    def on_epoch_end(self, epoch, logs):
        if not self.samples or self.samples[-1].time + PEAK_WINDOW <= self.clock():
            self.samples.append(self.take())

    def on_train_end(self, logs):
        self.samples.append(self.take())

    def result(self) -> Interference | None:
        return summarise(self.samples, self.cpus)


def wait_for_quiet(
    cpus: Sequence[int],
    limit: float,
    interval: float = 1.0,
    on_sample: Callable[[float, float], None] | None = None,
    take=None,
    sleep: Callable[[float], None] = time.sleep,
) -> QuietWait:
    """Waits until other processes use at most `NOISY_OTHERS_CPU` of `cpus` over `interval`
    seconds, or `limit` seconds have passed.

    Args:
        cpus: the CPUs the cell will run on.
        limit: the longest wait, in seconds.
        interval: the length of each measurement.
        on_sample: called with (others' share, seconds waited) after every measurement.
        take: the snapshot function (default: this process's tree is the one not counted).
        sleep: the sleep function (tests pass a fake).
    """
    pid = os.getpid()
    take = take or (lambda: snapshot(cpus, pid))
    start = previous = take()
    others = None
    while True:
        sleep(interval)
        now = take()
        window = now.time - previous.time
        others = _others(previous, now) / max(window * max(len(cpus), 1), 1e-9)
        waited = now.time - start.time
        if on_sample is not None:
            on_sample(others, waited)
        if others <= NOISY_OTHERS_CPU:
            return QuietWait(limit, round(waited, 2), False, round(others, 4))
        if waited >= limit:
            return QuietWait(limit, round(waited, 2), True, round(others, 4))
        previous = now
