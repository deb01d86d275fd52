"""Fake backends for the runner's tests: the NumPy reference backend, misbehaving on purpose.

Each module here is an adapter package as far as the registry is concerned (``probe`` and
``Backend``); tests add them with ``BENCHBENCH_BACKEND_MODULES="hang=tests.fake_backends.hang"``.
The misbehaviour happens inside a training step, so it strikes mid-run, after setup.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from backends.numpy import Backend as NumpyBackend
from benchbench.backend import BackendInfo, Capabilities

#: The step (1-based, counted over the whole fit) at which a variant misbehaves.
TRIGGER_STEP = 3


def fake_backend(name: str, misbehave: Callable[[int], None]):
    """Returns ``(probe, Backend)`` for a NumPy backend that calls ``misbehave(step)`` before
    every training step."""

    def probe() -> BackendInfo:
        return BackendInfo(name=name, available=True, version="0.0", engine="fake-numpy")

    class Backend(NumpyBackend):
        capabilities = Capabilities(devices=("cpu",), engine="fake-numpy")

        def info(self) -> dict:
            return {**super().info(), "engine": "fake-numpy", "version": "0.0"}

        def make_train_step(self, *args, **kwargs):
            step = super().make_train_step(*args, **kwargs)
            counter = itertools.count(1)

            def train_step(x, y):
                misbehave(next(counter))
                return step(x, y)

            return train_step

    Backend.name = name
    return probe, Backend


#: ``$BENCHBENCH_BACKEND_MODULES`` registering every variant under its name.
VARIANTS = ("fake", "slow", "spin", "hang", "crash", "sigkill", "flood", "broken")
MODULES_VALUE = ",".join(
    f"{name}=tests.fake_backends.{'ok' if name == 'fake' else name}" for name in VARIANTS
)
#: The environment a test sets (monkeypatch.setenv) so that workers see fakes only.
ENV = {
    "BENCHBENCH_BACKEND_MODULES": MODULES_VALUE,
    "BENCHBENCH_WORKLOADS_PACKAGE": "tests.fake_workloads",
}
