"""The ops every backend adapter defines (its ``nn`` and ``rnn`` modules), with their
signatures, and the helpers the adapters share to implement them. `benchbench.backend` holds
the rest of the contract and describes the recurrent paths (fused and generic) in full.
"""

from __future__ import annotations

import os
from typing import Any

from benchbench.errors import BenchbenchError

Tensor = Any
Padding = str  # 'valid' or 'same', with Keras/TensorFlow's 'same' rule (extra padding after)

#: Every op a backend's ``nn`` module must define, with its signature. Gradients are required for
#: all of them except those in `NON_DIFFERENTIABLE_OPS`.
OPS: dict[str, str] = {
    # elementwise, unary
    "negative": "negative(x)",
    "exp": "exp(x)",
    "log": "log(x)",
    "log1p": "log1p(x)",
    "sqrt": "sqrt(x)",
    "square": "square(x)",
    "abs": "abs(x)",
    "relu": "relu(x)",
    "sigmoid": "sigmoid(x)",
    "tanh": "tanh(x)",
    "softmax": "softmax(x): over the last axis",
    "log_softmax": "log_softmax(x): over the last axis",
    "clip": "clip(x, lo, hi): lo and hi are Python floats; gradient 0 outside [lo, hi]",
    # elementwise, binary, NumPy broadcasting
    "add": "add(a, b)",
    "subtract": "subtract(a, b)",
    "multiply": "multiply(a, b)",
    "divide": "divide(a, b)",
    "maximum": "maximum(a, b)",
    # reductions
    "sum": "sum(x, axis=None, keepdims=False)",
    "mean": "mean(x, axis=None, keepdims=False)",
    "argmax": "argmax(x, axis=-1): int tensor",
    # linear algebra and neural-network ops
    "matmul": "matmul(a, b): 2-D a (n, k) times 2-D b (k, m)",
    "bias_add": "bias_add(x, b): adds b (c,) along the last axis",
    "conv1d": "conv1d(x, kernel, stride, padding): x (n, w, c), kernel (k, c, f)",
    "conv2d": "conv2d(x, kernel, strides, padding): x (n, h, w, c), kernel (kh, kw, c, f)",
    "max_pool1d": "max_pool1d(x, pool_size, stride, padding)",
    "max_pool2d": "max_pool2d(x, pool_size, strides, padding): pool_size and strides are pairs",
    "reshape": "reshape(x, shape): shape may hold one -1",
    "concatenate": "concatenate(tensors, axis)",
    "dropout": "dropout(x, rate, rng): inverted dropout, rng from `BackendBase.step_rng`",
    # sequences and embeddings
    "max": "max(x, axis=None, keepdims=False): at ties, how the gradient is shared may differ",
    "gather": (
        "gather(table, indices): rows of a 2-D table at int indices of any shape, giving "
        "indices.shape + (table.shape[1],); the table's gradient is dense (scatter-added)"
    ),
    "repeat": "repeat(x, n): (batch, d) to (batch, n, d), x repeated along a new axis 1",
    "reverse": "reverse(x, axis): the order of the elements along `axis` reversed",
    "split": "split(x, num, axis): a list of `num` equal parts of x along `axis`",
    # no gradient
    "one_hot": "one_hot(labels, num_classes): float32, labels an int tensor",
    "equal": "equal(a, b): float32 1.0 where equal, else 0.0",
    "greater": "greater(a, b): float32 1.0 where a > b, else 0.0",
    "cast_float": "cast_float(x): float32",
    "batch_zeros": "batch_zeros(x, size): float32 zeros of shape (x.shape[0], size)",
}

NON_DIFFERENTIABLE_OPS = frozenset(
    {"argmax", "one_hot", "equal", "greater", "cast_float", "batch_zeros"}
)

#: The loop over time every adapter's ``rnn`` module defines (gradients required).
RNN_OPS: dict[str, str] = {
    "rnn": (
        "rnn(step, inputs, initial_states, constants, go_backwards, return_sequences): runs "
        "``new_states = step(x_t, states, constants)`` over the steps of `inputs` (batch, "
        "steps, ...), from the first (the last with go_backwards), starting from the list "
        "`initial_states`; `constants` (a list of tensors) is passed unchanged to every step. "
        "A step's output is its first new state. Returns the outputs (batch, steps, units) in "
        "the order they were computed if return_sequences, else the last output (batch, units)."
    ),
}

#: Fused recurrent ops an adapter's ``rnn`` module may define; see "Recurrent layers" above.
#: Weights are in Keras's layout; states start at zero; activations are names from
#: `benchbench.activations`; ``bias`` is None without one. They return what ``rnn`` returns
#: for the same layer, and raise NotImplementedError for a configuration they do not compute.
FUSED_RNN_OPS: dict[str, str] = {
    "lstm": (
        "lstm(x, kernel, recurrent_kernel, bias, activation, recurrent_activation, "
        "go_backwards, return_sequences): gates i, f, c, o"
    ),
    "gru": (
        "gru(x, kernel, recurrent_kernel, bias, activation, recurrent_activation, reset_after, "
        "go_backwards, return_sequences): gates z, r, h; bias (2, 3 * units) if reset_after"
    ),
    "simple_rnn": (
        "simple_rnn(x, kernel, recurrent_kernel, bias, activation, go_backwards, return_sequences)"
    ),
}

RNN_PATH_ENV = "BENCHBENCH_RNN"
RNN_PATHS = ("auto", "fused", "generic")


def rnn_path_from_env() -> str:
    """``$BENCHBENCH_RNN``: 'auto' (the default), 'fused' or 'generic'.

    Raises:
        BenchbenchError: any other value (the message lists the valid ones).
    """
    path = os.environ.get(RNN_PATH_ENV, "").strip() or "auto"
    if path not in RNN_PATHS:
        raise BenchbenchError(
            f"${RNN_PATH_ENV} is {path!r}; expected one of {', '.join(RNN_PATHS)} (or unset)"
        )
    return path


def padding_amounts(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """``(pad before, pad after, output length)`` of one spatial axis, by Keras's rule.

    'valid' pads nothing: ``(size - kernel) // stride + 1`` outputs. 'same' gives
    ``ceil(size / stride)`` outputs and pads the shortfall, the odd element after (TensorFlow's
    'SAME'). Adapters whose framework pads differently use this to pad explicitly.
    """
    if padding == "valid":
        return 0, 0, (size - kernel) // stride + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out
