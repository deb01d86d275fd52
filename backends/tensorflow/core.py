"""Device placement, seeding, threads, conversion and variables for TensorFlow."""

from __future__ import annotations

import os
import platform
import re
import warnings

import numpy as np
import tensorflow as tf

from benchbench.errors import DeviceUnavailable

JIT_ENV_VAR = "BENCHBENCH_TF_JIT"


def _set_threads(threads: int) -> None:
    """Thread pools are fixed when TensorFlow's runtime starts; later changes fail."""
    config = tf.config.threading
    try:
        config.set_intra_op_parallelism_threads(threads)
        config.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        if config.get_intra_op_parallelism_threads() != threads:
            warnings.warn(
                f"tensorflow: cannot set {threads} threads, the runtime already started with "
                f"{config.get_intra_op_parallelism_threads() or 'its default'}; create the "
                "backend before running any TensorFlow op",
                RuntimeWarning,
                stacklevel=3,
            )


def _gpus() -> list:
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        build = "a build with CUDA" if tf.test.is_built_with_cuda() else "a CPU-only build"
        raise DeviceUnavailable(
            "tensorflow",
            "gpu",
            f"TensorFlow {tf.__version__} ({build}) sees no GPU; install "
            "'benchbench[tensorflow-gpu]' on a machine with an NVIDIA driver",
        )
    for gpu in gpus:
        try:
            # Grow on demand instead of reserving the whole card up front.
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # the runtime already started; its setting stays
            pass
    return gpus


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Core:
    def setup(self, device, seed, threads):
        if device not in ("cpu", "gpu"):
            raise DeviceUnavailable("tensorflow", device, "expected 'cpu' or 'gpu'")
        if threads:
            _set_threads(threads)
        self.gpus = _gpus() if device == "gpu" else []
        self.tf_device = "/GPU:0" if self.gpus else "/CPU:0"
        self.jit_compile = os.environ.get(JIT_ENV_VAR, "").strip() == "1"
        tf.random.set_seed(seed)

    def info(self) -> dict:
        if self.gpus:
            details = tf.config.experimental.get_device_details(self.gpus[0])
            name = details.get("device_name", self.gpus[0].name)
        else:
            name = platform.processor() or platform.machine()
        intra = tf.config.threading.get_intra_op_parallelism_threads()
        return {
            "engine": "tensorflow",
            "version": tf.__version__,
            "device": self.device,
            "device_name": name,
            # 0 means TensorFlow's default: one thread per core it may use
            "threads": intra or _usable_cores(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "jit_compile": self.jit_compile,
            "cuda": tf.sysconfig.get_build_info().get("cuda_version", ""),
        }

    @property
    def preferred_fused_rnn(self):
        # BlockLSTM was slower than the while loop in every interleaved run on the development
        # CPU (scripts/rnn_step_times.py times both paths); untried on a GPU
        return frozenset()

    def fused_rnn(self, kind):
        # BlockLSTM has no XLA kernel: under BENCHBENCH_TF_JIT=1 every layer is generic
        return None if self.jit_compile else super().fused_rnn(kind)

    def synchronize(self):
        if self.gpus:
            tf.test.experimental.sync_devices()

    def convert(self, array):
        with tf.device(self.tf_device):
            return tf.convert_to_tensor(np.asarray(array))

    def to_numpy(self, tensor):
        return tensor.numpy() if hasattr(tensor, "numpy") else np.asarray(tensor)

    def variable(self, value, name):
        with tf.device(self.tf_device):
            # TensorFlow allows only [A-Za-z0-9_.\-/] in names.
            return tf.Variable(
                np.asarray(value, dtype=np.float32),
                dtype=tf.float32,
                name=re.sub(r"[^A-Za-z0-9_.\-/]", "_", name),
            )

    def get_value(self, var):
        return var.numpy().copy()

    def set_value(self, var, value):
        var.assign(np.asarray(value, dtype=np.float32))

    def evaluate(self, fn, *arrays):
        with tf.device(self.tf_device):
            return self.to_numpy(fn(*[self.convert(a) for a in arrays]))

    def value_and_grad(self, fn, *arrays):
        with tf.device(self.tf_device):
            inputs = [self.convert(a) for a in arrays]
            with tf.GradientTape() as tape:
                for t in inputs:
                    tape.watch(t)
                out = fn(*inputs)
            grads = tape.gradient(out, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return float(out.numpy()), [tf.convert_to_tensor(g).numpy() for g in grads]

    # -- randomness: a (2,) seed per step, derived per layer; stateless ops draw from it -------

    def step_rng(self, step):
        return tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])

    def fold_rng(self, rng, index):
        return tf.random.experimental.stateless_fold_in(rng, index)
