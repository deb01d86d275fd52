"""The recurrent ops for PyTorch: a Python loop over the steps, and PyTorch's own RNN kernels.

The generic ``rnn`` calls the layer's step once per time step, eagerly, and autograd records
it. The fused ops hand the whole sequence to ``torch.lstm``, ``torch.gru`` and
``torch.rnn_tanh``/``torch.rnn_relu``, the functions behind ``torch.nn.LSTM``/``GRU``/``RNN``
(oneDNN on CPU, cuDNN on CUDA), where they compute Keras's function:

- LSTM: PyTorch's gate order i, f, g, o is Keras's i, f, c, o; Keras's one bias goes in as
  ``b_ih`` with ``b_hh`` zero. Only tanh with sigmoid gates.
- GRU: PyTorch's formulation is Keras's ``reset_after=True`` (two bias rows); its gate order
  r, z, n is Keras's z, r, h reordered. ``reset_after=False`` has no PyTorch kernel.
- SimpleRNN: tanh or relu.

PyTorch keeps weights as ``(gates * units, in)``; Keras's ``(in, gates * units)`` goes in as a
transposed view, so autograd returns gradients in Keras's layout.
"""

from __future__ import annotations

import torch


def rnn(step, inputs, initial_states, constants, go_backwards, return_sequences):
    steps = inputs.unbind(1)
    states, outputs = list(initial_states), []
    for x_t in reversed(steps) if go_backwards else steps:
        states = list(step(x_t, states, list(constants)))
        if return_sequences:
            outputs.append(states[0])
    return torch.stack(outputs, dim=1) if return_sequences else states[0]


def _run(kernel_fn, x, states, params, has_bias, go_backwards, return_sequences):
    if go_backwards:
        x = torch.flip(x, dims=(1,))
    # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    outputs = kernel_fn(x, states, params, has_bias, 1, 0.0, torch.is_grad_enabled(), False, True)
    return outputs[0] if return_sequences else outputs[0][:, -1]


def _zeros(x, recurrent_kernel):
    return x.new_zeros((1, x.shape[0], recurrent_kernel.shape[0]))


def lstm(
    x,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    go_backwards,
    return_sequences,
):
    if (activation, recurrent_activation) != ("tanh", "sigmoid"):
        raise NotImplementedError("torch.lstm computes tanh with sigmoid gates only")
    params = [kernel.t(), recurrent_kernel.t()]
    if bias is not None:
        params += [bias, torch.zeros_like(bias)]
    h0 = _zeros(x, recurrent_kernel)
    return _run(torch.lstm, x, (h0, h0), params, bias is not None, go_backwards, return_sequences)


def _r_z_h(w):
    """Keras's z, r, h blocks along the last axis in PyTorch's order r, z, n."""
    z, r, h = torch.chunk(w, 3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


def gru(
    x,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    reset_after,
    go_backwards,
    return_sequences,
):
    if not reset_after:
        raise NotImplementedError("torch.gru applies the reset gate after the product only")
    if (activation, recurrent_activation) != ("tanh", "sigmoid"):
        raise NotImplementedError("torch.gru computes tanh with sigmoid gates only")
    params = [_r_z_h(kernel).t(), _r_z_h(recurrent_kernel).t()]
    if bias is not None:
        params += [_r_z_h(bias[0]), _r_z_h(bias[1])]
    h0 = _zeros(x, recurrent_kernel)
    return _run(torch.gru, x, h0, params, bias is not None, go_backwards, return_sequences)


def simple_rnn(x, kernel, recurrent_kernel, bias, activation, go_backwards, return_sequences):
    kernel_fn = {"tanh": torch.rnn_tanh, "relu": torch.rnn_relu}.get(activation)
    if kernel_fn is None:
        raise NotImplementedError("PyTorch's RNN kernels compute tanh or relu only")
    params = [kernel.t(), recurrent_kernel.t()]
    if bias is not None:
        params += [bias, torch.zeros_like(bias)]
    h0 = _zeros(x, recurrent_kernel)
    return _run(kernel_fn, x, h0, params, bias is not None, go_backwards, return_sequences)
