"""Train, test and predict steps for TensorFlow: one ``tf.function`` call per batch.

Each step is traced once per input signature (dtype and the shape after the batch dimension)
with the batch dimension left as None, so a smaller last batch runs the same graph. The
optimizer's slots and the step counter ``t`` are variables updated by ``assign`` inside the graph,
with TensorFlow's fused training kernels where one computes the rule (`backends.tensorflow.optim`).

With ``BENCHBENCH_TF_JIT=1`` in the environment when the backend is created, the steps are
compiled with XLA (``jit_compile=True``); ``info()['jit_compile']`` records it.
"""

from __future__ import annotations

import operator

import numpy as np
import tensorflow as tf

from backends.tensorflow.optim import fused_update

ZERO = tf.UnconnectedGradients.ZERO


class Scalar:
    """The step count and the schedule the update rules derive from it, kept in float64.

    In float32, Adam's ``1 - 0.999**t`` is off by 1.3e-5 (relative), which shifts every update
    against the other backends' Python-float arithmetic; TensorFlow does not promote dtypes, so
    a Scalar turns into the other operand's dtype only when it meets a tensor.
    """

    def __init__(self, value):
        self.value = tf.cast(value, tf.float64)

    def _apply(self, other, fn, reverse=False):
        if isinstance(other, Scalar):
            other = other.value
        elif isinstance(other, int | float):
            other = tf.constant(other, tf.float64)
        else:
            return NotImplemented  # a tensor: it converts this Scalar to its own dtype
        return Scalar(fn(other, self.value) if reverse else fn(self.value, other))


def _binary(fn):
    return (
        lambda self, other: self._apply(other, fn),
        lambda self, other: self._apply(other, fn, reverse=True),
    )


for _name, _fn in [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("pow", operator.pow),
]:
    _forward, _reverse = _binary(_fn)
    setattr(Scalar, f"__{_name}__", _forward)
    setattr(Scalar, f"__r{_name}__", _reverse)

tf.register_tensor_conversion_function(
    Scalar, lambda v, dtype=None, name=None, as_ref=False: tf.cast(v.value, dtype or tf.float64)
)


class CompiledStep:
    """Calls a ``tf.function`` made for the arrays' signature; Python does nothing per op."""

    def __init__(self, body, finish, device: str, jit_compile: bool):
        self._body = body
        self._finish = finish
        self._device = device
        self.jit_compile = jit_compile
        self._functions: dict = {}  # signature -> (tf.function, its concrete function)

    def __call__(self, *arrays: np.ndarray):
        key = tuple((a.dtype, a.shape[1:]) for a in arrays)
        compiled = self._functions.get(key)
        if compiled is None:
            compiled = self._functions[key] = self._compile(arrays)
        # The concrete function skips tf.function's signature dispatch: half the call overhead.
        return self._finish(compiled[1](*arrays))

    def _compile(self, arrays):
        signature = [tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in arrays]

        def run(*tensors):
            with tf.device(self._device):
                return self._body(*tensors)

        fn = tf.function(run, input_signature=signature, jit_compile=self.jit_compile)
        return fn, fn.get_concrete_function()

    @property
    def tracing_count(self) -> int:
        """How many times the step was traced, over every signature it has seen."""
        return sum(fn.experimental_get_tracing_count() for fn, _ in self._functions.values())


def _floats(pair) -> tuple[float, float]:
    loss, metric = pair.numpy().tolist()  # one device-to-host copy for both
    return loss, metric


def _numpy(tensor) -> np.ndarray:
    return tensor.numpy()


def _dense(grads):
    """Gradients as dense tensors: an embedding's comes as IndexedSlices (the rows the batch
    used), and Keras 2's update rules, which decay every row's slots, take all rows."""
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]


def _loss_and_metric(loss, metric, y, out):
    value = loss(y, out)
    extra = tf.cast(metric(y, out), tf.float32) if metric else tf.zeros((), tf.float32)
    return value, tf.stack([value, extra])


class Trainer:
    def _step(self, body, finish) -> CompiledStep:
        return CompiledStep(body, finish, self.tf_device, self.jit_compile)

    def _slots(self, optimizer, params):
        with tf.device(self.tf_device):
            slots = [
                [tf.Variable(tf.zeros_like(p), trainable=False) for _ in optimizer.slot_names]
                for p in params
            ]
            return slots, tf.Variable(0.0, trainable=False, dtype=tf.float32, name="t")

    def make_train_step(self, forward, loss, metric, optimizer, params):
        params = list(params)
        slots, t = self._slots(optimizer, params)
        fused = fused_update(optimizer)

        def body(x, y):
            step = t.read_value()
            with tf.GradientTape() as tape:
                out = forward(params, x, True, self.step_rng(step))
                batch_loss, result = _loss_and_metric(loss, metric, y, out)
            grads = _dense(tape.gradient(batch_loss, params, unconnected_gradients=ZERO))
            if fused:
                fused(params, grads, slots, tf.cast(step, tf.float64))
            else:
                self._generic_update(optimizer, params, grads, slots, step)
            t.assign_add(1.0)
            return result

        return self._step(body, _floats)

    @staticmethod
    def _generic_update(optimizer, params, grads, slots, step):
        for p, g, p_slots in zip(params, grads, slots, strict=True):
            new, new_slots = optimizer.update(
                p, g, [s.read_value() for s in p_slots], Scalar(step), tf.sqrt
            )
            p.assign(new)
            for s, value in zip(p_slots, new_slots, strict=True):
                s.assign(value)

    def make_test_step(self, forward, loss, metric, params):
        params = list(params)

        def body(x, y):
            return _loss_and_metric(loss, metric, y, forward(params, x, False, None))[1]

        return self._step(body, _floats)

    def make_predict_step(self, forward, params):
        params = list(params)
        return self._step(lambda x: forward(params, x, False, None), _numpy)
