"""The contract's ops with PyTorch's native functions.

Activations stay channels-last (Keras's layout): a NHWC tensor permuted to NCHW *is* a
channels-last NCHW tensor, so convolution and pooling run on it without a copy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbench.backend_ops import padding_amounts

negative = torch.neg
exp = torch.exp
log = torch.log
log1p = torch.log1p
sqrt = torch.sqrt
square = torch.square
abs = torch.abs  # noqa: A001
relu = torch.relu
sigmoid = torch.sigmoid
tanh = torch.tanh


def softmax(x):
    return torch.softmax(x, dim=-1)


def log_softmax(x):
    return torch.log_softmax(x, dim=-1)


def clip(x, lo, hi):
    return torch.clamp(x, lo, hi)


add = torch.add
subtract = torch.sub
multiply = torch.mul
divide = torch.div


def maximum(a, b):
    return torch.maximum(torch.as_tensor(a), torch.as_tensor(b))


def sum(x, axis=None, keepdims=False):  # noqa: A001
    if axis is None:
        return torch.sum(x)
    return torch.sum(x, dim=axis, keepdim=keepdims)


def mean(x, axis=None, keepdims=False):
    if axis is None:
        return torch.mean(x)
    return torch.mean(x, dim=axis, keepdim=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    if axis is None:
        return torch.amax(x)  # amax shares the gradient between ties, as the reference does
    return torch.amax(x, dim=axis, keepdim=keepdims)


def argmax(x, axis=-1):
    return torch.argmax(x, dim=axis)


matmul = torch.matmul


def bias_add(x, b):
    return x + b


def _pad_nchw(x, window, strides, padding, value=0.0):
    """Pads NCHW `x` for Keras's 'same' (extra padding after); returns (x, symmetric pads)."""
    if padding == "valid":
        return x, (0, 0)
    sizes = zip(x.shape[2:], window, strides, strict=True)
    (t, b), (l, r) = (padding_amounts(n, k, s, padding)[:2] for n, k, s in sizes)
    if t == b and l == r:
        return x, (t, l)
    return F.pad(x, (l, r, t, b), value=value), (0, 0)


def conv2d(x, kernel, strides, padding):
    xc = x.permute(0, 3, 1, 2)
    w = kernel.permute(3, 2, 0, 1)
    xc, pads = _pad_nchw(xc, kernel.shape[:2], strides, padding)
    return F.conv2d(xc, w, stride=tuple(strides), padding=pads).permute(0, 2, 3, 1)


def conv1d(x, kernel, stride, padding):
    xc = x.permute(0, 2, 1)
    w = kernel.permute(2, 1, 0)
    if padding == "same":
        lo, hi, _ = padding_amounts(xc.shape[2], kernel.shape[0], stride, padding)
        xc = F.pad(xc, (lo, hi))
    return F.conv1d(xc, w, stride=stride).permute(0, 2, 1)


def max_pool2d(x, pool_size, strides, padding):
    xc = x.permute(0, 3, 1, 2)
    xc, pads = _pad_nchw(xc, pool_size, strides, padding, value=float("-inf"))
    if pads != (0, 0):  # torch pads pooling with -inf too, but caps it at half the window
        xc, pads = F.pad(xc, (pads[1], pads[1], pads[0], pads[0]), value=float("-inf")), (0, 0)
    return F.max_pool2d(xc, tuple(pool_size), tuple(strides)).permute(0, 2, 3, 1)


def max_pool1d(x, pool_size, stride, padding):
    xc = x.permute(0, 2, 1)
    if padding == "same":
        lo, hi, _ = padding_amounts(xc.shape[2], pool_size, stride, padding)
        xc = F.pad(xc, (lo, hi), value=float("-inf"))
    return F.max_pool1d(xc, pool_size, stride).permute(0, 2, 1)


def reshape(x, shape):
    return torch.reshape(x, shape)


def concatenate(tensors, axis):
    return torch.cat(tensors, dim=axis)


def gather(table, indices):
    return F.embedding(indices, table)


def repeat(x, n):
    return x.unsqueeze(1).expand(-1, n, -1)


def reverse(x, axis):
    return torch.flip(x, dims=(axis,))


def split(x, num, axis):
    return list(torch.chunk(x, num, dim=axis))


def dropout(x, rate, rng):
    return F.dropout(x, p=rate, training=True)


def one_hot(labels, num_classes):
    return F.one_hot(labels.long(), num_classes).to(torch.float32)


def equal(a, b):
    return torch.eq(a, b).to(torch.float32)


def greater(a, b):
    return torch.gt(a, b).to(torch.float32)


def cast_float(x):
    return torch.as_tensor(x).to(torch.float32)


def batch_zeros(x, size):
    return torch.zeros((x.shape[0], size), dtype=torch.float32, device=x.device)
