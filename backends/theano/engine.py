"""Which library serves 'theano', configured before it is imported, and the few calls that differ.

The legacy ``theano`` package is used if it imports; on current Pythons it does not (1.0.5 does
not build on 3.11), so PyTensor, its maintained fork, serves the name. Everything else in this
adapter is written against ``T`` (``theano.tensor`` or ``pytensor.tensor``), which share names.

Importing this module imports the engine, so the compile-cache flags are set first: the user's
``PYTENSOR_FLAGS``/``THEANO_FLAGS`` win; otherwise ``$BENCHBENCH_PYTENSOR_COMPILEDIR`` becomes
``base_compiledir``, so a CI cache can keep compiled graphs between runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import warnings

import numpy as np

COMPILEDIR_ENV = "BENCHBENCH_PYTENSOR_COMPILEDIR"
MODE_ENV = "BENCHBENCH_PYTENSOR_MODE"
_FLAG_VARS = {"pytensor": "PYTENSOR_FLAGS", "theano": "THEANO_FLAGS"}
_USER_FLAGS = {var: os.environ.get(var, "") for var in _FLAG_VARS.values()}


def configure_flags(module: str) -> None:
    """Points the engine's compile cache at ``$BENCHBENCH_PYTENSOR_COMPILEDIR`` unless the user's
    own flags already choose one. Has no effect once the engine has been imported."""
    directory = os.environ.get(COMPILEDIR_ENV)
    var = _FLAG_VARS[module]
    flags = os.environ.get(var, "")
    if not directory or "compiledir" in flags:
        return
    entry = f"base_compiledir={os.path.abspath(os.path.expanduser(directory))}"
    os.environ[var] = f"{flags},{entry}" if flags else entry


def _import_engine():
    """Returns (name, module): legacy theano if it imports, else PyTensor."""
    # an already imported PyTensor wins: it is the one in use
    if "pytensor" not in sys.modules and importlib.util.find_spec("theano") is not None:
        configure_flags("theano")
        try:
            import theano

            return "theano", theano
        except Exception:  # noqa: BLE001 - any failure (missing, broken build) means PyTensor
            pass
    configure_flags("pytensor")
    import pytensor

    return "pytensor", pytensor


def _check_compiledir() -> None:
    wanted = os.environ.get(COMPILEDIR_ENV)
    if "compiledir" in _USER_FLAGS[_FLAG_VARS[ENGINE]]:
        return  # the user's choice, as documented
    if wanted and os.path.abspath(os.path.expanduser(wanted)) != str(config.base_compiledir):
        warnings.warn(
            f"{ENGINE} uses the compile cache {config.base_compiledir}, not "
            f"${COMPILEDIR_ENV}={wanted}: it was imported before benchbench could "
            "set it",
            stacklevel=3,
        )


ENGINE, lib = _import_engine()
T = lib.tensor
config = lib.config
function, shared, grad = lib.function, lib.shared, lib.grad
VERSION = getattr(lib, "__version__", "")
PYTENSOR = ENGINE == "pytensor"
_check_compiledir()
SharedVariable = lib.compile.sharedvalue.SharedVariable

abs_, sigmoid = (T.abs, T.sigmoid) if PYTENSOR else (T.abs_, T.nnet.sigmoid)


def _shifted(x, axis):
    # the max only stabilises: no gradient flows through it (it would cancel out anyway)
    return x - lib.gradient.disconnected_grad(T.max(x, axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """Softmax from elementwise ops and reductions, which run as compiled C: PyTensor 3's
    Softmax/LogSoftmax ops run their inner graphs from Python in the C VM (~0.3 ms a call)."""
    e = T.exp(_shifted(x, axis))
    return e / T.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    shifted = _shifted(x, axis)
    return shifted - T.log(T.sum(T.exp(shifted), axis=axis, keepdims=True))


@contextlib.contextmanager
def float32_graphs(mode=None):
    """Context for building graphs: Python floats become float32 constants (floatX), as NumPy's
    weak scalars do in the reference; otherwise ``x + 1e-7`` would silently upcast to float64.
    `mode` is the mode the graph will be compiled in; the ``scan`` loops built meanwhile compile
    their inner graphs in it too (left to itself, scan compiles them in a C VM mode of its own,
    with every fast_run rewrite, `EXCLUDED_REWRITES` included)."""
    _graph_modes.append(mode)
    try:
        with config.change_flags(floatX="float32"):
            yield
    finally:
        _graph_modes.pop()


_graph_modes: list = []


def input_var(dtype, shape, name=None):
    """A symbolic input; None in `shape` is a dimension of any length (the batch)."""
    if PYTENSOR:
        return T.tensor(name=name, dtype=str(np.dtype(dtype)), shape=tuple(shape))
    broadcastable = tuple(d == 1 for d in shape)
    return T.TensorType(str(np.dtype(dtype)), broadcastable)(name)


def shared_variable(value: np.ndarray, name: str):
    if PYTENSOR:  # a static shape lets conv and pool read kernel sizes from the graph
        return shared(value, name=name, shape=value.shape)
    return shared(value, name=name)


def uniform(shape, dtype, seed):
    """Returns ``(draw, update)``: uniform [0, 1) numbers and the (rng, next_rng) pair that a
    compiled function must apply so the next call draws new ones (None: the engine applies it
    itself through the rng's default update)."""
    if PYTENSOR and hasattr(T.random, "shared_rng"):
        rng = T.random.shared_rng(seed=seed)
        next_rng, draw = rng.uniform(size=shape, dtype=dtype)
        return draw, (rng, next_rng)
    if PYTENSOR:  # PyTensor < 3 has no shared_rng; RandomStream sets default updates
        from pytensor.tensor.random.utils import RandomStream

        return RandomStream(seed).uniform(size=shape, dtype=dtype), None
    from theano.tensor.shared_randomstreams import RandomStreams

    return RandomStreams(seed).uniform(size=shape, dtype=dtype), None


def scan(fn, sequences, outputs_info, non_sequences) -> list:
    """``scan`` returning the list of its outputs (each stacked over the steps), its inner graph
    compiled in the mode of the graph being built (see `float32_graphs`)."""
    kwargs = {"return_updates": False} if PYTENSOR else {}
    mode = _graph_modes[-1] if _graph_modes else None
    outputs = lib.scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        mode=mode,
        strict=True,
        **kwargs,
    )
    if not PYTENSOR:
        outputs = outputs[0]
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def step_mode():
    """The mode train, test and predict steps are compiled in (recorded by ``info()``).

    The default is the optimised C mode: fast_run rewrites and the C virtual machine ('CVM';
    legacy Theano's FAST_RUN). PyTensor 3's own default linker is Numba, whose first, uncached
    compile of a small CNN's train step takes many minutes; ``$BENCHBENCH_PYTENSOR_MODE`` picks
    another predefined mode (e.g. NUMBA, FAST_RUN) and a mode or linker in the user's
    ``PYTENSOR_FLAGS`` leaves the choice to the engine.
    """
    chosen = os.environ.get(MODE_ENV)
    if chosen:
        return chosen
    flags = os.environ.get(_FLAG_VARS[ENGINE], "")
    if "mode=" in flags or "linker=" in flags:
        return None  # the engine's default mode follows the user's flags
    return "CVM" if PYTENSOR else "FAST_RUN"


