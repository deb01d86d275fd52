"""The recurrent op for PyTensor (or Theano): ``scan`` over the steps.

The layer's step function builds the inner graph once; ``grad`` differentiates through the
scan. PyTensor 3 cannot compile a scan into C: its loop runs in Cython (or, under the Numba
mode, in Numba) and calls the inner graph once per step; the inner graph is compiled in the mode
of the step being built (`engine.float32_graphs`). PyTensor has no fused recurrent kernel, so
every layer takes the generic path.
"""

from __future__ import annotations

from backends.theano import engine


def rnn(step, inputs, initial_states, constants, go_backwards, return_sequences):
    xs = inputs.dimshuffle(1, 0, *range(2, inputs.ndim))  # time-major
    if go_backwards:
        xs = xs[::-1]  # outputs stay in the order they are computed, as in Keras
    count = len(initial_states)

    def inner(x_t, *args):
        return list(step(x_t, list(args[:count]), list(args[count:])))

    outputs = engine.scan(inner, [xs], list(initial_states), list(constants))
    first = outputs[0]
    return first.dimshuffle(1, 0, *range(2, first.ndim)) if return_sequences else first[-1]
