"""`benchbench export --format pytest-benchmark`: the file pytest-benchmark's own tools read."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys

import pytest

from benchbench import cli, results
from benchbench.pytest_benchmark_format import export, stats
from benchbench.results import CellResult, CellSpec, Memory, Timing

STEP_TIMES = (0.0101, 0.0098, 0.0104, 0.0099, 0.0131)


def cell(
    workload="digits_mlp", backend="numpy", repeat=0, step=0.01, status="ok", device="cpu"
) -> CellResult:
    spec = CellSpec(backend=backend, workload=workload, device=device, repeat=repeat)
    if status != "ok":
        return CellResult(spec, status, machine="box", run_id="r1", reason="crashed")
    timing = Timing(
        first_epoch_time=step * 40,
        steady_epoch_times=[step * 10, step * 11],
        epoch_time=step * 10.5,
        step_time_median=step,
        step_time_p90=step * 1.2,
        throughput=1000 / step,
        setup_time=0.5,
        samples_per_epoch=1000,
    )
    return CellResult(
        spec,
        "ok",
        machine="box",
        run_id="r1",
        timing=timing,
        memory=Memory(2**28),
        finished_at=f"2026-01-0{repeat + 1}T00:00:00",
        environment={
            "fingerprint": "f",
            "python": "3.11.7",
            "os": "Linux-6.1",
            "cpu_model": "Some CPU",
            "hostname": "box",
            "git": {"commit": "abc123", "dirty": True},
        },
    )


@pytest.fixture
def run_dir(tmp_path):
    for backend in ("numpy", "torch"):
        for r, step in enumerate(STEP_TIMES):
            results.write_result(tmp_path / "run", cell(backend=backend, repeat=r, step=step))
    results.write_result(tmp_path / "run", cell("mnist1d_cnn", status="failed"))
    return tmp_path / "run"


@pytest.mark.parametrize("n", range(1, 10))
def test_stats_are_computed_as_pytest_benchmark_computes_them(n):
    pb_stats = pytest.importorskip("pytest_benchmark.stats")
    pb_version = importlib.metadata.version("pytest-benchmark")
    data = [0.01 * (1 + ((i * 7) % 5) / 10) for i in range(n)] + [0.05] * (n > 4)
    theirs = pb_stats.Stats()
    for value in data:
        theirs.update(value)
    ours = stats(data)
    assert set(ours) == set(theirs.fields) | {"data", "iterations"}
    # pytest-benchmark < 5.3 returned the first datum above Q3 + 1.5 IQR as hd15iqr.
    fixed = tuple(map(int, pb_version.split(".")[:2])) >= (5, 3)
    for field in theirs.fields:
        if field != "hd15iqr" or fixed:
            assert ours[field] == pytest.approx(getattr(theirs, field)), field
    fence = ours["q3"] + 1.5 * ours["iqr"]
    assert ours["hd15iqr"] == max(v for v in data if v <= fence)
    assert ours["ld15iqr"] == min(v for v in data if v >= ours["q1"] - 1.5 * ours["iqr"])


def test_one_benchmark_per_cell_named_like_the_suite(run_dir):
    data = export(results.load_results([run_dir]))
    assert set(data) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    assert [b["name"] for b in data["benchmarks"]] == [
        "test_train_step[numpy-digits_mlp]",
        "test_train_step[torch-digits_mlp]",
    ]
    bench = data["benchmarks"][0]
    assert bench["fullname"] == "benchmarks/test_train_step.py::test_train_step[numpy-digits_mlp]"
    assert bench["params"] == {"backend": "numpy", "workload": "digits_mlp"}
    assert bench["group"] == "digits_mlp"
    assert bench["stats"]["data"] == list(STEP_TIMES) and bench["stats"]["rounds"] == 5
    assert bench["stats"]["median"] == pytest.approx(0.0101)
    assert data["machine_info"]["python_version"] == "3.11.7"
    assert data["machine_info"]["system"] == "Linux-6.1"
    assert data["machine_info"]["cpu"]["brand_raw"] == "Some CPU"
    assert data["commit_info"]["id"] == "abc123" and data["commit_info"]["dirty"] is True
    assert data["datetime"] == "2026-01-05T00:00:00"


def test_epoch_time_rounds_are_every_steady_epoch(run_dir):
    bench = export(results.load_results([run_dir]), "epoch_time")["benchmarks"][0]
    assert (
        bench["stats"]["rounds"] == 10
        and bench["name"] == "benchbench_epoch_time[numpy-digits_mlp]"
    )


def test_a_gpu_cell_carries_its_device():
    data = export([cell(backend="jax", device="gpu")])
    assert data["benchmarks"][0]["param"] == "jax-digits_mlp-gpu"


def test_the_command_writes_a_file_and_reports_errors(run_dir, tmp_path, capsys):
    out = tmp_path / "export.json"
    code = cli.main(["export", "--format", "pytest-benchmark", str(run_dir), "-o", str(out)])
    assert code == 0 and len(json.loads(out.read_text())["benchmarks"]) == 2
    assert cli.main(["export", str(tmp_path / "nowhere")]) == 2
    assert "no results at" in capsys.readouterr().err
    failed = tmp_path / "failed"
    results.write_result(failed, cell(status="failed"))
    assert cli.main(["export", str(failed)]) == 2
    assert "no successful cells" in capsys.readouterr().err


def test_pytest_benchmarks_loader_reads_the_export(run_dir, tmp_path):
    file_storage = pytest.importorskip("pytest_benchmark.storage.file")
    out = tmp_path / "store" / "0001_benchbench.json"
    assert cli.main(["export", str(run_dir), "-o", str(out)]) == 0

    class Logger:
        def warning(self, text):
            raise AssertionError(text)

    storage = file_storage.FileStorage(tmp_path / "store", logger=Logger())
    loaded = list(storage.load_benchmarks(str(out)))
    assert [b["name"] for b in loaded] == [
        "test_train_step[numpy-digits_mlp]",
        "test_train_step[torch-digits_mlp]",
    ]
    assert loaded[0]["median"] == pytest.approx(0.0101)


def test_pytest_benchmark_compare_accepts_the_export(run_dir, tmp_path):
    pytest.importorskip("pytest_benchmark")
    out = tmp_path / "0001_benchbench.json"
    assert cli.main(["export", str(run_dir), "-o", str(out)]) == 0
    exe = shutil.which("pytest-benchmark")
    command = [exe] if exe else [sys.executable, "-m", "pytest_benchmark"]
    proc = subprocess.run(
        [*command, "compare", str(out), "--columns", "min,median,max"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Failed to load" not in proc.stdout + proc.stderr
    assert "test_train_step[numpy-digits_mlp]" in proc.stdout
    assert "test_train_step[torch-digits_mlp]" in proc.stdout
