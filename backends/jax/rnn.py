"""The recurrent op for JAX: ``lax.scan`` over the steps, inside the jitted train step.

The layer's step function is traced once and XLA compiles the loop; ``jax.grad`` gives the
backward scan. JAX has no fused recurrent kernel on CPU (Keras 3's JAX backend, too, runs its
own scan there), so every layer takes the generic path.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax


def rnn(step, inputs, initial_states, constants, go_backwards, return_sequences):
    xs = jnp.swapaxes(inputs, 0, 1)  # time-major
    if go_backwards:
        xs = jnp.flip(xs, 0)  # outputs stay in the order they are computed, as in Keras
    constants = list(constants)

    def body(states, x_t):
        new = tuple(step(x_t, list(states), constants))
        return new, (new[0] if return_sequences else None)

    final, outputs = lax.scan(body, tuple(initial_states), xs)
    return jnp.swapaxes(outputs, 0, 1) if return_sequences else final[0]
