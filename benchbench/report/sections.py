"""Everything a report says, assembled once for every output format.

`Report` holds the findings, the per-workload tables, the environment (each machine's
fingerprint and facts, each backend's engine and version) and the method: what the timings
include and exclude. Renderers only lay it out.
"""

from __future__ import annotations

import dataclasses
import datetime

import pandas as pd

from benchbench.errors import UnknownNameError
from benchbench.report import efficiency, formats
from benchbench.report.abstraction import abstraction_tables
from benchbench.report.data import ReportData
from benchbench.report.findings import Finding, findings
from benchbench.report.flags import MARK_DEGRADED
from benchbench.report.tables import Table, row_label, workload_notes, workload_tables

DEFAULT_TITLE = "benchbench report"

#: Environment facts that belong to a backend's cells rather than to the machine.
PER_BACKEND = ("fingerprint", "frameworks")

METHOD = (
    "Every cell (backend × workload × device × repeat) ran in a fresh worker process; the "
    "parent runner imports no framework.",
    "Speed is steady-state seconds per epoch: the median training time of epochs 2 to N of a "
    "repeat. It excludes the first epoch (compilation, warm-up) and the validation pass. Tables "
    "show the median of that over repeats, with ± bounding every repeat (min–max).",
    "First epoch: the first epoch's training time, including graph building and compilation "
    "on backends that compile.",
    "Clocks are read after the fit loop synchronises with the backend's device, so asynchronous "
    "backends are timed on finished work. Throughput is training samples per second in the "
    "steady state.",
    "Memory: peak resident set size (ru_maxrss / VmHWM) of the fresh worker process, framework "
    "included; GPU memory is the framework's peak allocation counter where it exposes one.",
    "Accuracy: validation accuracy after the last epoch. A workload without a test set "
    "(Keras's text generation) is judged on its training loss instead: the mean over the last "
    "epoch's batches, lower is better. The reference band (a published result where there is "
    "one) is for the workload's default setting (full epochs, real data); runs on synthetic "
    "data are not meaningful.",
    "Fingerprint: a hash of the hardware, the Python version, the framework's version and the "
    "thread count; results with equal fingerprints were measured under comparable conditions.",
    "Ratios (n.nx) compare backends within one column (device · machine · setting), never across "
    "columns: machines and settings differ. Cells share a column only when their settings "
    "agree (profile, epochs, training samples, batch size, threads, synthetic data). A ratio is "
    "stated only where the two cells' ranges (over repeats; for a single repeat, over its "
    "steady epochs) do not overlap; otherwise it reads ≈ with the interval the ranges allow. "
    "Reference lanes (native:*, keras3:*) get ratios but are never the fastest.",
    "Interference: while a cell trained, its worker sampled the CPU time that processes outside "
    "its own process tree used on the CPUs it was given, the run queue, the load average and, "
    "where the OS reports it, CPU steal. A cell is noisy (†) when others used more than 10% of "
    "its CPUs beyond the measurement's resolution or steal passed 5%, and unstable (⇅) when "
    "its steady epoch times vary by more than 10% of their mean; both are marked in every "
    "table, with the figures in a footnote.",
    "Repeats: each repeat is a fresh process with its own seed for the order of the batches "
    "and for dropout (the run's --seed plus the repeat number), from the same initial weights; "
    "the backend order rotates from one repeat to the next.",
    "Cost of the abstraction: a reference lane trains the same model from the same weights on "
    "the same batches in the same fit loop as its adapter, with only the step replaced (the "
    "framework used directly, or the model built in Keras 3), so adapter / lane throughput is "
    "the cost of benchbench's layer.",
    "Efficiency: FLOPs per training sample are counted from the model definition (matmuls and "
    "convolutions, 2 per multiply-add, plus bias adds; the backward pass adds the gradients of "
    "the weights and, except where a layer is fed by data, of its inputs; activations, "
    "pooling and dropout are not counted). The matmul peak is the best of repeated NumPy "
    "float32 1024×1024 products, measured by the runner before the cells (its BLAS thread cap is "
    "the machine fact gemm_threads; none: the BLAS default).",
)


@dataclasses.dataclass
class Report:
    title: str
    summary: str
    findings: list[Finding]
    tables: dict[str, list[Table]]
    workload_infos: dict[str, dict]
    notices: list[str]
    workload_notes: dict[str, list[str]]
    machines: pd.DataFrame
    versions: pd.DataFrame
    engine_notes: list[str]
    method: list[str]
    baseline: str | None
    data: ReportData


def build(
    data: ReportData,
    title: str | None = None,
    baseline: str | None = None,
    generated: str | None = None,
) -> Report:
    """Assembles a report; `baseline` must be a backend in the results (default: see below).

    Raises:
        UnknownNameError: `baseline` is not a backend of these results.
    """
    baseline = choose_baseline(data, baseline)
    workloads = data.workloads()
    generated = generated or datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    machines = sorted(data.cells["machine"].unique())
    summary = (
        f"{len(data.results)} results from {len(machines)} machine(s) "
        f"({', '.join(machines)}); workloads: {', '.join(workloads)}; generated {generated}."
    )
    return Report(
        title=title or DEFAULT_TITLE,
        summary=summary,
        findings=findings(data),
        tables={w: tables_of(data, w) for w in workloads},
        workload_infos={w: data.workload_info(w) for w in workloads},
        notices=notices(data),
        workload_notes={w: workload_notes(data, w) for w in workloads},
        machines=machines_frame(data),
        versions=versions_frame(data),
        engine_notes=engine_notes(data),
        method=method(data, baseline),
        baseline=baseline,
        data=data,
    )


