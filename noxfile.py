"""nox sessions: tests per backend, each in a virtualenv of its own; lint; benchmarks; regression.

    nox -l                     list the sessions
    nox                        lint and tests (the defaults)
    nox -s tests               no framework: the NumPy backend, reports, check
    nox -s tests-torch         one session per backend (torch, tensorflow, theano, jax), each in
                               a virtualenv with only that framework, running the tests
                               parametrised over backends (``pytest -k <backend>``)
    nox -s lint                ruff
    nox -s bench               the quick benchmark matrix into $BENCH_OUT (results/nox-bench)
    nox -s baseline            the same matrix, stored as the baseline ($BENCHBENCH_BASELINE)
    nox -s regression          bench, then ``benchbench check BASELINE CURRENT``: fails on a
                               regression; arguments after ``--`` go to check
    nox -s report              an HTML report of $BENCH_OUT

The benchmark matrix comes from the environment: BENCH_BACKENDS (comma-separated, default
numpy), BENCH_WORKLOADS (default the quick workloads), BENCH_REPEATS (default 5),
BENCH_THREADS (default: the runner's). Pytest arguments go after ``--``:
``nox -s tests -- -x -k check``. TORCH_INDEX_URL picks the wheel index for PyTorch (default
the CPU-only one; empty: PyPI).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

#: backend -> the package extra that installs its framework
BACKEND_EXTRAS = {"torch": "torch", "tensorflow": "tensorflow", "theano": "theano", "jax": "jax"}
TORCH_PIN = "torch==2.13.0"
TORCH_INDEX = os.environ.get("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")

QUICK_WORKLOADS = "digits_mlp,mnist1d_mlp,mnist1d_cnn"
BENCH_OUT = Path(os.environ.get("BENCH_OUT", "results/nox-bench"))
BASELINE = Path(os.environ.get("BENCHBENCH_BASELINE", "baselines/local"))


def install_backends(session: nox.Session, backends: list[str], extras: str) -> None:
    """Installs benchbench with `extras` and the frameworks of `backends` (PyTorch pinned)."""
    if "torch" in backends:
        session.install(TORCH_PIN, *(["--index-url", TORCH_INDEX] if TORCH_INDEX else []))
    names = [BACKEND_EXTRAS[b] for b in backends if b in BACKEND_EXTRAS]
    session.install("-e", f".[{','.join([*names, *extras.split(',')])}]")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite without any framework: the NumPy backend only."""
    install_backends(session, [], "data,report,check,dev")
    session.run("python", "-m", "pytest", *session.posargs)


def backend_tests(backend: str) -> None:
    @nox.session(name=f"tests-{backend}")
    def run_tests(session: nox.Session) -> None:
        install_backends(session, [backend], "data,dev")
        session.run(
            "python",
            "-m",
            "pytest",
            "-k",
            backend,
            *session.posargs,
            env={"BENCHBENCH_BACKEND": backend},
        )

    run_tests.__doc__ = f"The backend-parametrised tests, with only {backend} installed."


for _backend in BACKEND_EXTRAS:
    backend_tests(_backend)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")


def bench_matrix(session: nox.Session, out: Path, success_codes=(0,)) -> None:
    backends = os.environ.get("BENCH_BACKENDS", "numpy").split(",")
    install_backends(session, backends, "data,check")
    if out.exists():
        shutil.rmtree(out)  # one run per directory: check pools every run it finds
    threads = os.environ.get("BENCH_THREADS")
    session.run(
        "python",
        "-m",
        "benchbench",
        "run",
        "--quick",
        "--no-report",
        "--backend",
        ",".join(backends),
        "--workload",
        os.environ.get("BENCH_WORKLOADS", QUICK_WORKLOADS),
        "--repeats",
        os.environ.get("BENCH_REPEATS", "5"),
        "--out",
        str(out),
        *(["--threads", threads] if threads else []),
        success_codes=list(success_codes),
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The quick benchmark matrix, into $BENCH_OUT."""
    bench_matrix(session, BENCH_OUT)


@nox.session
def baseline(session: nox.Session) -> None:
    """The quick benchmark matrix, stored as the baseline that `regression` checks against."""
    bench_matrix(session, BASELINE)
    session.log(f"baseline stored in {BASELINE}")


@nox.session
def regression(session: nox.Session) -> None:
    """Bench, then check against the baseline; arguments after -- go to `benchbench check`."""
    if not BASELINE.exists():
        session.error(
            f"no baseline at {BASELINE}: store one first with 'nox -s baseline' on "
            "the commit to compare against (or set BENCHBENCH_BASELINE)"
        )
    bench_matrix(session, BENCH_OUT, success_codes=(0, 1))  # check reports failed cells
    session.run(
        "python", "-m", "benchbench", "check", str(BASELINE), str(BENCH_OUT), *session.posargs
    )


@nox.session
def report(session: nox.Session) -> None:
    """An HTML report of the latest bench results (arguments after -- go to the command)."""
    install_backends(session, [], "report")
    session.run(
        "python",
        "-m",
        "benchbench",
        "report",
        str(BENCH_OUT),
        *(session.posargs or ["-o", "report.html"]),
    )
