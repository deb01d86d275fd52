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
    return sum(forward for forward, _ in _layer_counts(model))


def training_flops_per_sample(model) -> int:
    """FLOPs of one sample's training step: forward, then gradients of weights and inputs.

    Raises:
        ModelBuildError: the model is not built (no input shape yet).
        ValueError: a layer with weights is of a type whose FLOPs are not known.
    """
    return sum(2 * forward + input_grad for forward, input_grad in _layer_counts(model))


def training_flops_or_none(model) -> int | None:
    """`training_flops_per_sample`, or None for a model with a layer it cannot count."""
    try:
        return training_flops_per_sample(model)
    except ValueError:
        return None


def layer_flops(layer: L.Layer, input_shape: Any) -> tuple[int, int]:
    """(forward FLOPs with bias, multiply-add FLOPs of the input gradient) per sample.

    Raises:
        ValueError: `layer` has weights and is not a Dense or convolution layer.
    """
    if isinstance(layer, L.Dense):
        macs = input_shape[0] * layer.units
        return 2 * macs + (layer.units if layer.use_bias else 0), 2 * macs
    if isinstance(layer, L._Conv):
        out = layer.output_shape(input_shape)
        positions = math.prod(out[:-1])
        macs = positions * math.prod(layer.kernel_size) * input_shape[-1] * layer.filters
        bias = positions * layer.filters if layer.use_bias else 0
        return 2 * macs + bias, 2 * macs
    if layer.weight_specs(input_shape):
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r} ({type(layer).__name__}): it has "
            "weights and benchbench.flops knows only Dense, Conv1D and Conv2D; add a rule for "
            "it to benchbench.flops.layer_flops"
        )
    return 0, 0


def _layer_counts(model) -> list[tuple[int, int]]:
    """(forward, input-gradient FLOPs) per layer call, input gradients only where needed."""
    model._require_built("counting FLOPs")
    shapes = {model.input.id: model.input.shape}
    trained = {model.input.id: False}  # does this tensor depend on a weight?
    counts = []
    for layer, in_ids, out_id in model._nodes:
        shape = [shapes[i] for i in in_ids] if layer.merges else shapes[in_ids[0]]
        shapes[out_id] = layer.output_shape(shape)
        upstream = any(trained[i] for i in in_ids)
        forward, input_grad = layer_flops(layer, shape)
        counts.append((forward, input_grad if upstream else 0))
        trained[out_id] = upstream or bool(layer.weight_specs(shape))
    return counts
