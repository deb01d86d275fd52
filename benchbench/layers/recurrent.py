"""Recurrent layers: SimpleRNN, LSTM and GRU, with Keras 2.3's semantics, defaults and weights.

Each layer holds ``kernel (features, gates * units)``, ``recurrent_kernel (units, gates *
units)`` and ``bias`` in Keras's gate order (LSTM i, f, c, o; GRU z, r, h), so weights move
to and from Keras unchanged. Inputs are ``(None, steps, features)``; states start at zero.

A layer runs on one of two paths (see `benchbench.backend`): the backend's fused op for it
(``K.fused_rnn(kind)``, e.g. PyTorch's LSTM kernel), or the generic path written here: the
input projection of every step in one matrix product, then ``K.rnn`` over the steps with the
cell's step function below. A fused op may decline a configuration (NotImplementedError),
and recurrent dropout always takes the generic path, as in Keras 3.

Dropout follows Keras 2.3 (``implementation=2``): one input mask and one recurrent mask per
sequence, drawn once per batch and applied at every step; GRU mixes the masked previous
state into its output, as Keras does.
"""

from __future__ import annotations

import functools

import numpy as np

from benchbench import activations, initializers
from benchbench.layers.base import Layer, WeightSpec
from benchbench.layers.core import check_rate


def _ones(K, x, size: int):
    return K.add(K.batch_zeros(x, size), 1.0)


