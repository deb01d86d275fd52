"""CNTK: known to the registry, reported unavailable where it cannot be imported.

CNTK's last release (2.7.post2, 2020) ships wheels for CPython 3.5 and 3.6 only, so on any
current Python ``import cntk`` fails. This package never raises from ``probe()``; selecting the
backend raises `benchbench.errors.BackendUnavailable` with the reason and the way out.
"""

from __future__ import annotations

import importlib.util
import sys

from benchbench.backend import BackendBase, BackendInfo, Capabilities
from benchbench.errors import BackendUnavailable

REMEDY = (
    "CNTK 2.7 (its final release) has wheels only for CPython 3.5/3.6 (on Linux also OpenMPI "
    "1.10), and benchbench's worker needs Python >= 3.10, so CNTK cannot be measured here; "
    "compare against published CNTK figures (e.g. Jeong-Yoon Lee's 2017 Keras backend tables)"
)


def _reason() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if importlib.util.find_spec("cntk") is None:
        return f"the 'cntk' package is not installed, and it cannot be on Python {version}"
    try:
        import cntk  # noqa: F401
    except Exception as exc:  # a broken install must not crash the probe
        return f"'import cntk' fails: {type(exc).__name__}: {exc}"
    return "a CNTK adapter is not implemented in this version of benchbench"


def probe() -> BackendInfo:
    return BackendInfo(
        name="cntk",
        available=False,
        engine="cntk",
        reason=_reason(),
        remedy=REMEDY,
        devices=("cpu", "gpu"),
    )


class Backend(BackendBase):
    name = "cntk"
    capabilities = Capabilities(devices=("cpu", "gpu"), engine="cntk")

    def __init__(self, *args, **kwargs):
        raise BackendUnavailable("cntk", _reason(), REMEDY)
