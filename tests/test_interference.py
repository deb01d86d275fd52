"""The interference sampler: its arithmetic on fake counters, the noisy and unstable rules, the
quiet wait, and the real counters with a CPU burner (who is counted as 'others' and who not).

No test here depends on how fast anything runs: the burner tests only ask whose CPU time a
busy process is counted as.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import pytest

from benchbench import interference
from benchbench.interference import Interference, InterferenceSampler, QuietWait, Snapshot

TICK = interference._tick()


def snap(t, busy, own=0.0, steal=0.0, queue=1):
    return Snapshot(time=t, busy=busy, own=own, steal=steal, run_queue=queue)


def test_others_are_the_cpus_busy_time_less_the_cells_own():
    samples = [snap(0, 0), snap(5, 6.0, own=4.0, steal=0.1, queue=3), snap(10, 12, 8, 0.2, 5)]
    found = interference.summarise(samples, cpus=(0, 1))
    # 20 CPU-seconds of capacity: the cell used 8, others 12 - 8 = 4
    assert found.window == 10 and found.cpus == (0, 1)
    assert found.others_cpu == pytest.approx(0.2) and found.own_cpu == pytest.approx(0.4)
    assert found.steal == pytest.approx(0.01)
    assert (found.run_queue, found.run_queue_max) == (3, 5)
    assert found.resolution == pytest.approx(3 * TICK / 20)
    assert found.noisy  # 20% > 10%
    assert "others used 20% of its 2 CPUs over 10 s" in found.describe()


def test_a_busy_stretch_shows_in_the_peak():
    samples = [snap(0, 0), snap(1, 0.05), snap(2, 0.95), snap(3, 1.0)]
    found = interference.summarise(samples, cpus=(0,))
    assert found.others_cpu == pytest.approx(1 / 3, abs=1e-3)
    assert found.others_cpu_peak == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("others", "resolution", "steal", "noisy"),
    [
        (0.05, 0.0, 0.0, False),
        (0.15, 0.0, 0.0, True),
        (0.15, 0.1, 0.0, False),  # within the resolution of a short window: no evidence
        (0.0, 0.0, 0.08, True),  # the hypervisor took the CPU
        (0.0, 0.0, None, False),  # no steal reported (not Linux)
    ],
)
def test_the_noisy_rule(others, resolution, steal, noisy):
    assert interference.is_noisy(others, resolution, steal) is noisy


def test_a_window_without_length_measures_nothing():
    assert interference.summarise([snap(1, 0)], (0,)) is None
    assert interference.summarise([snap(1, 0), snap(1, 1)], (0,)) is None


def test_unstable_epochs():
    assert interference.epoch_time_cv([1.0, 1.0]) is None  # too few to say
    assert not interference.is_unstable([1.0, 1.02, 0.98, 1.01])
    assert interference.is_unstable([1.0, 1.4, 0.7, 1.0])
    assert interference.epoch_time_cv([1.0, 2.0, 3.0]) == pytest.approx(0.5)


def test_records_round_trip():
    wait = QuietWait(limit=30, waited=30.5, gave_up=True, others_cpu=0.8)
    found = Interference(0.5, (0,), 0.3, 0.4, 0.6, 0.04, 0.0, 2, 3, (1.5, 1.0, 0.5), 4, True, wait)
    again = Interference.from_dict(json.loads(json.dumps(dataclasses.asdict(found))))
    assert again == found
    assert wait.describe() == (
        "gave up waiting for a quiet machine after 30 s (others used 80%): ran anyway"
    )


class FakeCounters:
    """Snapshots from a script of (busy per second) values; `sleep` advances its clock."""

    def __init__(self, busy_per_second):
        self.rates = list(busy_per_second)
        self.t, self.busy = 0.0, 0.0

    def take(self):
        return snap(self.t, self.busy)

    def sleep(self, seconds):
        rate = self.rates.pop(0) if self.rates else 0.0
        self.t += seconds
        self.busy += rate * seconds


def test_quiet_wait_returns_once_the_cpus_are_quiet():
    counters = FakeCounters([0.9, 0.8, 0.05])
    seen = []
    wait = interference.wait_for_quiet(
        (0,),
        limit=60,
        on_sample=lambda o, w: seen.append(round(o, 2)),
        take=counters.take,
        sleep=counters.sleep,
    )
    assert seen == [0.9, 0.8, 0.05]
    assert wait == QuietWait(60, 3.0, False, 0.05)


def test_quiet_wait_gives_up_at_its_limit_and_says_so():
    counters = FakeCounters([1.0] * 100)
    wait = interference.wait_for_quiet((0,), limit=5, take=counters.take, sleep=counters.sleep)
    assert wait.gave_up and wait.waited == 5.0 and wait.others_cpu == 1.0
    assert "gave up waiting for a quiet machine after 5 s" in wait.describe()


def test_the_sampler_snapshots_outside_the_timed_epochs():
    clock = [0.0]
    taken = []

    def take():
        taken.append(clock[0])
        return snap(clock[0], busy=clock[0] * 0.5)

    sampler = InterferenceSampler(cpus=(0,), clock=lambda: clock[0], take=take)
    sampler.on_train_begin({})
    for epoch in range(6):
        clock[0] += 0.2
        sampler.on_epoch_end(epoch, {})
    sampler.on_train_end({})
    # at train begin, at epoch ends at most every PEAK_WINDOW (0.5) seconds, at train end
    assert taken == pytest.approx([0.0, 0.6, 1.2, 1.2])
    assert sampler.result().others_cpu == pytest.approx(0.5)


# -- the real counters ---------------------------------------------------------------------------

linux_only = pytest.mark.skipif(
    not (interference.PROC_STAT.exists() and hasattr(os, "sched_setaffinity")),
    reason="reads /proc/stat and pins processes to a CPU (Linux)",
)

BURNER = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True:\n    pass\n"


def burner(cpu: int) -> subprocess.Popen:
    """A plain Python loop that keeps CPU `cpu` busy until killed."""
    return subprocess.Popen([sys.executable, "-c", BURNER, str(cpu)])


def sample_while(cpu: int, pid: int, seconds: float = 1.0) -> Interference:
    sampler = InterferenceSampler(cpus=(cpu,), pid=pid)
    sampler.on_train_begin({})
    time.sleep(seconds)
    sampler.on_train_end({})
    return sampler.result()


@linux_only
def test_a_burner_on_the_cells_cpu_is_counted_as_others_and_makes_it_noisy():
    cpu = os.sched_getaffinity(0).copy().pop()
    cell = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc = burner(cpu)  # not in the cell's process tree
    try:
        time.sleep(0.3)  # let it start spinning
        found = sample_while(cpu, cell.pid)
    finally:
        for p in (proc, cell):
            p.kill()
            p.wait()
    # it shares the CPU with whatever else runs there, but gets a good part of it
    assert found.others_cpu > 0.3 and found.noisy
    assert found.own_cpu < 0.1  # the cell slept


@linux_only
def test_the_cells_own_children_are_not_others():
    cpu = os.sched_getaffinity(0).copy().pop()
    proc = burner(cpu)  # a child of this process: part of its process tree
    try:
        time.sleep(0.3)
        found = sample_while(cpu, os.getpid())
    finally:
        proc.kill()
        proc.wait()
    assert found.own_cpu > 0.3
