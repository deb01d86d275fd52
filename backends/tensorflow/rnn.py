"""The recurrent ops for TensorFlow: a ``tf.while_loop`` over the steps, and the fused
``BlockLSTM`` kernel for LSTM.

The generic ``rnn`` reads step t from a TensorArray, calls the layer's step function and writes
its output to another, inside the compiled train step (``maximum_iterations`` bounds the loop,
so XLA and the gradient know its length). Its gradient is TensorFlow's while-loop gradient.

``lstm`` runs the whole sequence in ``BlockLSTM`` (the kernel behind ``tf.contrib.rnn``'s
LSTMBlockFusedCell, with a registered gradient): with no forget bias, no peepholes and no cell
clipping it is Keras's LSTM with tanh and sigmoid gates. Its gate order is i, c, f, o, so
Keras's i, f, c, o columns are reordered on the way in (the gradient flows back through the
reordering). Not ``BlockLSTMV2``, whose layout is Keras's: TensorFlow registers V1's gradient
for it, which reads the gates in V1's order, so its weight gradients are wrong. It has no XLA
kernel, so the backend hands it out only when steps are not compiled with XLA. GRU and
SimpleRNN take the generic path: TensorFlow's GRU kernel (``GRUBlockCell``) is one step with no
registered gradient, and cuDNN's kernels are GPU-only and untested here.
"""

from __future__ import annotations

import tensorflow as tf


def rnn(step, inputs, initial_states, constants, go_backwards, return_sequences):
    rank = len(inputs.shape)
    xs = tf.transpose(inputs, [1, 0, *range(2, rank)])  # time-major
    if go_backwards:
        xs = tf.reverse(xs, [0])
    steps = inputs.shape[1] if inputs.shape[1] is not None else tf.shape(xs)[0]
    inputs_ta = tf.TensorArray(xs.dtype, size=steps, element_shape=xs.shape[1:]).unstack(xs)
    constants = list(constants)
    outputs = [tf.TensorArray(tf.float32, size=steps)] if return_sequences else []

    def body(t, states, *outputs):
        new = tuple(step(inputs_ta.read(t), list(states), constants))
        return (t + 1, new, *(ta.write(t, new[0]) for ta in outputs))

    _, final, *outputs = tf.while_loop(
        lambda t, *_: t < steps,
        body,
        (tf.constant(0), tuple(initial_states), *outputs),
        maximum_iterations=steps,
    )
    if not return_sequences:
        return final[0]
    stacked = outputs[0].stack()
    return tf.transpose(stacked, [1, 0, *range(2, len(stacked.shape))])


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
        raise NotImplementedError("BlockLSTM computes tanh with sigmoid gates only")
    xs = tf.transpose(x, [1, 0, 2])
    if go_backwards:
        xs = tf.reverse(xs, [0])
    units = recurrent_kernel.shape[0]
    zeros = tf.zeros(tf.stack([tf.shape(x)[0], units]), x.dtype)
    no_peephole = tf.zeros([units], x.dtype)
    bias = bias if bias is not None else tf.zeros([4 * units], x.dtype)
    outputs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(xs)[0], tf.int64),
        x=xs,
        cs_prev=zeros,
        h_prev=zeros,
        w=_icfo(tf.concat([kernel, recurrent_kernel], 0)),
        wci=no_peephole,
        wcf=no_peephole,
        wco=no_peephole,
        b=_icfo(bias),
        forget_bias=0.0,
        cell_clip=-1.0,
        use_peephole=False,
    )
    h = outputs[-1]  # (steps, batch, units)
    return tf.transpose(h, [1, 0, 2]) if return_sequences else h[-1]


def _icfo(weights):
    """Keras's gate blocks i, f, c, o along the last axis in BlockLSTM's order i, c, f, o."""
    i, f, c, o = tf.split(weights, 4, axis=-1)
    return tf.concat([i, c, f, o], axis=-1)
