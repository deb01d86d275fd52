"""``benchbench run``: every backend × workload × device × repeat cell, each in a new process."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import warnings
from pathlib import Path

from benchbench import environment, planner, registry, runner, workloads
from benchbench.errors import BenchbenchError
from benchbench.progress import ProgressView
from benchbench.results import finished_cells, read_manifest, write_manifest
from benchbench.summary import counts, summary_table

HELP = "run benchmark cells (backend x workload x device x repeat), each in a fresh process"

DESCRIPTION = """\
Runs every cell of backend x workload x device x repeat in its own worker process and writes
one JSON file per cell under OUT/MACHINE/RUN-ID/, plus manifest.json; then a report.

Profile: by default every workload runs its published setting (its default profile: full
epochs and data), so accuracies can be held against their published band; on two cores the
offline workloads (digits, MNIST-1D) take minutes, MNIST and CIFAR-10 hours. Without
--workload, the offline workloads whose default setting takes much longer (the MNIST-1D GRU,
the addition RNN) are left out: --workload all (or their names) runs them. --quick runs
each workload's quick profile (a few epochs, a subset of the data) for smoke tests and CI.
--epochs and --batch-size override either.

Repeats: without --repeats, up to 3 process-isolated repeats of every cell: the first always
runs, the 2nd and 3rd of a workload only while, estimated from its earlier repeats, they end
within --budget seconds of the start (default 510); the summary says which were left out, and
--resume runs them. --repeats N runs exactly N (no budget unless --budget is given). Repeats
run in rounds with the backend order rotated each round, and repeat r uses seed --seed + r for
the order of the batches and for dropout (the initial weights are the same in every repeat).

Interference: each cell records what other processes did on its CPUs while it trained and is
flagged noisy when they used more than 10% of them (see benchbench.interference); --quiet-wait
SECONDS makes each cell first wait, up to SECONDS, for the machine to be quiet.

Statuses: ok; failed and timeout (exit code 1); unavailable (the backend cannot run here, e.g.
CNTK on Python >= 3.7) and skipped (no GPU, or the dataset is not on this machine) are
recorded with their reason and do not count as failures. Exit codes: 0 no cell failed, 1 some
failed, 2 usage error, 130 interrupted (Ctrl-C keeps the finished cells; --resume completes
the run).
"""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--backend",
        default="all",
        metavar="all|refs|NAME[,NAME...]",
        help="backends to run (default: all; 'refs' adds the reference lanes "
        "native:* and keras3:*; see `benchbench list`)",
    )
    parser.add_argument(
        "--workload",
        default="default",
        metavar="default|all|NAME|FILE.py[,...]",
        help="workloads to run, by name or a workload file's path (default: every workload "
        "but those `benchbench list` marks as left out of the default run, which 'all' adds; "
        "those without data are skipped)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "gpu", "all"),
        help="device (default: cpu); gpu cells without a GPU are skipped",
    )
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument(
        "--quick",
        dest="quick",
        action="store_true",
        default=False,
        help="each workload's quick profile: a few epochs on a subset (smoke runs, CI)",
    )
    profile.add_argument(
        "--full",
        dest="quick",
        action="store_false",
        help="each workload's published setting (the default; this flag only says so)",
    )
    parser.add_argument("--epochs", type=positive_int, help="override the profile's epochs")
    parser.add_argument("--batch-size", type=positive_int, help="override the batch size")
    add_measurement_arguments(parser)
    add_output_arguments(parser)
    from benchbench.commands import run_cluster

    run_cluster.add_arguments(parser)


def add_measurement_arguments(parser: argparse.ArgumentParser) -> None:
    """Repeats, their budget, waiting for quiet, data, threads, timeout and seed."""
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=None,
        help=f"exactly N process-isolated repeats of every cell (default: up to "
        f"{planner.AUTO_REPEATS}, as --budget allows)",
    )
    parser.add_argument(
        "--budget",
        type=non_negative_float,
        default=None,
        metavar="SECONDS",
        help="repeats after the first run only while they end within SECONDS of the start "
        f"(default: {planner.DEFAULT_BUDGET:g} without --repeats, none with it; 0: none)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=non_negative_float,
        default=None,
        metavar="SECONDS",
        help="before each cell's timed epochs, wait up to SECONDS for other processes to "
        "leave its CPUs (the result and the progress say when it gave up)",
    )
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="random data of the real shapes (speed only; accuracy meaningless)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        help="CPU threads for every backend (default: all CPUs this process may "
        "use); also pins workers to that many CPUs",
    )
    parser.add_argument(
        "--timeout",
        type=non_negative_float,
        default=1800.0,
        help="seconds per cell before its worker is killed (default: 1800; 0: no limit)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of synthetic data and of dropout (default 0)"
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Where results go, resuming, interpreters, verbosity and the report."""
    parser.add_argument(
        "--out",
        default="results",
        metavar="DIR",
        help="results root (default: results), or a run directory to --resume",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish a run: the one in --out, else the latest of this machine "
        "under --out; runs the cells with no result yet, with the run's plan "
        "(failed cells keep theirs: delete a cell's file to run it again)",
    )
    parser.add_argument("--machine", help="label of this machine in results (default: hostname)")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="run this backend's workers under another interpreter (repeatable)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="stream each worker's Keras-style progress output (it prints inside "
        "the timed epochs: leave it off for measurements)",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="do not build the HTML report at the end",
    )


