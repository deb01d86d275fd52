"""The backend contract: what every adapter in `backends/<name>/` provides.

The model layer (layers, losses, models, the fit loop) is written once against this contract and
never imports a framework. An adapter is a package with the same modules as every other one:

- ``core.py``: device placement, seeding, conversion to and from NumPy, synchronisation,
  variables, ``value_and_grad`` and ``evaluate`` (used by the op tests).
- ``nn.py``: the tensor ops listed in `OPS` (`benchbench.backend_ops`), as plain functions of
  backend tensors.
- ``rnn.py``: the loop over time, `RNN_OPS`, and any of the fused recurrent ops of
  `FUSED_RNN_OPS` the framework has a kernel for (see "Recurrent layers" below).
- ``trainer.py``: the compiled train step and predict step.
- ``__init__.py``: ``probe() -> BackendInfo`` (cheap, never raises) and ``Backend`` (a subclass of
  `BackendBase`).

Tensors are whatever the framework uses (``torch.Tensor``, ``tf.Tensor``, a JAX array, a PyTensor
variable, the NumPy backend's tape node). Layers only pass them between ops.

Layouts are Keras's: channels-last activations (``NHWC`` / ``NWC``), Dense kernels ``(in, out)``
and convolution kernels ``(k..., in, out)``. An adapter that prefers another layout converts
inside its ops, so weights move between backends unchanged.

Recurrent layers
----------------
SimpleRNN, LSTM and GRU run on one of two paths, as in Keras 3. **Fused**: the adapter's op for
the whole layer (`FUSED_RNN_OPS`, e.g. PyTorch's LSTM kernel, the NumPy reference's written-out
backpropagation through time); an adapter defines only those its framework computes exactly,
and an op raises NotImplementedError for a configuration it does not compute (a
``hard_sigmoid`` gate...), which the layer then runs generically, as it does any layer with
recurrent dropout. **Generic**: the layer projects every step's input in one matrix product
and calls ``rnn`` with its cell's step function, written with `OPS`; the adapter runs the loop
with its framework's own construct (a Python loop, ``lax.scan``, ``tf.while_loop``, ``scan``).

``$BENCHBENCH_RNN`` chooses: 'auto' (the default) takes the fused ops the adapter prefers on
its device (`BackendBase.preferred_fused_rnn`; a fused kernel is not always the faster one),
'fused' every fused op, 'generic' none. ``backend.rnn_path`` may be set before a model's steps
are built; ``rnn_info()`` goes into the results. Both paths are tested against the reference.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from benchbench.backend_ops import (  # noqa: F401 - the ops are part of the contract
    FUSED_RNN_OPS,
    NON_DIFFERENTIABLE_OPS,
    OPS,
    RNN_OPS,
    RNN_PATH_ENV,
    RNN_PATHS,
    Tensor,
    padding_amounts,
    rnn_path_from_env,
)
from benchbench.errors import BenchbenchError


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a backend can do; layers and workloads consult these, never a backend's name.

    Attributes:
        devices: device kinds it can target at all ('cpu', 'gpu'); whether a GPU is present is
            checked when the device is selected.
        compiled_step: the train step is traced/compiled, so the first call includes compile time.
        stateful_rng: dropout draws from a framework-held generator, so the ``rng`` passed to ops
            is ignored (False: the rng argument carries the randomness, as in JAX).
        engine: the library that actually runs (e.g. 'pytensor' behind 'theano').
    """

    devices: tuple[str, ...] = ("cpu",)
    compiled_step: bool = False
    stateful_rng: bool = True
    engine: str = ""


@dataclasses.dataclass(frozen=True)
class BackendInfo:
    """Result of probing a backend without importing its framework for real use.

    Attributes:
        name: registry name.
        available: whether it can be selected here.
        version: version of the engine, if installed.
        engine: the library behind the name.
        reason: why it is unavailable ('' if available).
        remedy: what to do about it ('' if available).
        devices: device kinds the adapter supports.
        reference: True for a reference lane (``native:*``, ``keras3:*``), not an adapter.
        warning: a handicap it would run with here ('' if none), e.g. no BLAS linked; `list`
            shows it, and the results' ``backend_info['degraded']`` says whether a run had it.
    """

    name: str
    available: bool
    version: str = ""
    engine: str = ""
    reason: str = ""
    remedy: str = ""
    devices: tuple[str, ...] = ("cpu",)
    reference: bool = False
    warning: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@runtime_checkable
