"""Layer wrappers: TimeDistributed and Bidirectional."""

from __future__ import annotations

from benchbench.layers.base import Layer, WeightSpec, snake_case
from benchbench.layers.recurrent import Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave")


def _wrapped_input_shape(wrapper: Layer, layer: Layer) -> None:
    # Keras takes the input shape from the wrapper's arguments, else from the wrapped layer's
    if wrapper.input_shape is None and layer.input_shape is not None:
        wrapper.input_shape = layer.input_shape


class TimeDistributed(Layer):
    """Applies `layer` to every step of a sequence: (None, steps, ...) -> (None, steps, ...).

    The steps are folded into the batch for the wrapped layer, whose weights (and their names)
    are the wrapper's, as in Keras.
    """

    def __init__(self, layer: Layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer) or layer.merges:
            raise TypeError(
                f"TimeDistributed wraps one single-input layer, got {type(layer).__name__}"
            )
        self.layer = layer
        self.uses_rng = layer.uses_rng
        _wrapped_input_shape(self, layer)
        self._shape = None

    @property
    def activation(self) -> str:
        return self.layer.activation

    @property
    def output_activation(self) -> str:
        return self.layer.output_activation

    def output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise self.error(
                "TimeDistributed expects a sequence (None, steps, ...) of at least 3 dimensions",
                input_shape,
            )
        return (input_shape[0], *self.layer.output_shape(tuple(input_shape[1:])))

    def build(self, input_shape) -> None:
        self.layer.build(tuple(input_shape[1:]))
        self._shape = (tuple(input_shape), self.output_shape(input_shape))

    def weight_specs(self, input_shape):
        return self.layer.weight_specs(tuple(input_shape[1:]))

    def call(self, K, weights, x, training, rng, activation=True):
        (steps, *inner), (_, *out) = self._shape
        folded = K.reshape(x, (-1, *inner))
        y = self.layer.call(K, weights, folded, training, rng, activation)
        return K.reshape(y, (-1, steps, *out))


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the outputs.

    Args:
        layer: a SimpleRNN, LSTM or GRU; the backward copy has the same configuration with
            ``go_backwards`` flipped, and weights of its own.
        merge_mode: 'concat' (default), 'sum', 'mul' or 'ave'.

    Weights, in Keras's order: the forward layer's, then the backward layer's. With
    ``return_sequences=True`` the backward outputs are reversed back, so step t of the output
    pairs both directions' outputs for input step t.
    """

    _allowed = Layer._allowed + ("merge_mode",)

    def __init__(self, layer: Recurrent, merge_mode: str = "concat", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Recurrent):
            raise TypeError(
                "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU), got "
                f"{type(layer).__name__}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Bidirectional: merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}"
                + (" (a list of both outputs is not supported)" if merge_mode is None else "")
            )
        self.merge_mode = merge_mode
        self.forward_layer = layer
        arguments = layer.constructor_arguments()
        self.backward_layer = type(layer)(**{**arguments, "go_backwards": not layer.go_backwards})
        # the wrapped layer keeps its own name (it is this layer's saved argument)
        base = layer.name or snake_case(type(layer).__name__)
        self._prefixes = (f"forward_{base}", f"backward_{base}")
        self.backward_layer.name = self._prefixes[1]
        self.return_sequences = layer.return_sequences
        self.uses_rng = layer.uses_rng
        _wrapped_input_shape(self, layer)
        self._split = 0

    def output_shape(self, input_shape):
        shape = self.forward_layer.output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*shape[:-1], 2 * shape[-1])
        return shape

    def build(self, input_shape) -> None:
        self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)
        self._split = len(self.forward_layer.weight_specs(input_shape))

    def weight_specs(self, input_shape):
        return [
            WeightSpec(f"{prefix}/{spec.name}", spec.shape, spec.initializer)
            for prefix, layer in zip(
                self._prefixes, (self.forward_layer, self.backward_layer), strict=True
            )
            for spec in layer.weight_specs(input_shape)
        ]

    def call(self, K, weights, x, training, rng, activation=True):
        split = self._split
        ahead = self.forward_layer.call(
            K, weights[:split], x, training, None if rng is None else K.fold_rng(rng, 0)
        )
        behind = self.backward_layer.call(
            K, weights[split:], x, training, None if rng is None else K.fold_rng(rng, 1)
        )
        if self.return_sequences:
            behind = K.reverse(behind, 1)
        if self.merge_mode == "concat":
            return K.concatenate([ahead, behind], 2 if self.return_sequences else 1)
        if self.merge_mode == "sum":
            return K.add(ahead, behind)
        if self.merge_mode == "mul":
            return K.multiply(ahead, behind)
        return K.multiply(K.add(ahead, behind), 0.5)
