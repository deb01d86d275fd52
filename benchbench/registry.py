"""The backend registry: known names, cheap availability probes, lazy selection.

Nothing here imports a framework until `get_backend` is called for it. Probing uses the
adapter's own ``probe()``, which checks importability without building anything.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

from benchbench import lanes
from benchbench.backend import BackendBase, BackendInfo
from benchbench.errors import BackendUnavailable, BenchbenchError, UnknownNameError

#: Registry name -> the adapter package. Order is the order of reports and of ``--backend all``.
BACKENDS: dict[str, str] = {
    "tensorflow": "backends.tensorflow",
    "theano": "backends.theano",
    "cntk": "backends.cntk",
    "torch": "backends.torch",
    "jax": "backends.jax",
    "numpy": "backends.numpy",
}

ENV_VAR = "BENCHBENCH_BACKEND"
DEFAULT_BACKEND = "numpy"

#: Extra backends, ``name=package[,name=package...]``, added after the built-in ones (an
#: out-of-tree adapter, or the fake backends the runner's tests use). Read on every lookup.
MODULES_ENV_VAR = "BENCHBENCH_BACKEND_MODULES"


def backend_modules() -> dict[str, str]:
    """Registry name -> adapter package: `BACKENDS` plus ``$BENCHBENCH_BACKEND_MODULES``."""
    modules = dict(BACKENDS)
    for item in filter(None, (s.strip() for s in os.environ.get(MODULES_ENV_VAR, "").split(","))):
        name, sep, package = (part.strip() for part in item.partition("="))
        if not (sep and name and package):
            raise BenchbenchError(
                f"${MODULES_ENV_VAR}: got {item!r}; expected NAME=PACKAGE entries separated by "
                "commas, e.g. 'mine=my_adapters.mine'"
            )
        modules[name] = package
    return modules


def backend_names() -> list[str]:
    """Every backend name benchbench knows, available here or not."""
    return list(backend_modules())


def lane_names() -> list[str]:
    """The reference lanes (``native:*``, ``keras3:*``); see `benchbench.lanes`."""
    return list(lanes.LANES)


def check_name(name: str) -> str:
    """Returns `name` if it is a known backend or lane; raises `UnknownNameError` if not."""
    modules = backend_modules()
    if name not in modules and not lanes.is_lane(name):
        raise UnknownNameError("backend", name, [*modules, *lanes.LANES])
    return name


def probe(name: str) -> BackendInfo:
    """Reports whether a backend can be used here, never raising for an unavailable one."""
    if lanes.is_lane(check_name(name)):
        return lanes.probe(name, probe(lanes.framework_of(name)))
    module = importlib.import_module(backend_modules()[name])
    return module.probe()


def build_devices(name: str) -> tuple[str, ...]:
    """The device kinds the installed build of a backend can use (a CPU-only wheel: 'cpu').

    Asks the adapter's optional ``build_devices()``, which may import its framework (so call this
    in a child process, as ``benchbench list`` does); without one, or for an unavailable
    backend, the probe's devices. A reference lane can use what its framework's build can.
    """
    info = probe(name)
    if not info.available:
        return info.devices
    framework = lanes.framework_of(name) if lanes.is_lane(name) else name
    module = importlib.import_module(backend_modules()[framework])
    ask = getattr(module, "build_devices", None)
    if ask is None:
        return info.devices
    usable = set(ask())
    return tuple(d for d in info.devices if d in usable)


def available_backends() -> list[str]:
    return [name for name in backend_names() if probe(name).available]


def get_backend(
    name: str | None = None, device: str = "cpu", seed: int = 0, threads: int | None = None
) -> BackendBase:
    """Selects a backend by name and returns a ready instance.

    Args:
        name: a registry name; defaults to ``$BENCHBENCH_BACKEND``, then 'numpy'.
        device: 'cpu' or 'gpu'.
        seed: seed for the framework's generators.
        threads: CPU threads the framework may use (None: its default).

    Raises:
        UnknownNameError: the name is not a known backend (the message lists them).
            A reference lane's name gives its framework's adapter (see `benchbench.lanes`).
        BackendUnavailable: the backend is known but cannot run here (with reason and remedy).
        DeviceUnavailable: the device cannot be used by this backend here.
    """
    name = check_name(name or os.environ.get(ENV_VAR) or DEFAULT_BACKEND)
    info = probe(name)
    if not info.available:
        raise BackendUnavailable(name, info.reason, info.remedy)
    if lanes.is_lane(name):  # a lane trains on its framework's adapter, then swaps the steps
        name = lanes.framework_of(name)
    module = importlib.import_module(backend_modules()[name])
    return module.Backend(device=device, seed=seed, threads=threads)


_default: BackendBase | None = None


def set_backend(
    name: str, device: str = "cpu", seed: int = 0, threads: int | None = None
) -> BackendBase:
    """Selects the process's default backend, used by `compile` when none is given."""
    global _default
    _default = get_backend(name, device=device, seed=seed, threads=threads)
    return _default


def default_backend() -> BackendBase:
    """The process's default backend: `set_backend`'s, else ``$BENCHBENCH_BACKEND``, else numpy."""
    global _default
    if _default is None:
        _default = get_backend(None)
    return _default


def missing_module_info(
    name: str, module: str, extra: str, engine: str = "", devices: tuple[str, ...] = ("cpu",)
) -> BackendInfo | None:
    """Returns an unavailable `BackendInfo` if `module` cannot be found, else None.

    Used by adapters' ``probe()`` so that the remedy always names the extra to install.
    """
    if importlib.util.find_spec(module) is not None:
        return None
    return BackendInfo(
        name=name,
        available=False,
        engine=engine or module,
        reason=f"the Python package {module!r} is not installed",
        remedy=f"install it with: pip install 'benchbench[{extra}]'",
        devices=devices,
    )
