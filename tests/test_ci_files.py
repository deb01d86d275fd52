"""The CI files name things that exist: nox sessions, benchbench commands, the benchmark suite."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchbench import cli, registry

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SESSIONS = [
    "tests",
    "tests-torch",
    "tests-tensorflow",
    "tests-theano",
    "tests-jax",
    "lint",
    "bench",
    "baseline",
    "regression",
    "report",
]
NOX_SESSION = re.compile(r"\bnox\b[^\n]*?(?:-s|--sessions?)\s+(\$\{\{.*?\}\}|[\w.-]+)")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def run_steps(workflow: dict):
    """(job, run text) for every step with a ``run``."""
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                yield job, step["run"]


def named_sessions(workflow: dict) -> set[str]:
    names = set()
    for job, text in run_steps(workflow):
        matrix = job.get("strategy", {}).get("matrix", {})
        for name in NOX_SESSION.findall(text):
            found = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", name)
            names.update(matrix[found[1]] if found else [name])
    return names


@pytest.fixture(scope="module")
def nox_sessions() -> list[str]:
    if importlib.util.find_spec("nox") is None:
        pytest.skip("nox is not installed (pip install 'benchbench[dev]')")
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "-f", str(ROOT / "noxfile.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return re.findall(r"^[*-] (\S+) ->", proc.stdout, flags=re.M)


def test_there_are_the_two_workflows():
    assert [p.name for p in WORKFLOWS] == ["regression.yml", "tests.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_a_workflow_parses_and_every_job_has_steps(path):
    workflow = load(path)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers and workflow["jobs"]
    for name, job in workflow["jobs"].items():
        assert job.get("runs-on") and job.get("steps"), name


def test_nox_lists_the_sessions(nox_sessions):
    assert nox_sessions == SESSIONS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_name_nox_sessions_that_exist(path, nox_sessions):
    named = named_sessions(load(path))
    assert named, "the workflow runs no nox session"
    assert named <= set(nox_sessions), named - set(nox_sessions)


def test_the_matrix_has_one_job_per_backend():
    sessions = named_sessions(load(ROOT / ".github" / "workflows" / "tests.yml"))
    assert {"tests", "tests-torch", "tests-tensorflow", "tests-theano", "tests-jax"} <= sessions


def test_benchbench_commands_named_anywhere_exist():
    texts = [
        p.read_text() for p in [*WORKFLOWS, ROOT / "noxfile.py", ROOT / "baselines" / "README.md"]
    ]
    named = {m for text in texts for m in re.findall(r"-m benchbench (\w+)", text)}
    named |= set(re.findall(r'"benchbench",\s*"(\w+)"', (ROOT / "noxfile.py").read_text()))
    assert {"run", "check", "report", "export"} <= named
    assert named <= set(cli.COMMANDS)
    parser_commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert named <= set(parser_commands), named - set(parser_commands)


def test_the_regression_job_checks_against_a_cached_baseline_of_the_base_branch():
    workflow = load(ROOT / ".github" / "workflows" / "regression.yml")
    steps = workflow["jobs"]["check"]["steps"]
    restore = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert "github.base_ref" in restore["with"]["key"]
    assert restore["with"]["path"] == workflow["env"]["BENCHBENCH_BASELINE"]
    runs = "\n".join(text for _, text in run_steps(workflow))
    assert "nox -s regression -- --markdown check-summary.md" in runs
    assert "$GITHUB_STEP_SUMMARY" in runs
    for backend in workflow["env"]["BENCH_BACKENDS"].split(","):
        registry.check_name(backend)


def test_the_benchmark_suite_runs_one_step(tmp_path):
    pytest.importorskip("pytest_benchmark")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks/",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
            "-k",
            "numpy-digits_mlp",
            "--rootdir",
            str(ROOT),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BENCHBENCH_BENCH_BACKENDS": "numpy"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
