"""``benchbench export --format pytest-benchmark RESULTS... -o FILE``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "export results to another tool's format (pytest-benchmark JSON)"

EPILOG = """\
metrics (seconds per round; one benchmark per workload x backend x device):
  step_time         one round per repeat: its median steady-state train step (default;
                    named like benchmarks/test_train_step.py so the two can be compared)
  epoch_time        one round per steady-state epoch of every repeat
  first_epoch_time  one round per repeat, compilation included

example:
  benchbench export --format pytest-benchmark results/mybox/run1 -o run1.json
  pytest-benchmark compare run1.json .benchmarks/*/0001_*.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument(
        "results", nargs="+", type=Path, metavar="RESULTS", help="result directories or files"
    )
    parser.add_argument(
        "--format",
        default="pytest-benchmark",
        choices=["pytest-benchmark"],
        help="output format (default: pytest-benchmark)",
    )
    parser.add_argument(
        "--metric",
        default="step_time",
        choices=["step_time", "epoch_time", "first_epoch_time"],
        help="what one round is (default: step_time)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="where to write (default: standard output)",
    )


def run(args: argparse.Namespace) -> int:
    from benchbench import pytest_benchmark_format, results
    from benchbench.errors import BenchbenchError

    missing = [str(p) for p in args.results if not p.exists()]
    if missing:
        raise BenchbenchError(
            f"no results at {', '.join(missing)}: expected result "
            "directories (written by 'benchbench run --out DIR') or files"
        )
    data = pytest_benchmark_format.export(results.load_results(args.results), args.metric)
    if args.output == "-":
        sys.stdout.write(json.dumps(data, indent=4, sort_keys=True) + "\n")
        return 0
    try:
        results.write_json_atomic(Path(args.output), data)
    except OSError as exc:
        raise BenchbenchError(f"cannot write {args.output}: {exc}") from exc
    print(f"wrote {len(data['benchmarks'])} benchmarks to {args.output}", file=sys.stderr)
    return 0
