"""``benchbench report``: tables, plots and a self-contained HTML (or Markdown, CSV) report."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write a report (HTML, Markdown or CSV) from result directories of one or more machines"

DEFAULT_RESULTS = "results"
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".csv": "csv"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="*",
        type=Path,
        help=f"result directories or files, of any machines (default: {DEFAULT_RESULTS}/)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write (default: report.<format> in the current directory); "
        "a directory (or a path without a suffix) gets report.<format> inside it",
    )
    parser.add_argument(
        "--format",
        choices=("html", "md", "csv"),
        help="html: one self-contained file with plots; md: GitHub-flavoured tables; "
        "csv: one tidy row per cell (default: from the -o suffix, else html)",
    )
    parser.add_argument(
        "--baseline",
        metavar="BACKEND",
        help="backend that the relative-time plot divides by (default: the first backend with "
        "a timing, in report order)",
    )
    parser.add_argument("--title", help="the report's title")


def run(args: argparse.Namespace) -> int:
    from benchbench.report import FORMATS, build_report

    fmt = args.format
    if fmt is None:
        fmt = SUFFIXES.get(args.output.suffix.lower(), "html") if args.output else "html"
    output = args.output or Path(f"report{FORMATS[fmt]}")
    paths = args.results or [Path(DEFAULT_RESULTS)]
    written = build_report(paths, output, fmt, baseline=args.baseline, title=args.title)
    print(f"wrote {written}")
    return 0
