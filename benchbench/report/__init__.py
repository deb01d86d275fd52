"""Reports from result files: tables, plots and a self-contained HTML, Markdown or CSV file.

`write_report` is the entry point (the ``report`` command and the end of ``run`` call it; it
says which result files it could not read); `build_report` returns only the path. The
reporting stack (pandas, matplotlib) is imported only when a report is built; modules of this
package import pandas, so import them only from here or from code that builds a report.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

from benchbench.errors import BenchbenchError

FORMATS = {"html": ".html", "md": ".md", "csv": ".csv"}

__all__ = ["FORMATS", "Written", "build_report", "write_report"]


@dataclasses.dataclass(frozen=True)
class Written:
    """A report on disk, and the result files it had to skip (unreadable: named at its top)."""

    path: Path
    skipped: tuple[str, ...] = ()


def build_report(*args, **kwargs) -> Path:
    """`write_report`, returning only the path written."""
    return write_report(*args, **kwargs).path


def write_report(
    paths: list[Path],
    out: Path,
    fmt: str = "html",
    *,
    baseline: str | None = None,
    title: str | None = None,
) -> Written:
    """Writes one report of every result under `paths`, merging machines.

    Args:
        paths: result files or directories (e.g. ``results/`` or ``results/<machine>/<run>``).
        out: the file to write; a directory (one that exists, or a path without a suffix)
            gets ``report.<ext>`` inside it.
        fmt: 'html' (self-contained, with plots), 'md' (GitHub-flavoured tables) or 'csv'
            (one tidy row per cell).
        baseline: the backend the relative-time plot divides by (default: the first backend
            in report order that has a timing).
        title: the report's title.

    Returns:
        The path written and the unreadable result files skipped.

    Raises:
        BenchbenchError: unknown format or baseline, no results, or pandas/matplotlib missing.
    """
    if fmt not in FORMATS:
        raise BenchbenchError(f"unknown report format {fmt!r}; expected one of: html, md, csv")
    _require("pandas", *(("matplotlib",) if fmt == "html" else ()))
    from benchbench.report import data, sections

    out = Path(out)
    if out.is_dir() or (not out.suffix and not out.exists()):
        out = out / f"report{FORMATS[fmt]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    loaded = data.load(paths)
    skipped = tuple(loaded.skipped)
    if fmt == "csv":
        from benchbench.report import csv

        return Written(csv.write(loaded, out), skipped)
    report = sections.build(loaded, title=title, baseline=baseline)
    if fmt == "md":
        from benchbench.report import markdown

        text = markdown.render(report)
    else:
        from benchbench.report import html

        text = html.render(report)
    out.write_text(text, encoding="utf-8")
    return Written(out, skipped)


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise BenchbenchError(
            f"reports need {', '.join(missing)}, which is not installed; "
            "install the extra: pip install 'benchbench[report]'"
        )
