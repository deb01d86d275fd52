"""Device, seeding, threads, conversion, variables and one-off compiled evaluation."""

from __future__ import annotations

import os
import platform
import weakref

import numpy as np

from backends.theano import engine, nn
from backends.theano.engine import T
from benchbench.errors import DeviceUnavailable

SERVED_BY = (
    "the 'theano' backend is served by PyTensor, the maintained fork of Theano (the "
    "legacy 'theano' package is not importable here)"
)


def _gpu_reason() -> str | None:
    """Why the engine cannot use a GPU here (None: it can)."""
    if engine.PYTENSOR:
        return (
            f"PyTensor {engine.VERSION} has no GPU backend (Theano's libgpuarray backend was "
            "removed); the 'theano' backend runs on the CPU only"
        )
    if str(engine.config.device).startswith(("cuda", "gpu")):
        return None
    return "Theano was not started on a GPU: set THEANO_FLAGS=device=cuda before it is imported"


def _limit_threads(threads: int) -> None:
    # PyTensor's own loops are single-threaded; the BLAS (the linked one, and NumPy's) is what
    # uses cores. The linked OpenBLAS reads its variable when the first compiled step loads it.
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads)


class Core:
    def setup(self, device, seed, threads):
        if device not in ("cpu", "gpu"):
            raise DeviceUnavailable("theano", device, "expected 'cpu' or 'gpu'")
        reason = _gpu_reason() if device == "gpu" else None
        if reason:
            raise DeviceUnavailable("theano", device, reason)
        nn.set_seed(seed)
        if threads:
            _limit_threads(threads)
        self.mode_name = engine.step_mode()
        self.mode = engine.compile_mode(self.mode_name)
        self.eval_mode = engine.eval_mode()
        # kind -> fn -> {input signature: compiled}; weak, since op tests pass fresh lambdas
        self._compiled = {
            "value": weakref.WeakKeyDictionary(),
            "grad": weakref.WeakKeyDictionary(),
        }

    def info(self) -> dict:
        return {
            "engine": engine.ENGINE,
            "version": engine.VERSION,
            "served_by": SERVED_BY if engine.PYTENSOR else "legacy Theano",
            "device": self.device,
            "device_name": platform.processor() or platform.machine(),
            "threads": self.threads or os.environ.get("OMP_NUM_THREADS", ""),
            "mode": engine.describe_mode(self.mode_name),
            "compiledir": str(engine.config.compiledir),
            "base_compiledir": str(engine.config.base_compiledir),
            "blas_ldflags": str(getattr(engine.config, "blas__ldflags", "")),
            **engine.blas_info(),
        }

    def synchronize(self):
        """Nothing to wait for: compiled functions run synchronously on the CPU."""

    def convert(self, array):
        return T.constant(np.asarray(array))

    def to_numpy(self, tensor):
        if isinstance(tensor, engine.SharedVariable):
            return tensor.get_value()
        if isinstance(tensor, T.TensorConstant):
            return np.asarray(tensor.data)
        return np.asarray(self._compile([], tensor)())

    def variable(self, value, name):
        return engine.shared_variable(np.array(value, dtype=np.float32), name)

    def get_value(self, var):
        return var.get_value(borrow=False)

    def set_value(self, var, value):
        var.set_value(np.array(value, dtype=np.float32))

    def _compile(self, inputs, outputs, updates=()):
        updates = list(updates) + nn.take_rng_updates()
        return engine.function(
            inputs, outputs, updates=updates, mode=self.eval_mode, on_unused_input="ignore"
        )

    def _cached(self, kind, fn, arrays, build):
        """The compiled function for `fn` on arrays of these shapes and dtypes (built once)."""
        signature = tuple((a.shape, a.dtype.str) for a in arrays)
        try:
            table = self._compiled[kind].setdefault(fn, {})
        except TypeError:  # not weak-referenceable: compile every time
            table = {}
        if signature not in table:
            inputs = [engine.input_var(a.dtype, a.shape) for a in arrays]
            with engine.float32_graphs(self.eval_mode):
                table[signature] = build(inputs)
        return table[signature]

    def evaluate(self, fn, *arrays):
        arrays = [np.asarray(a) for a in arrays]
        compiled = self._cached(
            "value", fn, arrays, lambda inputs: self._compile(inputs, fn(*inputs))
        )
        return np.asarray(compiled(*arrays))

    def value_and_grad(self, fn, *arrays):
        arrays = [np.asarray(a) for a in arrays]

        def build(inputs):
            out = fn(*inputs)
            grads = engine.grad(out, inputs, disconnected_inputs="ignore")
            return self._compile(inputs, [out, *grads])

        value, *grads = self._cached("grad", fn, arrays, build)(*arrays)
        return float(value), [np.asarray(g) for g in grads]
