"""Backend selection: names, availability, devices."""

from __future__ import annotations

import pytest

from benchbench import registry
from benchbench.errors import BackendUnavailable, DeviceUnavailable, UnknownNameError


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        registry.get_backend("caffe")
    message = str(info.value)
    for name in ("tensorflow", "theano", "cntk", "torch", "jax", "numpy"):
        assert name in message


def test_cntk_is_known_and_unavailable_with_reason_and_remedy():
    info = registry.probe("cntk")
    assert not info.available
    assert "3.5/3.6" in info.remedy and "Python 3." in info.reason
    with pytest.raises(BackendUnavailable, match="cntk.*unavailable.*3.5/3.6"):
        registry.get_backend("cntk")


def test_probe_never_raises_for_any_known_backend():
    for name in registry.backend_names():
        info = registry.probe(name)
        assert info.name == name
        assert info.available or (info.reason and info.remedy)


def test_environment_variable_selects_the_default(monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, "numpy")
    assert registry.get_backend().name == "numpy"
    monkeypatch.setenv(registry.ENV_VAR, "nope")
    with pytest.raises(UnknownNameError):
        registry.get_backend()


def test_gpu_is_refused_clearly_where_there_is_none(backend):
    if "gpu" not in backend.capabilities.devices:
        with pytest.raises(DeviceUnavailable):
            type(backend)(device="gpu")
        return
    try:
        gpu = type(backend)(device="gpu")
    except DeviceUnavailable as exc:
        assert "gpu" in str(exc)
    else:
        assert gpu.device == "gpu"


def test_selecting_a_backend_imports_no_other_framework():
    import subprocess
    import sys

    code = (
        "import sys; from benchbench import registry; registry.get_backend('numpy');"
        "import benchbench.models;"
        "print(sorted(m for m in ('torch','tensorflow','jax','pytensor') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
