"""`Sequential` and functional `Model`: a graph of layers compiled onto one backend.

A model is built (shapes checked, weights initialised in NumPy from its seed) as soon as its
input shape is known, before any backend is involved; `compile` then moves the weights into the
selected backend's variables. Weights are exchanged as NumPy arrays in Keras's layout and order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchbench import losses, registry
from benchbench import optimizers as optimizers_mod
from benchbench.errors import ModelBuildError
from benchbench.layers import Layer, default_name
from benchbench.saving import SavingMixin
from benchbench.training import TrainingMixin

_ids = itertools.count()


class SymbolicTensor:
    """A placeholder for a layer's output in the functional API."""

    def __init__(
        self,
        shape: tuple[int, ...],
        layer: Layer | None,
        inputs: list[SymbolicTensor],
        dtype: str | None = None,
    ):
        self.shape = shape
        self.layer = layer
        self.inputs = inputs
        self.dtype = dtype
        self.id = next(_ids)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={(None, *self.shape)}>"

    @classmethod
    def from_layer_call(cls, layer: Layer, inputs) -> SymbolicTensor:
        many = isinstance(inputs, list | tuple)
        items = list(inputs) if many else [inputs]
        if not all(isinstance(t, SymbolicTensor) for t in items):
            raise TypeError(
                f"layer {layer.name or type(layer).__name__} was called on "
                f"{type(inputs).__name__}; call layers on Input(...) or on another layer's output"
            )
        if layer.merges != many:
            raise ModelBuildError(
                f"layer {type(layer).__name__} takes "
                f"{'a list of tensors' if layer.merges else 'a single tensor'}"
            )
        shape = [t.shape for t in items] if many else items[0].shape
        return cls(layer.output_shape(shape), layer, items)


INPUT_DTYPES = ("float32", "int32")


def Input(  # noqa: N802
    shape: Sequence[int], name: str | None = None, dtype: str | None = None
) -> SymbolicTensor:
    """The input of a functional model; `shape` excludes the batch dimension.

    Args:
        dtype: 'float32', or 'int32' for token ids (Embedding); None: what the layers fed by
            this input take (float32, or int32 when they are Embedding layers).
    """
    if dtype is not None and dtype not in INPUT_DTYPES:
        raise ValueError(f"Input: dtype must be one of {INPUT_DTYPES} or None, got {dtype!r}")
    return SymbolicTensor(tuple(int(d) for d in shape), None, [], dtype)


