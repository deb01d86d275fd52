"""Sequence layers of the ``native:torch`` lane: what a PyTorch user writes for a Keras text or
sequence model.

- ``nn.LSTM`` / ``nn.GRU`` (``batch_first=True``; one module with ``bidirectional=True`` for a
  Bidirectional, so both directions run in one call of PyTorch's kernel: oneDNN on CPU, cuDNN on
  CUDA), loaded with the Keras layer's weights. PyTorch keeps ``(gates * units, in)`` matrices:
  Keras's kernels go in transposed. LSTM gates are in the same order (Keras i, f, c, o is
  PyTorch's i, f, g, o); PyTorch's LSTM adds a second bias, ``b_hh``, which is held at zero and
  not trained, so the sum of the two is Keras's one bias and moves exactly as it does. GRU:
  PyTorch's formulation is Keras's ``reset_after=True`` (Keras 3's default), with the gates
  reordered from Keras's z, r, h to PyTorch's r, z, n and Keras's two bias rows as ``b_ih`` and
  ``b_hh``; Keras 2's ``reset_after=False`` has no PyTorch module and is refused.
- ``nn.Embedding`` (dense gradients, as Keras's), ``Linear`` on the last axis for
  ``TimeDistributed(Dense)``, ``expand`` for RepeatVector (no copy), ``mean``/``amax`` over the
  steps for global pooling.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from benchbench import lanes
from benchbench import layers as L
from benchbench.errors import LaneUnsupported

LANE = "native:torch"


def _r_z_n(w: np.ndarray) -> np.ndarray:
    """Keras's z, r, h blocks (last axis) in PyTorch's order r, z, n."""
    z, r, h = np.split(w, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


class Recurrent(nn.Module):
    """An LSTM or GRU, alone or as a Bidirectional pair, as one ``nn.LSTM``/``nn.GRU``."""

    def __init__(self, layer, input_shape, weights):
        super().__init__()
        inner = lanes.native_recurrent(LANE, layer, activations=("sigmoid",))
        if isinstance(inner, L.GRU) and not inner.reset_after:
            raise LaneUnsupported(
                f"{LANE}: nn.GRU applies the reset gate after the recurrent product "
                "(reset_after=True) only; Keras 2's GRU(reset_after=False) has no PyTorch module"
            )
        bidirectional = isinstance(layer, L.Bidirectional)
        self.lstm = isinstance(inner, L.LSTM)
        module = nn.LSTM if self.lstm else nn.GRU
        self.rnn = module(
            input_shape[-1],
            inner.units,
            bias=inner.use_bias,
            batch_first=True,
            bidirectional=bidirectional,
        )
        per_direction = len(weights) // (2 if bidirectional else 1)
        for direction, suffix in enumerate(("_l0", "_l0_reverse")[: 1 + bidirectional]):
            own = weights[direction * per_direction : (direction + 1) * per_direction]
            self._load(inner, own, suffix)
        self.units, self.return_sequences = inner.units, inner.return_sequences
        self.go_backwards = inner.go_backwards and not bidirectional
        self.merge_mode = layer.merge_mode if bidirectional else None

    def _load(self, inner, weights, suffix: str) -> None:
        reorder = (lambda w: w) if self.lstm else _r_z_n
        values = {
            f"weight_ih{suffix}": reorder(weights[0]).T,
            f"weight_hh{suffix}": reorder(weights[1]).T,
        }
        if inner.use_bias:
            bias = weights[2]
            if self.lstm:
                values[f"bias_ih{suffix}"] = bias
                values[f"bias_hh{suffix}"] = np.zeros_like(bias)
            else:
                values[f"bias_ih{suffix}"] = reorder(bias[0])
                values[f"bias_hh{suffix}"] = reorder(bias[1])
        with torch.no_grad():
            for name, value in values.items():
                getattr(self.rnn, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
        if inner.use_bias and self.lstm:
            getattr(self.rnn, f"bias_hh{suffix}").requires_grad_(False)

    def forward(self, x):
        if self.go_backwards:  # outputs stay in the order they are computed, as in Keras
            x = x.flip(1)
        out, state = self.rnn(x)
        last = state[0] if self.lstm else state  # (directions, batch, units)
        if self.merge_mode is None:
            return out if self.return_sequences else last[-1]
        if self.merge_mode == "concat":
            return out if self.return_sequences else torch.cat([last[0], last[1]], dim=-1)
        ahead, behind = (
            (out[..., : self.units], out[..., self.units :])
            if self.return_sequences
            else (last[0], last[1])
        )
        if self.merge_mode == "sum":
            return ahead + behind
        if self.merge_mode == "mul":
            return ahead * behind
        return (ahead + behind) * 0.5


class _RepeatVector(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x.unsqueeze(1).expand(-1, self.n, -1)


class _Pool(nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        return x.mean(dim=1) if self.kind == "average" else x.amax(dim=1)


class _Concatenate(nn.Module):
    def __init__(self, axis: int):
        super().__init__()
        self.axis = axis

    def forward(self, *xs):
        return torch.cat(xs, dim=self.axis)


def module(layer, input_shape, weights, dense) -> nn.Module | None:
    """The torch module of a sequence layer, or None for a layer this module does not handle.
    `dense(layer, input_shape, weights)` builds a Dense (for TimeDistributed)."""
    if isinstance(layer, L.Embedding):
        return nn.Embedding.from_pretrained(torch.from_numpy(weights[0].copy()), freeze=False)
    if isinstance(layer, L.LSTM | L.GRU | L.SimpleRNN | L.Bidirectional):
        return Recurrent(layer, input_shape, weights)
    if isinstance(layer, L.TimeDistributed):
        if not isinstance(layer.layer, L.Dense):
            raise lanes.unknown_layer(LANE, layer.layer)
        return dense(layer.layer, input_shape[1:], weights)  # Linear acts on the last axis
    if isinstance(layer, L.RepeatVector):
        return _RepeatVector(layer.n)
    if isinstance(layer, L.GlobalAveragePooling1D):
        return _Pool("average")
    if isinstance(layer, L.GlobalMaxPooling1D):
        return _Pool("max")
    if isinstance(layer, L.Concatenate):
        if any(len(shape) > 2 for shape in input_shape):
            raise LaneUnsupported(f"{LANE}: Concatenate of images (channels-last views)")
        return _Concatenate(layer.axis)
    return None
