"""Train, test and predict steps for TensorFlow: one ``tf.function`` call per batch.

Each step is traced once per input signature (dtype and the shape after the batch dimension)
with the batch dimension left as None, so a smaller last batch runs the same graph. The
optimizer's slots are variables updated by ``assign`` inside the graph, with TensorFlow's fused
training kernels where one computes the rule (`backends.tensorflow.optim`). The step counter is a
Python int on the host: each call feeds the graph the rule's scalars for that step
(`Optimizer.scalars`, float64 on the host, rounded to float32 once) and the counter itself (int64,
for the dropout seeds), so no float32 counter stops counting at 2**24.

With ``BENCHBENCH_TF_JIT=1`` in the environment when the backend is created, the steps are
compiled with XLA (``jit_compile=True``); ``info()['jit_compile']`` records it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from backends.tensorflow.optim import fused_update
from benchbench.optimizers import RuleOps

ZERO = tf.UnconnectedGradients.ZERO
OPS = RuleOps(sqrt=tf.sqrt, maximum=tf.maximum, sum=tf.reduce_sum, clip=tf.clip_by_value)


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

        # autograph off: the steps use TensorFlow ops for their control flow (tf.while_loop), and
        # autograph would re-read the layers' source files at every trace
        fn = tf.function(
            run, input_signature=signature, jit_compile=self.jit_compile, autograph=False
        )
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


class TrainStep(CompiledStep):
    """The compiled train step, fed the optimizer's scalars and the host-side step counter.

    Attributes:
        iterations: steps done so far (the optimizer's step counter).
    """

    def __init__(self, body, device: str, jit_compile: bool, optimizer):
        super().__init__(body, _floats, device, jit_compile)
        self.optimizer = optimizer
        self.iterations = 0

    def __call__(self, x, y):
        scalars = np.asarray(self.optimizer.scalars(self.iterations), np.float32)
        result = super().__call__(x, y, scalars, np.array([self.iterations], np.int64))
        self.iterations += 1
        return result


class Trainer:
    def _step(self, body, finish) -> CompiledStep:
        return CompiledStep(body, finish, self.tf_device, self.jit_compile)

    def make_train_step(self, forward, loss, metric, optimizer, params):
        params = list(params)
        with tf.device(self.tf_device):
            initial = optimizer.initial_slots()
            slots = [
                [tf.Variable(tf.fill(p.shape, v), trainable=False) for v in initial]
                for p in params
            ]
        fused = fused_update(optimizer)
        n_scalars = len(optimizer.scalars(0))

        def body(x, y, scalars, step):
            scalars = tf.unstack(scalars, num=n_scalars)
            with tf.GradientTape() as tape:
                out = forward(params, x, True, self.step_rng(step[0]))
                batch_loss, result = _loss_and_metric(loss, metric, y, out)
            grads = _dense(tape.gradient(batch_loss, params, unconnected_gradients=ZERO))
            grads = optimizer.clip_gradients(grads, OPS)
            if fused:
                fused(params, grads, slots, scalars)
            else:
                self._generic_update(optimizer, params, grads, slots, scalars)
            return result

        return TrainStep(body, self.tf_device, self.jit_compile, optimizer)

    @staticmethod
    def _generic_update(optimizer, params, grads, slots, scalars):
        for p, g, p_slots in zip(params, grads, slots, strict=True):
            new, new_slots = optimizer.update(
                p, g, [s.read_value() for s in p_slots], scalars, OPS
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
