"""Host and process facts, and the comparability fingerprint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchbench import environment

HOST = {
    "hostname": "a",
    "cpu_model": "Some CPU @ 3.0GHz",
    "cpu_cores_logical": 8,
    "ram_bytes": 16 * 1024**3 + 12345,
    "gpus": [],
    "python": "3.11.7",
}


def test_host_facts_are_plain_json():
    facts = environment.host_facts()
    json.dumps(facts)
    assert facts["cpu_cores_logical"] >= 1 and facts["ram_bytes"] > 0
    assert facts["python"].count(".") == 2 and facts["cpu_model"]
    assert set(facts["git"]) == {"commit", "dirty"}
    assert isinstance(facts["gpus"], list)
    assert isinstance(facts["gemm_gflops"], float) and facts["gemm_gflops"] > 0


def test_gemm_probe_records_its_size_and_thread_cap():
    probe = environment.gemm_gflops(threads=1, size=64, budget=0.01)
    assert probe["gemm_gflops"] > 0 and probe["gemm_size"] == 64
    assert probe["gemm_threads"] in (1, None)  # None: threadpoolctl is not installed
    assert environment.gemm_gflops(size=64, budget=0.01)["gemm_threads"] is None


def test_gemm_probe_failing_records_nothing():
    assert environment.gemm_gflops(size=-1) == {}


def test_fingerprint_ignores_what_does_not_matter():
    base = environment.fingerprint(HOST, {"torch": "2.13"}, 2)
    other_host = {**HOST, "hostname": "b", "python": "3.11.9", "ram_bytes": 16 * 1024**3}
    assert environment.fingerprint(other_host, {"torch": "2.13"}, 2) == base
    measured = {**HOST, "gemm_gflops": 95.0, "gemm_size": 1024, "gemm_threads": 2}
    assert environment.fingerprint(measured, {"torch": "2.13"}, 2) == base
    assert len(base) == 16


def test_fingerprint_changes_with_what_matters():
    base = environment.fingerprint(HOST, {"torch": "2.13"}, 2)
    assert environment.fingerprint(HOST, {"torch": "2.14"}, 2) != base
    assert environment.fingerprint(HOST, {"torch": "2.13"}, 4) != base
    assert environment.fingerprint({**HOST, "python": "3.12.1"}, {"torch": "2.13"}, 2) != base
    assert environment.fingerprint({**HOST, "cpu_model": "X"}, {"torch": "2.13"}, 2) != base
    gpu = {**HOST, "gpus": [{"name": "H100", "driver": "550"}]}
    assert environment.fingerprint(gpu, {"torch": "2.13"}, 2) != base


def test_without_nvidia_smi_there_is_no_gpu(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.gpus() == []


def test_a_failing_command_reads_as_empty(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nexit 9\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.gpus() == []


def test_nvidia_smi_output_is_parsed(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA H200, 570.10, 143771'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.gpus() == [
        {"name": "NVIDIA H200", "driver": "570.10", "memory_bytes": 143771 * 1024**2}
    ]


def test_git_commit_outside_a_checkout_is_empty(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert environment.git_commit() == {"commit": "", "dirty": False}


def test_process_facts_report_thread_variables():
    env = {**os.environ, "OMP_NUM_THREADS": "3"}
    code = "import json, benchbench.environment as e; print(json.dumps(e.process_facts()))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    facts = json.loads(out.stdout)
    assert facts["thread_vars"]["OMP_NUM_THREADS"] == "3"
    assert facts["affinity"] and facts["python"]