def eval_mode():
    """The mode of one-off evaluation (op tests): the same rewrites, but ops run their Python
    implementations, so nothing is compiled to machine code for a function used once. A virtual
    machine runs them (not the plain 'py' linker, which ``scan`` cannot run its loop in)."""
    if not PYTENSOR:
        return lib.compile.mode.Mode(linker="py", optimizer="fast_run")
    from pytensor.link.vm import VMLinker

    linker = VMLinker(use_cloop=False, c_thunks=False)
    return lib.compile.mode.Mode(linker=linker, optimizer="fast_run")


#: Graph rewrites the step modes leave out. ``local_dot22_to_dot22scalar`` folds a scalar factor
#: into a matrix product without checking the product's other users, so a gradient that an
#: update rule scales by two constants (RMSprop: ``lr * g`` and ``(1 - rho) * g * g``) is
#: computed by three matrix products instead of one. Leaving it out lets the scale fuse into the
#: elementwise update instead: mnist_mlp's train step went from 18.6 to 12.5 ms on 2 threads.
EXCLUDED_REWRITES = ("local_dot22_to_dot22scalar",)


def compile_mode(name):
    """The mode object steps are compiled with: the named mode (None: the engine's default)
    without `EXCLUDED_REWRITES`."""
    mode = lib.compile.mode.get_mode(name) if name else lib.compile.mode.get_default_mode()
    return mode.excluding(*EXCLUDED_REWRITES)


def describe_mode(name) -> str:
    resolved = compile_mode(name)
    excluded = ", ".join(EXCLUDED_REWRITES)
    return f"{name or config.mode} (linker {type(resolved.linker).__name__}; without {excluded})"
