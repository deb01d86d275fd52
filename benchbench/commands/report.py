"""``benchbench report``: tables, plots and a self-contained HTML (or Markdown, CSV) report."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "write a report (HTML, Markdown or CSV) from result directories of one or more machines"

EPILOG = """\
exit status:
  0  the report was written from every result file found
  2  usage or data error: nothing to report, or some result files could not be read (the
     report is still written, naming them at its top, and they are listed on stderr)
"""

DEFAULT_RESULTS = "results"
SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".csv": "csv"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
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
    import sys
    import warnings

    from benchbench.report import FORMATS, write_report
    from benchbench.results import ResultsWarning

    fmt = args.format
    if fmt is None:
        fmt = SUFFIXES.get(args.output.suffix.lower(), "html") if args.output else "html"
    output = args.output or Path(f"report{FORMATS[fmt]}")
    paths = args.results or [Path(DEFAULT_RESULTS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsWarning)  # listed below, once
        written = write_report(paths, output, fmt, baseline=args.baseline, title=args.title)
    print(f"wrote {written.path}")
    for message in written.skipped:
        print(f"benchbench report: unreadable result file skipped: {message}", file=sys.stderr)
    if written.skipped:
        print(
            f"benchbench report: {len(written.skipped)} result file(s) could not be read; the "
            "report names them at its top (exit status 2)",
            file=sys.stderr,
        )
        return 2
    return 0