def parse_pythons(items: list[str]) -> dict[str, str]:
    pythons = {}
    for item in (part for entry in items for part in entry.split(",") if part.strip()):
        name, sep, path = (p.strip() for p in item.partition("="))
        if not (sep and name and path):
            raise BenchbenchError(
                f"--python: got {item!r}; expected BACKEND=PATH, e.g. cntk=/opt/py36/bin/python"
            )
        registry.check_name(name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BenchbenchError(f"--python {name}={path}: no executable interpreter there")
        pythons[name] = path
    return pythons


def workload_choice(
    text: str, known: list[str], default: list[str] | None = None
) -> tuple[tuple[str, ...], dict[str, str]]:
    """--workload's names and files: the workloads to run, and each file's path by its name.
    'all' is every workload, 'default' those of `default` (default: every workload)."""
    files = {}
    names = []
    for item in (i.strip() for i in text.split(",")):
        if not workloads.is_file(item):
            names.append(item)
            continue
        if not os.path.isfile(item):
            raise BenchbenchError(f"--workload {item}: no such workload file")
        name = workloads.name_of_file(item)
        files[name] = os.path.abspath(item)
    groups = {"default": list(known if default is None else default)}
    chosen = planner.resolve(",".join(names), known, "workload", groups) if names else ()
    return tuple(dict.fromkeys([*chosen, *files])), files


def build_options(args: argparse.Namespace, pythons: dict[str, str]) -> planner.RunOptions:
    known = workloads.discover()
    if not known:
        raise BenchbenchError("no workloads found: the 'workloads' package defines none")
    default = [name for name, w in known.items() if w.in_default_run]
    chosen, files = workload_choice(args.workload, list(known), default)
    devices = planner.DEVICES if args.device == "all" else (args.device,)
    return planner.RunOptions(
        backends=planner.resolve(
            args.backend,
            registry.backend_names() + registry.lane_names(),
            "backend",
            {"all": registry.backend_names(), "refs": registry.lane_names()},
        ),
        workloads=chosen,
        workload_files=files,
        devices=devices,
        repeats=args.repeats or planner.AUTO_REPEATS,
        epochs=args.epochs,
        batch_size=args.batch_size,
        quick=args.quick,
        synthetic=args.synthetic,
        threads=args.threads or len(environment.allowed_cpus()),
        timeout=args.timeout or None,
        seed=args.seed,
        verbose=args.verbose,
        pythons=pythons,
        budget=budget_of(args),
        quiet_wait=args.quiet_wait or None,
    )


def budget_of(args: argparse.Namespace) -> float | None:
    """--budget; without it, the default budget for automatic repeats and none for --repeats."""
    if args.budget is not None:
        return args.budget or None
    return None if args.repeats else planner.DEFAULT_BUDGET


def start(args: argparse.Namespace, pythons: dict[str, str], machine: str):
    """(run_dir, manifest): a new run, or the one to resume."""
    if args.resume:
        run_dir = runner.find_run_dir(Path(args.out), machine)
        try:
            manifest = read_manifest(run_dir)
        except (OSError, ValueError, TypeError) as exc:
            raise BenchbenchError(f"--resume: cannot read {run_dir}/manifest.json: {exc}") from exc
        if manifest.options.get("cluster"):
            raise BenchbenchError(
                f"--resume: {run_dir} is machine {manifest.machine!r}'s part of a cluster run; "
                "resume it on its machine with: python -m benchbench run --cluster "
                f"SCHEDULER_ADDRESS --resume --out {run_dir}"
            )
        manifest = dataclasses.replace(
            manifest, interrupted=False, resumed_at=[*manifest.resumed_at, runner.now()]
        )
        done = len(finished_cells(run_dir))
        print(f"resuming {run_dir}: {done} of {len(manifest.plan)} cells already done")
        return run_dir, manifest
    options = build_options(args, pythons)
    specs = planner.plan(options)
    run_dir = runner.new_run_dir(Path(args.out), machine)
    recorded = {
        k: v for k, v in dataclasses.asdict(options).items() if k not in ("backends", "workloads")
    }
    argv = ["benchbench", *sys.argv[1:]]
    manifest = runner.new_manifest(specs, machine, run_dir, argv, recorded)
    repeats = f"{options.repeats} repeats"
    if options.budget:
        repeats = f"up to {repeats} (those after the first within {options.budget:g} s)"
    print(f"{len(specs)} cells ({repeats}) -> {run_dir}")
    return run_dir, manifest


def build_report(run_dir: Path | list[Path], output: Path | None = None) -> None:
    """The report at the end of a run (of one run directory, or of several: a cluster run's
    machines, into `output`); a missing extra or a report bug never loses results."""
    sources = list(run_dir) if isinstance(run_dir, list) else [run_dir]
    output = output or sources[0] / "report.html"
    try:
        from benchbench.report import build_report as build

        path = build(sources, output)
    except (ImportError, BenchbenchError) as exc:
        print(
            f"report not built ({exc}); install the extra with: pip install "
            f"'benchbench[report]', then run: python -m benchbench report "
            f"{' '.join(map(str, sources))}"
        )
        return
    except Exception as exc:  # the results are on disk whatever the report does
        warnings.warn(
            f"building the report failed ({type(exc).__name__}: {exc}); the results "
            f"in {', '.join(map(str, sources))} are kept",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    print(f"report: {path}")


def run(args: argparse.Namespace) -> int:
    if args.cluster:
        from benchbench.commands import run_cluster

        return run_cluster.run(args)
    pythons = parse_pythons(args.python)
    machine = runner.machine_name(args.machine)
    run_dir, manifest = start(args, pythons, machine)
    write_manifest(run_dir, manifest)
    view = ProgressView(len(manifest.plan), live=False if args.verbose else None)
    budget = None if args.resume else manifest.options.get("budget")
    cells = runner.Runner(run_dir, manifest, pythons, view, budget=budget)
    results, interrupted = cells.run()
    print()
    print(summary_table(results) if results else "no cell finished")
    print(f"\n{counts(results)}\nresults: {run_dir}")
    left_out = cells.budget.summary()
    if left_out:
        print("left out by the time budget (--resume runs them; --repeats N runs exactly N):")
        print("\n".join(f"  {line}" for line in left_out))
    if interrupted:
        return stopped(run_dir, f"{len(results)} of {len(manifest.plan)} cells kept")
    if args.report and any(r.status == "ok" for r in results):
        try:
            build_report(run_dir)
        except KeyboardInterrupt:
            cells.mark_interrupted()
            return stopped(run_dir, "every cell is kept; the report was not built")
    return runner.exit_code(results, interrupted)


def stopped(run_dir: Path, kept: str) -> int:
    """Ctrl-C: what is kept, and how to finish (130, as a shell reports SIGINT)."""
    return stopped_with(f"python -m benchbench run --resume --out {run_dir}", kept)


def stopped_with(command: str, kept: str) -> int:
    print(f"interrupted: {kept}; finish with:\n  {command}", file=sys.stderr)
    return 130