def _forget_bias_ones(initializer, units: int):
    """LSTM's ``unit_forget_bias``: the bias initializer's values with the f slice set to 1."""

    def init(shape, rng):
        parts = [
            initializer((units,), rng),
            np.ones((units,), np.float32),
            initializer((2 * units,), rng),
        ]
        return np.concatenate(parts).astype(np.float32)

    return init


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share (Keras 2.0 called this base `Recurrent` too; Keras's
    `RNN(cell)` wrapper is not provided); subclasses set `kind`, `gates` and the step."""

    kind = ""  #: name of the fused op (`benchbench.backend_ops.FUSED_RNN_OPS`)
    gates = 1
    states = 1
    _allowed = Layer._allowed + (
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "dropout",
        "recurrent_dropout",
        "return_sequences",
        "return_state",
        "go_backwards",
        "stateful",
        "unroll",
        "implementation",
        "input_length",
    )

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError(f"{kind}: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = activations.check(kwargs.get("activation", "tanh"))
        self.use_bias = bool(kwargs.get("use_bias", True))
        self.kernel_initializer = initializers.get(
            kwargs.get("kernel_initializer", "glorot_uniform")
        )
        self.recurrent_initializer = initializers.get(
            kwargs.get("recurrent_initializer", "orthogonal")
        )
        self.bias_initializer = initializers.get(kwargs.get("bias_initializer", "zeros"))
        self.dropout = check_rate(kind, "dropout", kwargs.get("dropout", 0.0))
        self.recurrent_dropout = check_rate(
            kind, "recurrent_dropout", kwargs.get("recurrent_dropout", 0.0)
        )
        self.uses_rng = bool(self.dropout or self.recurrent_dropout)
        self.return_sequences = bool(kwargs.get("return_sequences", False))
        self.go_backwards = bool(kwargs.get("go_backwards", False))
        self._refuse(kwargs)
        if kwargs.get("input_shape") is None and (
            kwargs.get("input_dim") is not None or kwargs.get("input_length") is not None
        ):  # Keras 2's older form: input_length and input_dim instead of input_shape
            if kwargs.get("input_dim") is None or kwargs.get("input_length") is None:
                raise ValueError(
                    f"{kind}: give input_length and input_dim together (or input_shape=(steps, "
                    "features)): sequences have a fixed length here"
                )
            self.input_shape = (int(kwargs["input_length"]), int(kwargs["input_dim"]))
        self._steps = self._features = None

    def _refuse(self, kwargs) -> None:
        kind = type(self).__name__
        for flag, why in (
            ("return_state", "layers return their output only"),
            ("stateful", "states start at zero for every batch"),
            ("unroll", "every backend runs its own loop over the steps"),
        ):
            if kwargs.get(flag):
                raise ValueError(f"{kind}: {flag}=True is not supported ({why}); leave it False")
        if kwargs.get("implementation", 2) != 2:
            raise ValueError(
                f"{kind}: only implementation=2 (Keras 2.3's default: one dropout mask for all "
                f"gates) is supported, got {kwargs['implementation']!r}"
            )

    @property
    def output_activation(self) -> str:
        return "linear"  # `activation` acts inside the cell; the output has none to skip

    def constructor_arguments(self) -> dict:
        """The arguments that make a copy of this layer (Bidirectional's backward layer)."""
        return {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "go_backwards": self.go_backwards,
        }

    # -- shapes and weights ----------------------------------------------------------------------

    def output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise self.error(
                f"{type(self).__name__} expects a sequence (None, steps, features)", input_shape
            )
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def build(self, input_shape) -> None:
        self.output_shape(input_shape)  # checks the rank
        self._steps, self._features = input_shape

    def bias_spec(self) -> WeightSpec:
        return WeightSpec("bias", (self.gates * self.units,), self.bias_initializer)

    def weight_specs(self, input_shape):
        width = self.gates * self.units
        specs = [
            WeightSpec("kernel", (input_shape[-1], width), self.kernel_initializer),
            WeightSpec("recurrent_kernel", (self.units, width), self.recurrent_initializer),
        ]
        return specs + ([self.bias_spec()] if self.use_bias else [])

    # -- computation -----------------------------------------------------------------------------

    def fused_arguments(self) -> dict:
        return {
            "activation": self.activation,
            "go_backwards": self.go_backwards,
            "return_sequences": self.return_sequences,
        }

    def call(self, K, weights, x, training, rng, activation=True):
        kernel, recurrent_kernel = weights[0], weights[1]
        bias = weights[2] if self.use_bias else None
        recurrent_mask = None
        if training and self.dropout:
            mask = K.dropout(_ones(K, x, self._features), self.dropout, _fold(K, rng, 0))
            x = K.multiply(x, K.reshape(mask, (-1, 1, self._features)))
        if training and self.recurrent_dropout:
            recurrent_mask = K.dropout(
                _ones(K, x, self.units), self.recurrent_dropout, _fold(K, rng, 1)
            )
        fused = K.fused_rnn(self.kind) if recurrent_mask is None else None
        if fused is not None:
            try:
                return fused(x, kernel, recurrent_kernel, bias, **self.fused_arguments())
            except NotImplementedError:
                pass  # this configuration is not the fused kernel's function
        projected = self._project(K, x, kernel, self._input_bias(K, bias))
        initial = [K.batch_zeros(x, self.units) for _ in range(self.states)]
        constants = self.constants(K, recurrent_kernel, bias)
        if recurrent_mask is not None:
            constants = [*constants, recurrent_mask]
        return K.rnn(
            functools.partial(self.step, K),
            projected,
            initial,
            constants,
            self.go_backwards,
            self.return_sequences,
        )

    def _input_bias(self, K, bias):
        return bias

    def _project(self, K, x, kernel, bias):
        """Every step's input times the kernel (plus bias), in one matrix product."""
        flat = K.matmul(K.reshape(x, (-1, self._features)), kernel)
        if bias is not None:
            flat = K.bias_add(flat, bias)
        return K.reshape(flat, (-1, self._steps, self.gates * self.units))

    def constants(self, K, recurrent_kernel, bias) -> list:
        """What the step needs besides its input and states; the recurrent mask comes last."""
        return [recurrent_kernel]

    def step(self, K, x_t, states, constants):
        raise NotImplementedError

    def _activate(self, K, name, x):
        return activations.apply(K, name, x)


def _fold(K, rng, index):
    return None if rng is None else K.fold_rng(rng, index)


def _masked(K, h, constants, count: int):
    """`h` times the recurrent dropout mask, if the constants carry one past the first `count`."""
    return K.multiply(h, constants[count]) if len(constants) > count else h


class SimpleRNN(Recurrent):
    """``h = activation(x W + b + h_prev U)``."""

    kind = "simple_rnn"

    def step(self, K, x_t, states, constants):
        h = _masked(K, states[0], constants, 1)
        return [self._activate(K, self.activation, K.add(x_t, K.matmul(h, constants[0])))]


class LSTM(Recurrent):
    """Keras 2.3's LSTM: gates i, f, c, o; ``unit_forget_bias`` sets the f bias to 1."""

    kind = "lstm"
    gates = 4
    states = 2
    _allowed = Recurrent._allowed + ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units: int, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.check(
            kwargs.get("recurrent_activation", "sigmoid")
        )
        self.unit_forget_bias = bool(kwargs.get("unit_forget_bias", True))

    def constructor_arguments(self) -> dict:
        return {
            **super().constructor_arguments(),
            "recurrent_activation": self.recurrent_activation,
            "unit_forget_bias": self.unit_forget_bias,
        }

    def bias_spec(self) -> WeightSpec:
        spec = super().bias_spec()
        if not self.unit_forget_bias:
            return spec
        return WeightSpec("bias", spec.shape, _forget_bias_ones(self.bias_initializer, self.units))

    def fused_arguments(self) -> dict:
        return {**super().fused_arguments(), "recurrent_activation": self.recurrent_activation}

    def step(self, K, x_t, states, constants):
        h, c = states
        z = K.add(x_t, K.matmul(_masked(K, h, constants, 1), constants[0]))
        z_i, z_f, z_c, z_o = K.split(z, 4, -1)
        gate = self.recurrent_activation
        i, f, o = (self._activate(K, gate, part) for part in (z_i, z_f, z_o))
        c = K.add(K.multiply(f, c), K.multiply(i, self._activate(K, self.activation, z_c)))
        return [K.multiply(o, self._activate(K, self.activation, c)), c]


class GRU(Recurrent):
    """Keras 2.3's GRU: gates z, r, h; ``h = z * h_prev + (1 - z) * candidate``.

    ``reset_after=False`` (Keras 2's default) applies the reset gate before the recurrent
    product, with one bias row; ``reset_after=True`` (cuDNN's, PyTorch's and Keras 3's form)
    after it, with a second bias row for the recurrent product: bias shape ``(2, 3 * units)``.
    """

    kind = "gru"
    gates = 3
    _allowed = Recurrent._allowed + ("recurrent_activation", "reset_after")

    def __init__(self, units: int, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.check(
            kwargs.get("recurrent_activation", "sigmoid")
        )
        self.reset_after = bool(kwargs.get("reset_after", False))

    def constructor_arguments(self) -> dict:
        return {
            **super().constructor_arguments(),
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }

    def bias_spec(self) -> WeightSpec:
        if not self.reset_after:
            return super().bias_spec()
        return WeightSpec("bias", (2, 3 * self.units), self.bias_initializer)

    def fused_arguments(self) -> dict:
        return {
            **super().fused_arguments(),
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }

    def _bias_rows(self, K, bias):
        input_row, recurrent_row = K.split(bias, 2, 0)
        width = 3 * self.units
        return K.reshape(input_row, (width,)), K.reshape(recurrent_row, (width,))

    def _input_bias(self, K, bias):
        if bias is None or not self.reset_after:
            return bias
        return self._bias_rows(K, bias)[0]

    def constants(self, K, recurrent_kernel, bias) -> list:
        if self.reset_after:
            if bias is None:
                return [recurrent_kernel]
            return [recurrent_kernel, self._bias_rows(K, bias)[1]]
        k_z, k_r, k_h = K.split(recurrent_kernel, 3, -1)
        return [K.concatenate([k_z, k_r], 1), k_h]

    def step(self, K, x_t, states, constants):
        fixed = 1 if self.reset_after and not self.use_bias else 2  # constants before the mask
        h = _masked(K, states[0], constants, fixed)
        x_z, x_r, x_h = K.split(x_t, 3, -1)
        gate = self.recurrent_activation
        if self.reset_after:
            inner = K.matmul(h, constants[0])
            if fixed == 2:
                inner = K.bias_add(inner, constants[1])
            r_z, r_r, r_h = K.split(inner, 3, -1)
            z = self._activate(K, gate, K.add(x_z, r_z))
            r = self._activate(K, gate, K.add(x_r, r_r))
            candidate = K.add(x_h, K.multiply(r, r_h))
        else:
            r_z, r_r = K.split(K.matmul(h, constants[0]), 2, -1)
            z = self._activate(K, gate, K.add(x_z, r_z))
            r = self._activate(K, gate, K.add(x_r, r_r))
            candidate = K.add(x_h, K.matmul(K.multiply(r, h), constants[1]))
        hh = self._activate(K, self.activation, candidate)
        return [K.add(K.multiply(z, h), K.multiply(K.subtract(1.0, z), hh))]