class Model(TrainingMixin, SavingMixin):
    """A functional model from one input tensor to one output tensor.

    Args:
        inputs: an `Input(...)`.
        outputs: a tensor computed from `inputs` by calling layers.
        name: the model's name in `summary()`.
        seed: seed of the weight initialisers (the same seed gives the same weights everywhere).
    """

    def __init__(self, inputs=None, outputs=None, name: str = "model", seed: int = 0):
        self.name = name
        self.seed = seed
        self.layers: list[Layer] = []
        self._nodes: list[tuple[Layer, list[int], int]] = []
        self._weights: list[np.ndarray] | None = None
        self.backend = None
        self._vars: list[Any] | None = None
        if inputs is not None or outputs is not None:
            if not isinstance(inputs, SymbolicTensor) or not isinstance(outputs, SymbolicTensor):
                raise TypeError(
                    "Model(inputs, outputs) takes one Input(...) and one output tensor"
                )
            self._set_graph(inputs, outputs)

    # -- graph -----------------------------------------------------------------------------------

    def _set_graph(self, inputs: SymbolicTensor, outputs: SymbolicTensor) -> None:
        order: list[SymbolicTensor] = []
        seen: set[int] = set()

        def visit(t: SymbolicTensor) -> None:
            if t.id in seen:
                return
            seen.add(t.id)
            for parent in t.inputs:
                visit(parent)
            order.append(t)

        visit(outputs)
        if inputs.id not in seen:
            raise ModelBuildError("the model's outputs are not computed from its inputs")
        stray = [t for t in order if t.layer is None and t is not inputs]
        if stray:
            raise ModelBuildError("the model's outputs depend on an Input that is not its input")
        self.input, self.output = inputs, outputs
        self._nodes = [(t.layer, [p.id for p in t.inputs], t.id) for t in order if t.layer]
        self.input_dtype = self._resolve_input_dtype()
        self.layers = []
        for layer, _, _ in self._nodes:
            if layer not in self.layers:
                self.layers.append(layer)
        taken = {layer.name for layer in self.layers if layer.name}
        for layer in self.layers:
            if not layer.name:
                layer.name = default_name(layer, taken)
                taken.add(layer.name)
        self._init_weights()

    def input_layers(self) -> list[Layer]:
        """The layers fed directly by the model's input."""
        return [layer for layer, in_ids, _ in self._nodes if self.input.id in in_ids]

    def _resolve_input_dtype(self) -> str:
        wanted = {layer.input_dtype for layer in self.input_layers()}
        dtype = self.input.dtype or (wanted.pop() if len(wanted) == 1 else "float32")
        for layer in self.input_layers():
            if layer.input_dtype != dtype:
                raise ModelBuildError(
                    f"layer {layer.name or type(layer).__name__!r} ({type(layer).__name__}) "
                    f"takes {layer.input_dtype} input but the model's input is {dtype}; "
                    f"give the Input dtype={layer.input_dtype!r} or feed the layers apart"
                )
        return dtype

    def _input_shapes(self) -> dict[Layer, Any]:
        shapes = {self.input.id: self.input.shape}
        out: dict[Layer, Any] = {}
        for layer, in_ids, out_id in self._nodes:
            shape = [shapes[i] for i in in_ids] if layer.merges else shapes[in_ids[0]]
            out.setdefault(layer, shape)
            shapes[out_id] = layer.output_shape(shape)
        return out

    def _init_weights(self) -> None:
        self._slices: dict[Layer, slice] = {}
        self._weight_names: list[str] = []
        weights: list[np.ndarray] = []
        for index, (layer, shape) in enumerate(self._input_shapes().items()):
            rng = np.random.default_rng([self.seed, index])
            layer.build(shape)
            start = len(weights)
            for spec in layer.weight_specs(shape):
                weights.append(np.asarray(spec.initializer(spec.shape, rng), dtype=np.float32))
                self._weight_names.append(f"{layer.name}/{spec.name}")
            self._slices[layer] = slice(start, len(weights))
        self._weights = weights

    @property
    def built(self) -> bool:
        return self._weights is not None

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ModelBuildError(
                f"{what}: the model has no input shape yet; give the first layer "
                "input_shape=... (or input_dim=...), or call build(input_shape)"
            )

    def forward(self, params, x, training: bool, rng, logits: bool = False):
        """The model's computation with backend ops; ``logits`` skips the last activation."""
        K = self.backend
        values = {self.input.id: x}
        last = len(self._nodes) - 1
        for index, (layer, in_ids, out_id) in enumerate(self._nodes):
            inputs = [values[i] for i in in_ids] if layer.merges else values[in_ids[0]]
            layer_rng = K.fold_rng(rng, index) if layer.uses_rng and training else None
            values[out_id] = layer.call(
                K,
                params[self._slices[layer]],
                inputs,
                training,
                layer_rng,
                activation=not (logits and index == last),
            )
        return values[self.output.id]

    # -- weights ---------------------------------------------------------------------------------

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in Keras's layout and order."""
        self._require_built("get_weights")
        if self._vars is not None:
            return [self.backend.get_value(v) for v in self._vars]
        return [w.copy() for w in self._weights]

    def layer_weights(self) -> list[tuple[Layer, list[tuple[str, np.ndarray]]]]:
        """Each layer, in model order, with its weights' full names ('dense_1/kernel') and
        values."""
        weights = self.get_weights()
        found = []
        for layer in self.layers:
            own = self._slices[layer]
            found.append((layer, list(zip(self._weight_names[own], weights[own], strict=True))))
        return found

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Sets every weight from NumPy arrays in Keras's layout and order."""
        self._require_built("set_weights")
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(
                f"set_weights: the model has {len(self._weights)} weight arrays, "
                f"got {len(weights)}"
            )
        new = []
        for name, old, value in zip(self._weight_names, self._weights, weights, strict=True):
            value = np.asarray(value, dtype=np.float32)
            if value.shape != old.shape:
                raise ValueError(
                    f"set_weights: {name} has shape {old.shape}, got an array of shape "
                    f"{value.shape}"
                )
            new.append(value.copy())
        self._weights = new
        if self._vars is not None:
            for var, value in zip(self._vars, new, strict=True):
                self.backend.set_value(var, value)

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(sum(w.size for w in self._weights))

    def summary(self, print_fn=print) -> None:
        """Prints the layers, their output shapes and parameter counts, as Keras does."""
        print_fn(self.summary_text())

    def summary_text(self) -> str:
        self._require_built("summary")
        rows = []
        shapes = self._input_shapes()
        for layer in self.layers:
            out = layer.output_shape(shapes[layer])
            count = sum(w.size for w in self._weights[self._slices[layer]])
            rows.append(
                (f"{layer.name} ({type(layer).__name__})", str((None, *out)), f"{count:,}")
            )
        width = (32, 26, 12)
        rule = "_" * sum(width)
        lines = [f'Model: "{self.name}"', rule]
        lines.append(
            "".join(
                h.ljust(w)
                for h, w in zip(("Layer (type)", "Output Shape", "Param #"), width, strict=True)
            )
        )
        lines.append("=" * sum(width))
        for row in rows:
            # as Keras does, a field too long for its column is cut short
            lines.append("".join(c[: w - 1].ljust(w) for c, w in zip(row, width, strict=True)))
        lines.append("=" * sum(width))
        total = self.count_params()
        lines += [
            f"Total params: {total:,}",
            f"Trainable params: {total:,}",
            "Non-trainable params: 0",
            rule,
        ]
        return "\n".join(lines)

    # -- compile ---------------------------------------------------------------------------------

    def compile(
        self,
        optimizer="rmsprop",
        loss="categorical_crossentropy",
        metrics: Sequence[str] | None = None,
        backend=None,
        device: str | None = None,
    ) -> None:
        """Chooses the optimizer, loss and metrics and places the weights on a backend.

        Args:
            optimizer: an optimizer instance (explicit arguments) or a name (Keras defaults).
            loss: a loss name or function (see `benchbench.losses`).
            metrics: ``['accuracy']``, one metric function, or None.
            backend: a backend name or instance; default: `registry.default_backend()`.
            device: 'cpu' or 'gpu' when `backend` is a name.

        Raises:
            UnknownNameError: unknown optimizer, loss or metric (the message lists valid ones).
        """
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss_name, self._loss_fn = losses.get(loss)
        self.metric_name, self._metric_fn = losses.get_metric(metrics, self.loss_name)
        if isinstance(backend, str):
            backend = registry.get_backend(backend, device=device or "cpu", seed=self.seed)
        self.backend = backend or registry.default_backend()
        self._train_step = self._test_step = self._predict_step = None
        if self.built:
            self._make_variables()

    def _make_variables(self) -> None:
        self._vars = [
            self.backend.variable(w, name)
            for w, name in zip(self._weights, self._weight_names, strict=True)
        ]

    def build(self, input_shape: Sequence[int]) -> None:
        raise ModelBuildError(
            "build() is for Sequential models; a functional model is built from its Input"
        )

    def _ensure_built(self, x: np.ndarray) -> None:
        self._require_built("fit")

    def _logits_fused(self) -> bool:
        wanted = losses.LOGIT_ACTIVATION.get(self.loss_name)
        return wanted is not None and self._nodes[-1][0].output_activation == wanted


