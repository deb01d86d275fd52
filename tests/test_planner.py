"""Planning: names, the order of cells (rounds, rotated backends), per-repeat seeds, and the time
budget of the repeats after the first. No worker runs here."""

from __future__ import annotations

import pytest

from benchbench import planner
from benchbench.errors import UnknownNameError
from benchbench.results import CellResult, CellSpec


def test_resolve_names():
    valid = ["a", "b", "c"]
    assert planner.resolve("all", valid, "backend") == ("a", "b", "c")
    assert planner.resolve("c, a,c", valid, "backend") == ("c", "a")
    with pytest.raises(UnknownNameError, match="unknown backend 'x'; expected one of: a, all, b"):
        planner.resolve("a,x", valid, "backend")


def test_repeats_are_rounds_with_the_backend_order_rotated():
    specs = planner.plan(
        planner.RunOptions(
            backends=("p", "q", "r"),
            workloads=("w", "v"),
            repeats=3,
            threads=2,
            epochs=1,
        )
    )
    order = [(s.repeat, s.workload, s.backend) for s in specs]
    assert order[:6] == [(0, "w", "p"), (0, "w", "q"), (0, "w", "r")] + [
        (0, "v", "p"),
        (0, "v", "q"),
        (0, "v", "r"),
    ]
    assert [b for rep, w, b in order if (rep, w) == (1, "w")] == ["q", "r", "p"]
    assert [b for rep, w, b in order if (rep, w) == (2, "v")] == ["r", "p", "q"]
    assert all(s.threads == 2 and s.epochs == 1 and not s.quick for s in specs)
    assert len({s.cell_id for s in specs}) == len(specs)


def test_every_repeat_has_its_own_seed():
    specs = planner.plan(
        planner.RunOptions(backends=("p", "q"), workloads=("w",), repeats=3, seed=10)
    )
    assert {(s.repeat, s.seed) for s in specs} == {(0, 10), (1, 11), (2, 12)}


def test_devices_are_planned_within_each_round():
    specs = planner.plan(
        planner.RunOptions(backends=("p",), workloads=("w",), repeats=2, devices=("cpu", "gpu"))
    )
    assert [(s.repeat, s.device) for s in specs] == [
        (0, "cpu"),
        (0, "gpu"),
        (1, "cpu"),
        (1, "gpu"),
    ]


# -- the time budget -----------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def ran(spec: CellSpec, wall: float | None) -> CellResult:
    status = "ok" if wall is not None else "unavailable"
    return CellResult(spec, status, machine="m", run_id="r", wall_time=wall)


def test_the_budget_keeps_whole_rounds_that_fit_and_drops_the_rest():
    options = planner.RunOptions(backends=("p", "q"), workloads=("cheap", "dear"), repeats=3)
    specs = planner.plan(options)
    clock = Clock()
    budget = planner.RepeatBudget(100.0, specs, clock)
    done: dict[str, CellResult] = {}
    walls = {"cheap": 5.0, "dear": 30.0}
    ran_cells = []
    for spec in specs:
        if not budget.allows(spec, done):
            continue
        ran_cells.append((spec.workload, spec.repeat, spec.backend))
        clock.t += walls[spec.workload]
        done[spec.cell_id] = ran(spec, walls[spec.workload])
    # round 0 always runs (70 s); round 1 of cheap (10 s) fits, of dear (60 s) does not;
    # round 2 of cheap still fits (90 s); the whole round is kept or dropped, never a part
    assert [c for c in ran_cells if c[1] == 0] == [
        ("cheap", 0, "p"),
        ("cheap", 0, "q"),
        ("dear", 0, "p"),
        ("dear", 0, "q"),
    ]
    assert [c[:2] for c in ran_cells if c[1] > 0] == [("cheap", 1)] * 2 + [("cheap", 2)] * 2
    assert {(s.workload, s.repeat) for s in budget.dropped} == {("dear", 1), ("dear", 2)}
    assert budget.summary() == [
        "dear (cpu): 1 of 3 repeats; the time budget of 100 s left no room for the others"
    ]


def test_cells_that_needed_no_worker_cost_nothing_and_no_budget_runs_everything():
    specs = planner.plan(planner.RunOptions(backends=("p", "cntk"), workloads=("w",), repeats=2))
    clock = Clock()
    budget = planner.RepeatBudget(10.0, specs, clock)
    done = {specs[0].cell_id: ran(specs[0], 4.0), specs[1].cell_id: ran(specs[1], None)}
    clock.t += 4.0
    assert budget.estimate(("w", "cpu", 1), done) == 4.0
    assert budget.allows(specs[2], done) and budget.allows(specs[3], done)
    unlimited = planner.RepeatBudget(None, specs, clock)
    clock.t += 1e6
    assert all(unlimited.allows(s, {}) for s in specs) and unlimited.summary() == []
