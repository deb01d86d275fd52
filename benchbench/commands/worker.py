"""``benchbench worker``: serve a cluster run's cells on this machine (a Dask worker)."""

from __future__ import annotations

import argparse

HELP = "serve cells of `run --cluster` on this machine: a Dask worker set up for benchmarking"

DESCRIPTION = """\
Starts a Dask worker that runs the cells a `benchbench run --cluster SCHEDULER` sends it: one at
a time (one thread, and the resource cell=1 that every cell asks for), each in a fresh process
started exactly as a local run starts it, with this machine's own environment and facts.
Its name is the machine's name in results (results/<name>/<run-id>/) and in the report's
columns; it advertises its devices as Dask resources (cpu=1, gpu=N where N GPUs are visible:
CUDA_VISIBLE_DEVICES if set, else nvidia-smi). Start one worker per machine, or one per GPU,
each with its own CUDA_VISIBLE_DEVICES and --machine name. It runs until Ctrl-C or SIGTERM
(which also kill a running cell) or until its scheduler goes away.

The same worker from Dask's own command line:
  dask worker SCHEDULER --name NAME --nthreads 1 --no-nanny --memory-limit 0 \\
      --resources "cell=1 cpu=1"        (add gpu=N on a GPU machine)

Exit codes: 0 stopped by a signal; 2 the scheduler could not be reached, refused the worker
(its name is taken) or went away.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "scheduler", metavar="SCHEDULER_ADDRESS", help="the Dask scheduler, e.g. tcp://head:8786"
    )
    parser.add_argument(
        "--machine",
        help="this machine's name in results and reports (default: the host name)",
    )
    parser.add_argument(
        "--host",
        help="the address the worker listens on (default: Dask's choice; 127.0.0.1 keeps a "
        "worker on loopback)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to try to reach the scheduler (default: 30)",
    )


def run(args: argparse.Namespace) -> int:
    from benchbench.executors.dask import require_distributed
    from benchbench.runner import machine_name

    require_distributed()
    from benchbench.executors.dask_worker import serve

    return serve(args.scheduler, machine_name(args.machine), args.host, args.connect_timeout)