class TrainStep(Protocol):
    """One optimisation step over one batch, compiled once per model.

    Attributes:
        iterations: steps done so far, a Python int kept on the host (Keras's
            ``optimizer.iterations``; settable, e.g. to resume). Each call computes the rule's
            scalars as ``optimizer.scalars(iterations)`` on the host and feeds them to the step,
            so every backend derives learning rates and bias corrections the same way.
    """

    iterations: int

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Runs forward, backward and the optimizer update on a batch.

        Args:
            x: the input batch as a NumPy array of the model's input dtype: float32, or int32
                token ids for a model fed into an Embedding.
            y: the target batch (float32 one-hot, int labels, or float targets).

        Returns:
            The batch's mean loss and metric as Python floats. Reading them finishes the step's
            device work, so a caller may read a clock right after.
        """


@runtime_checkable
class PredictStep(Protocol):
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Runs the model in inference mode on a batch and returns the output as NumPy."""


class BackendBase:
    """Base class of every adapter's ``Backend``.

    Subclasses set the class attributes and implement the methods below; the ops of `OPS` are
    bound from the adapter's ``nn`` module at construction so that ``K.relu(x)`` works on an
    instance ``K`` exactly like a Keras 2 backend module, and ``K.rnn`` from its ``rnn`` module
    (the sibling of ``nn_module``), whose fused ops `fused_rnn` hands out.

    Args:
        device: 'cpu' or 'gpu'.
        seed: seed for the framework's own random generators (dropout).
        threads: if given, the number of CPU threads the framework may use.

    Raises:
        DeviceUnavailable: the device is not usable with this backend here.
    """

    name: str = ""
    capabilities: Capabilities = Capabilities()
    nn_module: str = ""

    def __init__(self, device: str = "cpu", seed: int = 0, threads: int | None = None):
        nn = importlib.import_module(self.nn_module)
        missing = [op for op in OPS if not hasattr(nn, op)]
        if missing:
            raise BenchbenchError(
                f"backend {self.name!r} does not implement ops {missing} of the contract"
            )
        for op in OPS:
            setattr(self, op, getattr(nn, op))
        rnn = importlib.import_module(self.nn_module.rsplit(".", 1)[0] + ".rnn")
        if not hasattr(rnn, "rnn"):
            raise BenchbenchError(f"backend {self.name!r} does not implement the op 'rnn'")
        self.rnn = rnn.rnn
        self.fused_rnn_ops = {op: getattr(rnn, op) for op in FUSED_RNN_OPS if hasattr(rnn, op)}
        self.rnn_path = rnn_path_from_env()
        self.device = device
        self.seed = seed
        self.threads = threads
        self.setup(device, seed, threads)

    def __repr__(self) -> str:
        return f"<benchbench backend {self.name} on {self.device}>"

    # -- lifecycle -------------------------------------------------------------------------------

    def setup(self, device: str, seed: int, threads: int | None) -> None:
        """Selects the device, seeds the framework and sets its thread count."""
        raise NotImplementedError

    def info(self) -> dict:
        """Returns engine, version and device details for the results' environment record."""
        raise NotImplementedError

    def synchronize(self) -> None:
        """Blocks until all device work queued so far is finished; timers read after this."""

    # -- recurrent layers ------------------------------------------------------------------------

    @property
    def preferred_fused_rnn(self) -> frozenset[str]:
        """The fused ops the 'auto' path takes on this backend's device: by default all of them;
        an adapter leaves out a kernel that is slower than its generic loop there."""
        return frozenset(self.fused_rnn_ops)

    def fused_rnn(self, kind: str) -> Callable[..., Tensor] | None:
        """The fused op `kind` ('lstm', 'gru', 'simple_rnn') the current ``rnn_path`` takes, or
        None: the layer takes the generic path."""
        if self.rnn_path == "generic" or (
            self.rnn_path == "auto" and kind not in self.preferred_fused_rnn
        ):
            return None
        return self.fused_rnn_ops.get(kind)

    def rnn_info(self) -> dict:
        """Which recurrent path this backend takes, for the results' backend info."""
        return {
            "rnn_path": self.rnn_path,
            "fused_rnn_ops": sorted(self.fused_rnn_ops),
            "fused_rnn_preferred": sorted(self.preferred_fused_rnn),
            "fused_rnn_in_use": sorted(k for k in FUSED_RNN_OPS if self.fused_rnn(k)),
        }

    # -- tensors and variables -------------------------------------------------------------------

    def convert(self, array: np.ndarray) -> Tensor:
        """Returns a tensor on this backend's device holding `array` (dtype kept)."""
        raise NotImplementedError

    def to_numpy(self, tensor: Tensor) -> np.ndarray:
        """Returns a tensor's value as a NumPy array (synchronising if needed)."""
        raise NotImplementedError

    def variable(self, value: np.ndarray, name: str) -> Any:
        """Creates a trainable variable initialised to `value` (float32)."""
        raise NotImplementedError

    def get_value(self, var: Any) -> np.ndarray:
        raise NotImplementedError

    def set_value(self, var: Any, value: np.ndarray) -> None:
        raise NotImplementedError

    # -- functions of tensors (op tests and one-off evaluation) ----------------------------------

    def evaluate(self, fn: Callable[..., Tensor], *arrays: np.ndarray) -> np.ndarray:
        """Calls ``fn`` on the arrays converted to tensors and returns its result as NumPy."""
        raise NotImplementedError

    def value_and_grad(
        self, fn: Callable[..., Tensor], *arrays: np.ndarray
    ) -> tuple[float, list[np.ndarray]]:
        """Returns ``fn(*arrays)`` (a scalar) and its gradient with respect to every argument."""
        raise NotImplementedError

    # -- randomness ------------------------------------------------------------------------------

    def step_rng(self, step: Any) -> Any:
        """Returns the rng handed to ``dropout`` at a training step; ``fold_rng`` derives one per
        layer. Backends with ``stateful_rng`` return None."""
        return None

    def fold_rng(self, rng: Any, index: int) -> Any:
        return rng

    # -- compiled programs -----------------------------------------------------------------------

    def make_train_step(
        self,
        forward: Callable[..., Tensor],
        loss: Callable[[Tensor, Tensor], Tensor],
        metric: Callable[[Tensor, Tensor], Tensor] | None,
        optimizer: Any,
        params: Sequence[Any],
    ) -> TrainStep:
        """Builds the compiled training step.

        Args:
            forward: ``forward(params, x, training, rng) -> output``, the model's computation;
                ``params`` are the tensors to use in place of the variables.
            loss: ``loss(y_true, y_pred) -> scalar`` (mean over the batch), written with ops.
            metric: ``metric(y_true, y_pred) -> scalar`` or None.
            optimizer: a `benchbench.optimizers.Optimizer`; the adapter keeps its slots and the
                step counter, and calls its ``update`` with the framework's arithmetic and the
                step's ``scalars`` (see `TrainStep`).
            params: the variables made by `variable`, in model order.

        Returns:
            A `TrainStep`. Variables hold the updated weights after every call.
        """
        raise NotImplementedError

    def make_test_step(
        self,
        forward: Callable[..., Tensor],
        loss: Callable[[Tensor, Tensor], Tensor],
        metric: Callable[[Tensor, Tensor], Tensor] | None,
        params: Sequence[Any],
    ) -> TrainStep:
        """Builds the compiled evaluation step: like the train step, with ``training=False`` and
        no update. Returns the batch's mean loss and metric as Python floats."""
        raise NotImplementedError

    def make_predict_step(
        self, forward: Callable[..., Tensor], params: Sequence[Any]
    ) -> PredictStep:
        """Builds the compiled inference step (``training=False``)."""
        raise NotImplementedError


# -- Keras 2's module-level backend: ``from benchbench import backend as K`` --------------------

from benchbench import keras_backend  # noqa: E402
from benchbench.keras_backend import (  # noqa: E402, F401 - Keras 2's names, re-exported
    EPSILON,
    backend,
    clear_session,
    epsilon,
    floatx,
    image_data_format,
    set_floatx,
    set_image_data_format,
    using,
)


def __getattr__(name: str):
    # PEP 562: K.mean, K.square... for code written against Keras 2's backend module
    if name not in OPS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def op(*args, **kwargs):
        current = keras_backend.active()
        if current is None:
            raise BenchbenchError(
                f"K.{name} was called outside a model's loss or metric; benchbench's backend ops "
                "run on the backend a model is compiled on (use a backend instance's ops "
                "otherwise: registry.get_backend(name)." + name + ")"
            )
        return getattr(current, name)(*args, **kwargs)

    op.__name__ = name
    return op
