"""Which library serves 'theano', configured before it is imported, and the few calls that differ.

The legacy ``theano`` package is used if it imports; on current Pythons it does not (1.0.5 does
not build on 3.11), so PyTensor, its maintained fork, serves the name. Everything else in this
adapter is written against ``T`` (``theano.tensor`` or ``pytensor.tensor``), which share names.

Importing this module imports the engine, so the compile-cache and BLAS flags are set first:
the user's ``PYTENSOR_FLAGS``/``THEANO_FLAGS`` win; otherwise ``$BENCHBENCH_PYTENSOR_COMPILEDIR``
becomes ``base_compiledir``, so a CI cache can keep compiled graphs between runs, and PyTensor is
linked against a real BLAS (`blas_flags`).

BLAS: PyTensor installed from pip finds no BLAS to link its C code against; it then runs every
matrix product through NumPy from Python and warns that performance is "severely degraded".
The ``theano`` extra installs ``scipy-openblas32``, the OpenBLAS wheel NumPy and SciPy are built
with (LP64, 32-bit integers, the interface PyTensor's C code calls), whose symbols carry a
``scipy_`` prefix: benchbench links it with ``blas__ldflags`` and maps each BLAS routine name to
its prefixed symbol with ``-D`` defines in ``gcc__cxxflags``. Without it, PyTensor's own search
decides (a conda MKL, a system ``-lblas``, or none). `blas_info` says which one is in use.
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


#: The Fortran BLAS routines (levels 1 to 3) whose names `blas_flags` maps to prefixed symbols.
_BLAS_ROUTINES = (
    "rotg rotmg rot rotm swap scal copy axpy dot dotu dotc nrm2 asum "
    "gemv gbmv hemv hbmv hpmv symv sbmv spmv trmv tbmv tpmv trsv tbsv tpsv "
    "ger geru gerc her hpr her2 hpr2 syr spr syr2 spr2 "
    "gemm symm hemm syrk herk syr2k her2k trmm trsm"
).split()
#: How PyTensor got the BLAS it links, for `blas_info`.
_BLAS_SOURCE = {"source": ""}


def blas_flags() -> dict[str, str]:
    """PyTensor flags linking pip's ``scipy-openblas32`` ({} if it is not installed).

    ``-L<its lib dir> -lscipy_openblas`` (PyTensor adds the rpath) and one define per routine
    name: ``-Dsgemm_=scipy_sgemm_``. The library is not loaded here, so it reads its thread
    count (``OPENBLAS_NUM_THREADS``) when the first compiled step loads it.
    """
    if importlib.util.find_spec("scipy_openblas32") is None:
        return {}
    import scipy_openblas32

    directory, name = scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library()
    defines = [f"-D{p}{r}_=scipy_{p}{r}_" for r in _BLAS_ROUTINES for p in "sdcz"]
    return {
        "blas__ldflags": f"-L{directory} -l{name}",
        "gcc__cxxflags": " ".join(defines),
        "version": f"scipy-openblas32 {scipy_openblas32.__version__}",
    }


def configure_flags(module: str) -> None:
    """Points the engine's compile cache at ``$BENCHBENCH_PYTENSOR_COMPILEDIR`` and links
    `blas_flags`, each unless the user's own flags already choose. Has no effect once the engine
    has been imported."""
    var = _FLAG_VARS[module]
    flags = os.environ.get(var, "")
    entries = [flags] if flags else []
    directory = os.environ.get(COMPILEDIR_ENV)
    if directory and "compiledir" not in flags:
        entries.append(f"base_compiledir={os.path.abspath(os.path.expanduser(directory))}")
    if "blas__ldflags" in flags or "gcc__cxxflags" in flags:
        _BLAS_SOURCE["source"] = f"the user's {var}"
    elif module == "pytensor" and (linked := blas_flags()):
        entries += [f"blas__ldflags={linked['blas__ldflags']}"]
        entries += [f"gcc__cxxflags={linked['gcc__cxxflags']}"]
        _BLAS_SOURCE["source"] = f"{linked['version']}, linked by benchbench"
    else:
        _BLAS_SOURCE["source"] = f"{module}'s own search"
    if entries:
        os.environ[var] = ",".join(entries)


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


def blas_info() -> dict[str, str]:
    """Which BLAS the compiled steps call: ``blas`` (what and from where) and ``degraded`` (why
    matrix products are slow, or '' when a BLAS is linked)."""
    ldflags = str(getattr(config, "blas__ldflags", ""))
    if not ldflags:
        return {
            "blas": f"none ({_BLAS_SOURCE['source']} found no BLAS)",
            "degraded": (
                "no BLAS linked: PyTensor runs matrix products through NumPy from Python; "
                "install scipy-openblas32 (pip install 'benchbench[theano]')"
            ),
        }
    return {"blas": f"{ldflags.split()[-1]} ({_BLAS_SOURCE['source']})", "degraded": ""}


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


#: The C VM's linker is cloned without garbage collection (Theano's documented speed setting,
#: ``allow_gc=False``): a compiled step keeps its intermediate buffers from one call to the next
#: instead of freeing and allocating them around every op. Adapter and native lane alike went
#: 1.3x faster on mnist_cnn's train step and 1.2x on mnist1d_gru's (one process, interleaved), at
#: the cost of holding those buffers between steps.
STEP_LINK_KWARGS = {"allow_gc": False}


def compile_mode(name):
    """The mode object steps are compiled with: the named mode (None: the engine's default)
    without `EXCLUDED_REWRITES`; the default C VM ('CVM') with `STEP_LINK_KWARGS`."""
    mode = lib.compile.mode.get_mode(name) if name else lib.compile.mode.get_default_mode()
    if PYTENSOR and name == "CVM":
        mode = mode.clone(link_kwargs=STEP_LINK_KWARGS)
    return mode.excluding(*EXCLUDED_REWRITES)


def describe_mode(name) -> str:
    resolved = compile_mode(name)
    excluded = ", ".join(EXCLUDED_REWRITES)
    linker = type(resolved.linker).__name__
    if getattr(resolved.linker, "allow_gc", True) is False:
        linker += ", allow_gc=False"
    return f"{name or config.mode} (linker {linker}; without {excluded})"
