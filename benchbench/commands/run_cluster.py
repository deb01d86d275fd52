"""``benchbench run --cluster SCHEDULER``: the run's matrix on every selected machine of a Dask
cluster, each machine's cells one at a time, each cell in a fresh process on its machine.

This process (the head) plans the cells exactly as a local run does (`benchbench.planner`),
once per machine (with the machine's CPU count as its threads unless ``--threads`` is given),
checks that every machine runs the head's benchbench before anything runs, writes each
result under ``OUT/<machine>/<run-id>/`` as it arrives, and builds one report with a column
per machine. The cells run through `executors.dask.DaskExecutor` and `runner.run_machines`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import textwrap
from pathlib import Path

from benchbench import planner, runner
from benchbench.commands import run as run_command
from benchbench.errors import BenchbenchError
from benchbench.progress import ClusterProgress
from benchbench.results import MANIFEST, RunManifest, finished_cells, read_manifest
from benchbench.summary import WIDTH, counts, summary_table

DEFAULT_CONNECT_TIMEOUT = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "cluster",
        "run every cell on every selected machine of a Dask cluster (see README, "
        "'Run on a cluster'; start each machine with `python -m benchbench worker`)",
    )
    group.add_argument(
        "--cluster",
        metavar="SCHEDULER_ADDRESS",
        help="the Dask scheduler, e.g. tcp://head:8786",
    )
    group.add_argument(
        "--machines",
        default="all",
        metavar="all|NAME[,NAME...]",
        help="the machines (worker names) to run on (default: every benchbench worker "
        "connected; with --resume, the run's machines)",
    )
    group.add_argument(
        "--connect-timeout",
        type=run_command.non_negative_float,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to try to reach the scheduler (default: {DEFAULT_CONNECT_TIMEOUT:g})",
    )


def run(args: argparse.Namespace) -> int:
    from benchbench.executors import dask as dask_executor

    if args.python:
        raise BenchbenchError(
            "--python names interpreters of this machine; it cannot be used with --cluster"
        )
    if args.machine:
        raise BenchbenchError(
            "--machine labels a local run; with --cluster each worker's name is its machine "
            "(choose them with --machines)"
        )
    options = None if args.resume else run_command.build_options(args, {})
    client = dask_executor.connect(args.cluster, args.connect_timeout or 0.1)
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its notices would break the progress lines
    try:
        return run_on(client, args, options)
    finally:
        client.close()
        logger.setLevel(level)


def run_on(client, args: argparse.Namespace, options: planner.RunOptions | None) -> int:
    from benchbench.executors import dask as dask_executor

    connected = dask_executor.connected_machines(client)
    if args.resume:
        run_id, runs, absent = resume(client, connected, args)
    else:
        run_id, runs = start(client, connected, args, options)
        absent = []
    machines = {name: connected[name] for name in runs}
    hosts = {name: run.manifest.environment for name, run in runs.items()}
    executor = dask_executor.DaskExecutor(client, machines, run_id, hosts)
    try:
        interrupted = runner.run_machines(runs, executor)
    finally:
        runs_view(runs).close()
        executor.close()
    return finish(args, runs, executor.gone, absent, interrupted)


def runs_view(runs: dict[str, runner.MachineRun]) -> ClusterProgress:
    return next(iter(runs.values())).view.board


def select(text: str, names: list[str], where: str) -> list[str]:
    if not names:
        raise BenchbenchError(
            f"no benchbench worker is connected to {where}; start one on each machine with: "
            f"python -m benchbench worker {where} --machine NAME"
        )
    return list(planner.resolve(text, names, "machine"))


def start(client, connected: dict, args, options: planner.RunOptions):
    """A new run: (run id, machine -> MachineRun), after every machine passed the check."""
    from benchbench.executors import dask as dask_executor

    names = select(args.machines, list(connected), args.cluster)
    chosen = {name: connected[name] for name in names}
    files = tuple(options.workload_files.values())
    checked = dask_executor.gather_facts(client, chosen, None, measure=False, files=files)
    dask_executor.check_identity(checked)
    facts = dask_executor.gather_facts(client, chosen, args.threads, measure=True)
    dirs = runner.new_run_dirs(Path(args.out), names)
    argv = ["benchbench", *sys.argv[1:]]
    recorded = {
        k: v for k, v in dataclasses.asdict(options).items() if k not in ("backends", "workloads")
    }
    manifests = {}
    for name in names:
        machine_options = dataclasses.replace(options, threads=facts[name]["threads"])
        specs = planner.plan(machine_options)
        settings = {
            **recorded,
            "threads": machine_options.threads,
            "cluster": {"scheduler": args.cluster, "machines": names},
        }
        manifests[name] = runner.new_manifest(
            specs, name, dirs[name], argv, settings, host=facts[name]["host"]
        )
    run_id = dirs[names[0]].name
    print(plan_line(options, chosen, manifests, Path(args.out), run_id))
    return run_id, machine_runs(dirs, manifests, args, options.budget)


def plan_line(options, chosen, manifests: dict[str, RunManifest], out: Path, run_id: str) -> str:
    repeats = f"{options.repeats} repeats"
    if options.budget:
        repeats = f"up to {repeats} (those after the first within {options.budget:g} s)"
    machines = ", ".join(
        f"{name} ({chosen[name].devices()}; {len(m.plan)} cells, {m.options['threads']} threads)"
        for name, m in manifests.items()
    )
    return f"cluster run {run_id} ({repeats}) on {machines} -> {out}/<machine>/{run_id}"


def resume(client, connected: dict, args):
    """The latest cluster run under --out, on those of its machines that are connected now."""
    from benchbench.executors import dask as dask_executor

    run_id, dirs = runner.find_cluster_run(Path(args.out))
    wanted = list(planner.resolve(args.machines, list(dirs), "machine"))
    absent = [name for name in wanted if name not in connected]
    names = [name for name in wanted if name in connected]
    for name in absent:
        print(wrapped(f"machine {name!r} is not connected to {args.cluster}: its cells wait"))
    if not names:
        raise BenchbenchError(
            f"--resume: none of the run's machines ({', '.join(wanted)}) is connected to "
            f"{args.cluster}; start their workers: python -m benchbench worker "
            f"{args.cluster} --machine NAME"
        )
    manifests = {}
    for name in names:
        try:
            manifest = read_manifest(dirs[name])
        except (OSError, ValueError, TypeError) as exc:
            raise BenchbenchError(
                f"--resume: cannot read {dirs[name]}/manifest.json: {exc}"
            ) from exc
        manifests[name] = manifest
    files = {s.workload_file for m in manifests.values() for s in m.specs() if s.workload_file}
    chosen = {n: connected[n] for n in names}
    facts = dask_executor.gather_facts(client, chosen, None, measure=False, files=tuple(files))
    dask_executor.check_identity(facts)
    for name, manifest in manifests.items():
        manifests[name] = dataclasses.replace(
            manifest, interrupted=False, resumed_at=[*manifest.resumed_at, runner.now()]
        )
        done = len(finished_cells(dirs[name]))
        print(f"resuming {dirs[name]}: {done} of {len(manifest.plan)} cells already done")
    return run_id, machine_runs({n: dirs[n] for n in names}, manifests, args, None), absent


def machine_runs(dirs, manifests, args, budget) -> dict[str, runner.MachineRun]:
    view = ClusterProgress(
        {name: len(m.plan) for name, m in manifests.items()},
        live=False if args.verbose else None,
    )
    runs = {}
    for name, manifest in manifests.items():
        runner.write_manifest(dirs[name], manifest)
        runs[name] = runner.MachineRun(dirs[name], manifest, view.view(name), budget)
    return runs


def wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent="    ", break_on_hyphens=False))


def finish(args, runs, gone: dict[str, str], absent: list[str], interrupted: bool) -> int:
    """The summary of each machine, what is left and how to finish it, the report."""
    results = []
    for name, run in runs.items():
        found = run.results()
        results += found
        print(f"\nmachine {name}:")
        print(summary_table(found) if found else "no cell finished")
        print(f"{counts(found)}\nresults: {run.run_dir}")
        left_out = run.budget.summary()
        if left_out:
            print("left out by the time budget (--resume runs them):")
            print("\n".join(f"  {line}" for line in left_out))
    first = next(iter(runs.values()))
    root, run_id = first.run_dir.parent.parent, first.manifest.run_id
    hint = f"python -m benchbench run --cluster {args.cluster} --resume --out {root}"
    incomplete = [name for name, run in runs.items() if name in gone and run.missing()]
    for name in incomplete:
        missing = runs[name].missing()
        print()
        print(
            wrapped(
                f"machine {name!r} was lost: {gone[name]}. {missing} of its cells "
                f"{'has' if missing == 1 else 'have'} no result; when it is back, run:"
            )
        )
        print(f"  {hint}")
    if interrupted:
        return run_command.stopped_with(
            hint, f"{len(results)} cells kept on {len(runs)} machine(s)"
        )
    if args.report and any(r.status == "ok" for r in results):
        every_machine = sorted(p.parent for p in root.glob(f"*/{run_id}/{MANIFEST}"))
        try:
            run_command.build_report(every_machine, root / f"report-{run_id}.html")
        except KeyboardInterrupt:
            for run in runs.values():
                run.mark_interrupted()
            return run_command.stopped_with(hint, "every cell is kept; the report was not built")
    code = runner.exit_code(results, interrupted)
    return 1 if (incomplete or absent) and code == 0 else code