def load_model(filepath, compile: bool = True, backend=None) -> Model:  # noqa: A002
    """Keras 2's ``keras.models.load_model`` for files written by `Model.save`."""
    from benchbench import saving

    return saving.load_model(filepath, compile, backend)


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: the layers, in order; the first may carry ``input_shape=`` or ``input_dim=``.
        name: the model's name in `summary()`.
        seed: seed of the weight initialisers.
    """

    def __init__(
        self, layers: Sequence[Layer] | None = None, name: str = "sequential", seed: int = 0
    ):
        super().__init__(name=name, seed=seed)
        self._stack: list[Layer] = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Appends a layer; checks shapes right away once the input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes a layer, got {type(layer).__name__}")
        if layer.merges:
            raise ModelBuildError(
                f"{type(layer).__name__} merges several inputs and cannot be "
                "used in a Sequential model; use the functional API"
            )
        if not layer.name:
            layer.name = default_name(layer, {other.name for other in self._stack})
        self._stack.append(layer)
        if self._stack[0].input_shape is not None:
            self._build_stack(self._stack[0].input_shape)
            if self._vars is not None:
                self._make_variables()

    def build(self, input_shape: Sequence[int]) -> None:
        """Builds the model for inputs of `input_shape` (without the batch dimension)."""
        if not self._stack:
            raise ModelBuildError("build: the Sequential model has no layers")
        self._build_stack(tuple(input_shape))
        if self.backend is not None:
            self._make_variables()

    def _build_stack(self, input_shape: tuple[int, ...]) -> None:
        x = inputs = Input(input_shape)
        for layer in self._stack:
            x = layer(x)
        self._set_graph(inputs, x)

    def _ensure_built(self, x: np.ndarray) -> None:
        if not self.built:
            self.build(x.shape[1:])