def notices(data: ReportData) -> list[str]:
    """What a reader must know before the tables: files that could not be read, results left
    out, noisy cells, backends that ran degraded."""
    found = [f"Unreadable result file skipped: {message}" for message in data.skipped]
    if data.superseded:
        found.append(
            f"Left out: {data.superseded} result(s) of earlier runs; where a backend, workload, "
            "device and setting ran more than once on a machine, only the latest run is shown."
        )
    noisy = int(data.cells["noisy"].sum())
    if noisy:
        found.append(
            f"{noisy} of {len(data.cells)} cells were noisy (†): other processes used their "
            "CPUs while they trained; their timings are marked in every table."
        )
    degraded = data.cells[data.cells["degraded"] != ""]
    for (backend, machine), group in degraded.groupby(["backend", "machine"], sort=True):
        found.append(
            f"{backend} ran degraded on {machine} ({MARK_DEGRADED}, {len(group)} cells): "
            f"{group['degraded'].iloc[0]}. Its timings are pessimistic against the others."
        )
    return found


def tables_of(data: ReportData, workload: str) -> list[Table]:
    """Speed, quality (accuracy or loss), the cost of the abstraction, then the detail tables
    (none if no cell of the workload ran)."""
    tables = [
        efficiency.annotate(data, workload, t) if t.name == "throughput" else t
        for t in workload_tables(data, workload)
    ]
    if not tables:
        return []
    return tables[:2] + abstraction_tables(data, workload) + tables[2:]


def choose_baseline(data: ReportData, baseline: str | None) -> str | None:
    """The given backend, else the first benchbench backend (report order) with a timing."""
    names = data.backends()
    if baseline is not None:
        if baseline not in names:
            raise UnknownNameError("baseline backend (not in these results)", baseline, names)
        return baseline
    timed = data.cells[data.cells["epoch_time"].notna()]["backend"].unique()
    own = [b for b in names if b in timed and not data.is_reference(b)]
    return own[0] if own else None


def workload_line(info: dict) -> str:
    parts = [str(info.get("description") or "")]
    if info.get("dataset"):
        parts.append(f"dataset {info['dataset']}")
    if info.get("params"):
        parts.append(f"{info['params']:,} parameters")
    if info.get("batch_size"):
        parts.append(f"batch {info['batch_size']}")
    epochs = (info.get("default") or {}).get("epochs")
    if epochs:
        parts.append(f"default setting {epochs} epochs")
    return " · ".join(p for p in parts if p)


def machines_frame(data: ReportData) -> pd.DataFrame:
    """Rows are environment facts, columns machines.

    A fact that differs between the cells of a machine (say, the thread pools each framework
    loads) reads "varies by backend"; cells that lack it (no worker ran) are not counted.
    Fingerprints and framework versions are per backend: see `versions_frame`.
    """
    columns: dict[str, dict[str, str]] = {}
    by_machine: dict[str, list[dict[str, str]]] = {}
    for r in data.results:
        facts = {k: v for k, v in (r.environment or {}).items() if k not in PER_BACKEND}
        by_machine.setdefault(r.machine, []).append(_flatten(facts))
    for machine, flats in sorted(by_machine.items()):
        keys = sorted(set().union(*flats))
        columns[machine] = {}
        for key in keys:
            values = {flat[key] for flat in flats if key in flat}
            columns[machine][key] = values.pop() if len(values) == 1 else "varies by backend"
    return pd.DataFrame(columns).fillna("—")


def versions_frame(data: ReportData) -> pd.DataFrame:
    """Rows are backends, columns machines: engine and version, fingerprint, non-CPU devices."""
    cells = data.cells
    table: dict[str, dict[str, str]] = {}
    for (backend, machine), group in cells.groupby(["backend", "machine"]):
        pairs = zip(group["engine"], group["version"], strict=True)
        engines = sorted({f"{e} {v}".strip() for e, v in pairs} - {""})
        devices = sorted(set(group.loc[group["device"] != "cpu", "device_name"]) - {""})
        fingerprints = sorted(set(group["fingerprint"]) - {""})
        parts = [", ".join(engines) or "—"]
        if fingerprints:
            parts.append("fingerprint " + ", ".join(fingerprints))
        if devices:
            parts.append(", ".join(devices))
        table.setdefault(machine, {})[row_label(backend, data.engine(backend))] = " · ".join(parts)
    frame = pd.DataFrame(table).fillna("—")
    labels = [row_label(b, data.engine(b)) for b in data.backends()]
    return frame.reindex([label for label in labels if label in frame.index])


def engine_notes(data: ReportData) -> list[str]:
    """One sentence per backend whose engine is not the library its name says."""
    notes = []
    for backend in data.backends():
        engine = data.engine(backend)
        if engine and engine not in backend.split(":"):
            notes.append(
                f"The '{backend}' backend runs on {engine}, not on a library of its name."
            )
    return notes


def method(data: ReportData, baseline: str | None) -> list[str]:
    lines = list(METHOD)
    if baseline:
        lines.append(f"The relative plot shows each backend's time divided by {baseline}'s.")
    if data.superseded:
        lines.append(
            f"{data.superseded} result(s) of earlier runs were left out: where a backend, "
            "workload and device ran more than once on a machine, the latest run is shown."
        )
    lines += [f"Unreadable result file skipped: {message}" for message in data.skipped]
    return lines


def _flatten(facts: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in facts.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = _fact(name, value)
    return flat


def _fact(name: str, value: object) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return "; ".join(_fact(name, item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fact(k, v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.endswith("_bytes") and isinstance(value, int | float):
        return formats.size(value)
    return str(value)
