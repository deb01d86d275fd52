"""GitHub-flavoured Markdown: for a README or a CI job summary. Tables only, no images.

Every string from results is escaped, so a name cannot break a table or inject markup.
"""

from __future__ import annotations

import re

from benchbench.report import sections
from benchbench.report.findings import Finding
from benchbench.report.tables import Cell, Table

_SPECIAL = re.compile(r"([\\`*\[\]|<>#$])")


def escape(text: object) -> str:
    """Text that renders as itself inside a GFM table cell or paragraph."""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", flat)


def cell(value: Cell) -> str:
    text = escape(value.text)
    return f"**{text}**" if value.best else text


def table(t: Table) -> str:
    """A GFM table with its heading, caption and footnotes."""
    header = [escape(t.row_header), *(escape(c) for c in t.frame.columns)]
    lines = [f"#### {escape(t.title)}", ""]
    if t.caption:
        lines += [escape(t.caption), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for backend, row in t.frame.iterrows():
        label = escape(t.labels[backend])
        if backend in t.references:
            label = f"_{label}_ (ref)"
        lines.append("| " + " | ".join([label, *(cell(c) for c in row)]) + " |")
    if t.footnotes:
        lines += [""] + [f"- {escape(note)}" for note in t.footnotes]
    return "\n".join(lines) + "\n"


def workload_section(
    workload: str, info: dict, tables: list[Table], notes: list[str] | None = None
) -> str:
    lines = [f"### {escape(workload)}", ""]
    about = sections.workload_line(info)
    if about:
        lines += [escape(about), ""]
    if notes:
        lines += [f"- {escape(note)}" for note in notes] + [""]
    return "\n".join(lines) + "\n" + "\n".join(table(t) for t in tables)


def findings(items: list[Finding]) -> str:
    lines = ["## At a glance", ""]
    lines.append("| " + " | ".join(escape(h) for h in Finding.HEADERS) + " |")
    lines.append("|" + "---|" * len(Finding.HEADERS))
    for item in items:
        lines.append("| " + " | ".join(escape(c) for c in item.cells()) + " |")
    return "\n".join(lines) + "\n"


def key_value_table(frame) -> str:
    header = ["", *(escape(c) for c in frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, row in frame.iterrows():
        lines.append("| " + " | ".join([escape(key), *(escape(v) for v in row)]) + " |")
    return "\n".join(lines) + "\n"


def render(report: sections.Report) -> str:
    """The whole report as one Markdown document."""
    parts = [f"# {escape(report.title)}", "", escape(report.summary), ""]
    if report.notices:
        parts += [f"> **Note:** {escape(notice)}  " for notice in report.notices] + [""]
    parts.append(findings(report.findings))
    parts.append("## Results\n")
    for workload, tables in report.tables.items():
        info, notes = report.workload_infos[workload], report.workload_notes[workload]
        parts.append(workload_section(workload, info, tables, notes))
    parts.append("## Environment\n")
    parts.append("### Machines\n\n" + key_value_table(report.machines))
    parts.append("### Backends\n\n" + key_value_table(report.versions))
    parts += [f"- {escape(note)}" for note in report.engine_notes]
    parts.append("\n## Method\n")
    parts += [f"- {escape(line)}" for line in report.method]
    return "\n".join(parts).rstrip() + "\n"
