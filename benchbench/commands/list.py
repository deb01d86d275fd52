"""``benchbench list``: every backend (available or not, and why) and every workload."""

from __future__ import annotations

import argparse
import dataclasses
import json

from benchbench import lanes as lanes_mod
from benchbench import registry, workloads
from benchbench.backend import BackendInfo
from benchbench.commands.run import parse_pythons
from benchbench.isolation import probe_backends

HELP = "list backends (with availability, version, engine, devices) and workloads"

# Devices are those the installed build can use (a CPU-only wheel lists only 'cpu'), as each
# backend answers it in its probe's child process (`benchbench.registry.build_devices`).


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="probe this backend under another interpreter (as `run` would)",
    )


def _profile(profile) -> str:
    text = f"{profile.epochs} epochs"
    if profile.train_samples:
        text += f", {profile.train_samples:,} train samples"
    if profile.test_samples:
        text += f", {profile.test_samples:,} test samples"
    return text


def data_status(workload) -> tuple[bool, str]:
    if workload.data is not None:
        return True, "loaded by the workload itself"
    try:
        from benchbench import datasets
    except ImportError as exc:
        return False, f"benchbench.datasets cannot be imported: {exc}"
    return datasets.availability(workload.dataset)


def workload_rows() -> list[dict]:
    rows = []
    for workload in workloads.discover().values():
        present, where = data_status(workload)
        rows.append(
            {
                "name": workload.name,
                "description": workload.description,
                "dataset": workload.dataset,
                "data_present": present,
                "data": where,
                "params": workload.params,
                "batch_size": workload.batch_size,
                "loss": workload.loss,
                "quality": workload.quality,
                "default": _profile(workload.default),
                "quick": _profile(workload.quick),
                "in_default_run": workload.in_default_run,
            }
        )
    return rows


def lane_probe(name: str, probes: dict[str, dict]) -> dict:
    """A lane's availability, from its framework's probe (already made in a subprocess)."""
    framework = probes[lanes_mod.framework_of(name)]
    fields = {f.name for f in dataclasses.fields(BackendInfo)}
    info = BackendInfo(
        **{k: (tuple(v) if k == "devices" else v) for k, v in framework.items() if k in fields}
    )
    return lanes_mod.probe(name, info).to_dict()


def backend_lines(info: dict) -> list[str]:
    name = info["name"]
    if info["available"]:
        engine = info.get("engine") or name
        devices = ", ".join(info.get("devices") or [])
        lines = [
            f"  {name:<21} available    {engine} {info.get('version', '')} (devices: {devices})"
        ]
        if info.get("warning"):
            lines.append(f"  {'':<21}              warning: {info['warning']}")
        return lines
    return [
        f"  {name:<21} unavailable  {info.get('reason', '')}",
        f"  {'':<21}              remedy: {info.get('remedy', '')}",
    ]


def workload_lines(row: dict) -> list[str]:
    data = "present" if row["data_present"] else "MISSING"
    return [
        f"  {row['name']:<14} {row['description']}",
        f"  {'':<14} dataset {row['dataset']} ({data}: {row['data']})",
        f"  {'':<14} {row['params']:,} params, batch {row['batch_size']}, {row['loss']}"
        + ("" if row["quality"] == "val_accuracy" else f", judged on {row['quality']}"),
        f"  {'':<14} default (run's default): {row['default']}; --quick: {row['quick']}",
        *(
            []
            if row["in_default_run"]
            else [f"  {'':<14} left out of a run without --workload (long): --workload all"]
        ),
    ]


def run(args: argparse.Namespace) -> int:
    pythons = parse_pythons(args.python)
    probes = probe_backends(registry.backend_names(), pythons)
    lanes = [
        lane_probe(name, probes)
        for name in registry.lane_names()
        if lanes_mod.framework_of(name) in probes
    ]
    rows = workload_rows()
    if args.json:
        print(
            json.dumps(
                {"backends": list(probes.values()), "lanes": lanes, "workloads": rows}, indent=2
            )
        )
        return 0
    print("Backends:")
    for info in probes.values():
        print("\n".join(backend_lines(info)))
    print("\nReference lanes (run with --backend refs or by name; see benchbench.lanes):")
    for info in lanes:
        print("\n".join(backend_lines(info)))
    print("\nWorkloads:")
    for row in rows:
        print("\n".join(workload_lines(row)))
    return 0
