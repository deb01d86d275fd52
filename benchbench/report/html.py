"""One self-contained HTML file: inline CSS, plots as base64 PNG, no scripts, no requests.

Every string that comes from results goes through `esc`; a Content-Security-Policy that allows
only inline styles and data: images backs that up, so the page cannot load or run anything.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from benchbench.report import sections
from benchbench.report.findings import Finding
from benchbench.report.plots import Plot, workload_plots
from benchbench.report.tables import Cell, Table

#: Tables shown in full width; the others go side by side under "More metrics".
MAIN_TABLES = ("speed", "accuracy", "loss", "abstraction")

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1d232a; background: #fafafa; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.4rem 0; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem;
  margin-top: 2.2rem; }
h3 { font-size: 1.15rem; margin: 1.6rem 0 0.3rem; }
h4 { font-size: 1rem; margin: 1.1rem 0 0.3rem; }
.meta, .caption, .about { color: #57606a; font-size: 0.9rem; margin: 0.2rem 0 0.5rem; }
nav { font-size: 0.9rem; margin: 0.5rem 0 1rem; }
nav a { margin-right: 1rem; color: #0969da; text-decoration: none; }
.findings td { text-align: left; }
.findings td:nth-child(3) { font-weight: 600; white-space: nowrap; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums;
  font-size: 0.9rem; margin: 0.3rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: right;
  vertical-align: top; }
thead th { background: #f0f3f6; text-align: center; white-space: nowrap; }
td.k-value { white-space: nowrap; }
tbody th { text-align: left; font-weight: 600; white-space: nowrap; }
td.best { background: #e6f4ea; }
td.f-out-of-band { background: #fff4ce; }
td.f-below-target { background: #fde8e8; }
td.k-failed, td.k-timeout, td.k-interrupted { background: #fde8e8; color: #8a1c1c;
  text-align: left; max-width: 22rem; }
td.k-unavailable, td.k-skipped { background: #f3f3f3; color: #57606a; text-align: left;
  max-width: 22rem; }
td.k-missing { color: #8c959f; text-align: center; }
td.k-n-m { color: #57606a; text-align: center; font-style: italic; }
td.f-noisy, td.f-unstable, td.f-degraded { background: #fff0e0; }
.notices { background: #fff4ce; border: 1px solid #d4a72c; border-radius: 4px;
  padding: 0.4rem 1rem 0.4rem 1.8rem; margin: 0.6rem 0; font-size: 0.9rem; }
ul.workload-notes { font-size: 0.88rem; color: #57606a; margin: 0.2rem 0 0.6rem; }
tr.ref th { font-weight: normal; font-style: italic; }
.tag { font-size: 0.7rem; font-style: normal; background: #ddf4ff; color: #0969da;
  border-radius: 0.6rem; padding: 0 0.4rem; margin-left: 0.3rem; }
ul.notes { font-size: 0.82rem; color: #57606a; margin: 0.3rem 0 0.8rem; padding-left: 1.2rem; }
.plots { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
.plots figure { margin: 0.8rem 0; max-width: 100%; }
.plots img { max-width: 100%; height: auto; border: 1px solid #d0d7de; background: #fff; }
figcaption { font-size: 0.85rem; color: #57606a; }
.details { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.details > div { max-width: 100%; }
.details table { font-size: 0.84rem; }
.details th, .details td { padding: 0.25rem 0.45rem; }
.method li { margin: 0.3rem 0; }
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(name: str) -> str:
    return "w-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def cell(value: Cell) -> str:
    classes = [f"k-{re.sub(r'[^a-z0-9-]', '-', value.kind.lower())}"]
    classes += [f"f-{flag}" for flag in value.flags]
    text = esc(value.text)
    if value.best:
        classes.append("best")
        text = f"<strong>{text}</strong>"
    title = f' title="{esc(value.detail)}"' if value.detail else ""
    return f'<td class="{" ".join(classes)}"{title}>{text}</td>'


def table(t: Table) -> str:
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in t.frame.columns)
    rows = []
    for backend, row in t.frame.iterrows():
        label = esc(t.labels[backend])
        ref = backend in t.references
        if ref:
            label += '<span class="tag">ref</span>'
        cells = "".join(cell(c) for c in row)
        rows.append(f'<tr{" class=ref" if ref else ""}><th scope="row">{label}</th>{cells}</tr>')
    parts = [f"<h4>{esc(t.title)}</h4>"]
    if t.caption:
        parts.append(f'<p class="caption">{esc(t.caption)}</p>')
    parts.append(
        f'<div class="table-wrap"><table class="results {esc(t.name)}"><thead><tr>'
        f'<th scope="col">{esc(t.row_header)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    if t.footnotes:
        parts.append(_list(t.footnotes, "notes"))
    return "\n".join(parts)


def key_value_table(frame: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in frame.columns)
    rows = "".join(
        f'<tr><th scope="row">{esc(key)}</th>'
        + "".join(f'<td style="text-align:left">{esc(v)}</td>' for v in row)
        + "</tr>"
        for key, row in frame.iterrows()
    )
    return (
        f'<div class="table-wrap"><table class="env"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def figure(plot: Plot) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(plot.alt)}">'
        f"<figcaption>{esc(plot.title)}</figcaption></figure>"
    )


def workload_section(report: sections.Report, workload: str) -> str:
    tables = report.tables[workload]
    main_tables = [t for t in tables if t.name in MAIN_TABLES]
    details = [t for t in tables if t.name not in MAIN_TABLES]
    about = sections.workload_line(report.workload_infos[workload])
    plots = workload_plots(report.data, workload, report.baseline)
    parts = [f'<section id="{esc(anchor(workload))}"><h3>{esc(workload)}</h3>']
    if about:
        parts.append(f'<p class="about">{esc(about)}</p>')
    if report.workload_notes.get(workload):
        parts.append(_list(report.workload_notes[workload], "workload-notes"))
    parts += [table(t) for t in main_tables]
    if plots:
        parts.append('<div class="plots">' + "".join(figure(p) for p in plots) + "</div>")
    if details:
        parts.append("<h4>More metrics</h4><div class='details'>")
        parts += [f"<div>{table(t)}</div>" for t in details]
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def findings(report: sections.Report) -> str:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in Finding.HEADERS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in item.cells()) + "</tr>"
        for item in report.findings
    )
    return (
        '<section class="findings"><h2>At a glance</h2><div class="table-wrap">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def render(report: sections.Report) -> str:
    """The whole report as one HTML document."""
    links = "".join(f'<a href="#{esc(anchor(w))}">{esc(w)}</a>' for w in report.tables)
    body = [
        f"<header><h1>{esc(report.title)}</h1><p class='meta'>{esc(report.summary)}</p>",
        _list(report.notices, "notices") if report.notices else "",
        f'<nav>{links}<a href="#environment">environment</a><a href="#method">method</a></nav>'
        "</header>",
        findings(report),
        "<h2>Results</h2>",
        *(workload_section(report, w) for w in report.tables),
        '<section id="environment"><h2>Environment</h2><h3>Machines</h3>',
        key_value_table(report.machines),
        "<h3>Backends</h3>",
        key_value_table(report.versions),
        _list(report.engine_notes, "notes") if report.engine_notes else "",
        '</section><section id="method" class="method"><h2>Method</h2>',
        _list(report.method, ""),
        "</section>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(report.title)}</title><style>{CSS}</style></head>\n"
        "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def _list(items, css_class: str) -> str:
    lis = "".join(f"<li>{esc(item)}</li>" for item in items)
    return f'<ul class="{css_class}">{lis}</ul>' if css_class else f"<ul>{lis}</ul>"
