"""Floating-point operations per sample, counted from a built model's layers and shapes.

The count is what a report divides throughput by to say how much of the machine a backend
uses, so it follows the usual convention for dense and convolutional networks:

Forward, per sample (``in``/``out``: input and output features; one multiply-add = 2 FLOPs):

- ``Dense``: ``2 * in * out`` for the matmul, ``+ out`` for the bias.
- ``Conv1D``/``Conv2D``: ``2 * k_h * k_w * c_in * c_out`` per output position (``k_w`` is
  absent in 1-D), times the output positions; ``+ c_out`` per output position for the bias.
- Not counted (0): activations, softmax, dropout, pooling, flatten, ``Add``, ``Concatenate``,
  the loss and the optimizer's update. They are elementwise or memory-bound, and in the
  workloads here they are under 1% of the multiply-adds.

Training, per sample = forward + backward. The backward pass of a weighted layer computes

- the gradient of its weights: the same multiply-adds as its forward (``2 * in * out`` for a
  Dense kernel, the same per-position count for a convolution kernel), and ``out`` (per
  position, for a convolution) additions for the bias gradient: it equals the forward count;
- the gradient of its input (a transposed matmul or convolution): the same multiply-adds as
  its forward, without bias. It is not needed, and not counted, where the layer's input does
  not depend on any weight, e.g. the first Dense or Conv layer of a model fed with data.

So training = 2 * forward + the input-gradient multiply-adds of every weighted layer but those
fed by weight-free inputs: about 3 * forward for a deep network, a little less for a shallow one.
Weight-free layers are not counted in the backward pass either.

Recurrent layers, per sample, over ``T`` steps with ``F`` input features, ``U`` units and ``G``
gates (SimpleRNN 1, GRU 3, LSTM 4):

- forward: ``T * (2 * F * G * U + 2 * U * G * U + G * U)``: the input and recurrent products
  and the bias (GRU with ``reset_after=True`` adds its recurrent bias, ``G * U`` per step);
  gate nonlinearities and products are elementwise, not counted;
- backward: the weights' gradients cost the forward again; the gradient of the state through
  the recurrent kernel (``2 * U * G * U`` per step) is needed for the weights' gradients of
  earlier steps, so it is counted even where the input needs no gradient; the input gradient
  (``2 * F * G * U`` per step) only where the input depends on a weight.
- ``Bidirectional`` counts both layers; ``TimeDistributed`` its layer once per step.
- ``Embedding`` counts 0: a lookup (and a scatter-add for its gradient) multiplies nothing.
"""

from __future__ import annotations

import math
from typing import Any

from benchbench import layers as L


def forward_flops_per_sample(model) -> int:
    """FLOPs of one sample's forward pass (see the module docstring for what is counted).

    Raises:
        ModelBuildError: the model is not built (no input shape yet).
        ValueError: a layer with weights is of a type whose FLOPs are not known.
    """
    return sum(forward for forward, _, _ in _layer_counts(model))


def training_flops_per_sample(model) -> int:
    """FLOPs of one sample's training step: forward, then gradients of weights and inputs.

    Raises:
        ModelBuildError: the model is not built (no input shape yet).
        ValueError: a layer with weights is of a type whose FLOPs are not known.
    """
    return sum(
        2 * forward + input_grad + state for forward, input_grad, state in _layer_counts(model)
    )


def training_flops_or_none(model) -> int | None:
    """`training_flops_per_sample`, or None for a model with a layer it cannot count."""
    try:
        return training_flops_per_sample(model)
    except ValueError:
        return None


def layer_flops(layer: L.Layer, input_shape: Any) -> tuple[int, int]:
    """(forward FLOPs with bias, multiply-add FLOPs of the input gradient) per sample.

    Raises:
        ValueError: `layer` has weights and no rule here.
    """
    if isinstance(layer, L.Dense):
        macs = input_shape[0] * layer.units
        return 2 * macs + (layer.units if layer.use_bias else 0), 2 * macs
    if isinstance(layer, L.Recurrent):
        return _recurrent(layer, input_shape)[:2]
    if isinstance(layer, L.Bidirectional):
        forward, input_grad = layer_flops(layer.forward_layer, input_shape)
        return 2 * forward, 2 * input_grad
    if isinstance(layer, L.TimeDistributed):
        forward, input_grad = layer_flops(layer.layer, tuple(input_shape[1:]))
        return input_shape[0] * forward, input_shape[0] * input_grad
    if isinstance(layer, L.Embedding):
        return 0, 0
    if isinstance(layer, L.Conv1D | L.Conv2D):
        out = layer.output_shape(input_shape)
        positions = math.prod(out[:-1])
        macs = positions * math.prod(layer.kernel_size) * input_shape[-1] * layer.filters
        bias = positions * layer.filters if layer.use_bias else 0
        return 2 * macs + bias, 2 * macs
    if layer.weight_specs(input_shape):
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r} ({type(layer).__name__}): it has "
            "weights and benchbench.flops has no rule for its type; add a rule for it to "
            "benchbench.flops.layer_flops"
        )
    return 0, 0


def state_gradient_flops(layer: L.Layer, input_shape: Any) -> int:
    """Multiply-add FLOPs of a recurrent layer's state gradient (0 for other layers)."""
    if isinstance(layer, L.Recurrent):
        return _recurrent(layer, input_shape)[2]
    if isinstance(layer, L.Bidirectional):
        return 2 * state_gradient_flops(layer.forward_layer, input_shape)
    return 0


def _recurrent(layer, input_shape) -> tuple[int, int, int]:
    """(forward, input gradient, state gradient) FLOPs of a SimpleRNN, LSTM or GRU."""
    steps, features = input_shape
    width = layer.gates * layer.units
    inputs, recurrent = 2 * features * width, 2 * layer.units * width
    bias = width * (2 if getattr(layer, "reset_after", False) else 1) if layer.use_bias else 0
    return steps * (inputs + recurrent + bias), steps * inputs, steps * recurrent


def _layer_counts(model) -> list[tuple[int, int, int]]:
    """(forward, input-gradient, state-gradient FLOPs) per layer call, input gradients only
    where needed."""
    model._require_built("counting FLOPs")
    shapes = {model.input.id: model.input.shape}
    trained = {model.input.id: False}  # does this tensor depend on a weight?
    counts = []
    for layer, in_ids, out_id in model._nodes:
        shape = [shapes[i] for i in in_ids] if layer.merges else shapes[in_ids[0]]
        shapes[out_id] = layer.output_shape(shape)
        upstream = any(trained[i] for i in in_ids)
        forward, input_grad = layer_flops(layer, shape)
        state = state_gradient_flops(layer, shape)
        counts.append((forward, input_grad if upstream else 0, state))
        trained[out_id] = upstream or bool(layer.weight_specs(shape))
    return counts
