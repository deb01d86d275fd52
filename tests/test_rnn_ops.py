"""The recurrent ops of the contract, forward and gradient, one layer call at a time.

The NumPy reference's fused ops (backpropagation through time written out) are checked against
finite differences in float64, and its generic path (the layer's step function unrolled on the
tape) against them. Every other backend's generic path (``rnn``) and each fused op it has are
checked against the reference; a fused op may decline a configuration, which the layer then
runs on the generic path.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchbench.layers import GRU, LSTM, SimpleRNN
from tests.test_ops import GRAD_TOL, VALUE_TOL

STEPS, FEATURES, UNITS = 3, 2, 3

LAYERS = {
    "lstm": lambda: LSTM(UNITS),
    "lstm-sequences-backwards": lambda: LSTM(UNITS, return_sequences=True, go_backwards=True),
    "lstm-hard-sigmoid-no-bias": lambda: LSTM(
        UNITS, recurrent_activation="hard_sigmoid", use_bias=False
    ),
    "gru": lambda: GRU(UNITS),
    "gru-sequences-backwards": lambda: GRU(UNITS, return_sequences=True, go_backwards=True),
    "gru-reset-after": lambda: GRU(UNITS, reset_after=True),
    "gru-reset-after-sequences-no-bias": lambda: GRU(
        UNITS, reset_after=True, return_sequences=True, use_bias=False
    ),
    "simple-rnn": lambda: SimpleRNN(UNITS),
    "simple-rnn-relu-sequences-backwards": lambda: SimpleRNN(
        UNITS, activation="relu", return_sequences=True, go_backwards=True
    ),
}


def _layer(case):
    layer = LAYERS[case]()
    layer.build((STEPS, FEATURES))
    return layer


def _inputs(layer, rng, dtype):
    """x, then the weights in Keras's layout, scaled so no gate saturates."""
    x = rng.standard_normal((2, STEPS, FEATURES))
    weights = [0.6 * rng.standard_normal(s.shape) for s in layer.weight_specs((STEPS, FEATURES))]
    return [a.astype(dtype) for a in (x, *weights)]


def _path(layer, how):
    """``fn(K, x, *weights)``: the layer's generic path, or the backend's fused op."""

    def fn(K, x, *weights):
        kernel, recurrent_kernel, *bias = weights
        if how == "fused":
            op = K.fused_rnn_ops[layer.kind]
            return op(x, kernel, recurrent_kernel, *(bias or [None]), **layer.fused_arguments())
        previous, K.rnn_path = K.rnn_path, "generic"
        try:
            return layer.call(K, list(weights), x, training=False, rng=None)
        finally:
            K.rnn_path = previous

    return fn


def _scalar(K, fn, weights):
    return lambda *tensors: K.sum(K.multiply(fn(K, *tensors), K.convert(weights)))


def _output_weights(layer, rng, dtype):
    shape = (2, STEPS, UNITS) if layer.return_sequences else (2, UNITS)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("case", list(LAYERS))
def test_numpy_fused_gradient_matches_finite_differences(case, reference):
    layer = _layer(case)
    rng = np.random.default_rng(1)
    inputs = _inputs(layer, rng, np.float64)
    scalar = _scalar(reference, _path(layer, "fused"), _output_weights(layer, rng, np.float64))
    _, grads = reference.value_and_grad(scalar, *inputs)
    eps = 1e-6
    for k, x in enumerate(inputs):
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            hi, lo = [a.copy() for a in inputs], [a.copy() for a in inputs]
            hi[k][idx] += eps
            lo[k][idx] -= eps
            numeric[idx] = reference.evaluate(scalar, *hi) - reference.evaluate(scalar, *lo)
            numeric[idx] /= 2 * eps
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", list(LAYERS))
def test_numpy_generic_path_matches_its_fused_ops(case, reference):
    layer = _layer(case)
    rng = np.random.default_rng(2)
    inputs = _inputs(layer, rng, np.float64)
    weights = _output_weights(layer, rng, np.float64)
    fused = reference.value_and_grad(_scalar(reference, _path(layer, "fused"), weights), *inputs)
    generic = reference.value_and_grad(
        _scalar(reference, _path(layer, "generic"), weights), *inputs
    )
    np.testing.assert_allclose(generic[0], fused[0], rtol=1e-12)
    for mine, ref in zip(generic[1], fused[1], strict=True):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", list(LAYERS))
def test_generic_and_fused_paths_match_the_reference(case, other_backend, reference):
    layer = _layer(case)
    rng = np.random.default_rng(3)
    inputs = _inputs(layer, rng, np.float32)
    weights = _output_weights(layer, rng, np.float32)
    expected = reference.evaluate(lambda *t: _path(layer, "fused")(reference, *t), *inputs)
    value, grads = reference.value_and_grad(
        _scalar(reference, _path(layer, "fused"), weights), *inputs
    )
    paths = ["generic"] + (["fused"] if layer.kind in other_backend.fused_rnn_ops else [])
    for how in paths:
        fn = _path(layer, how)
        try:
            actual = other_backend.evaluate(lambda *t, fn=fn: fn(other_backend, *t), *inputs)
        except NotImplementedError:
            assert how == "fused"  # a declined configuration: the layer runs it generically
            continue
        np.testing.assert_allclose(actual, expected, **VALUE_TOL, err_msg=how)
        mine = other_backend.value_and_grad(_scalar(other_backend, fn, weights), *inputs)
        np.testing.assert_allclose(mine[0], value, rtol=1e-5, atol=1e-5, err_msg=how)
        for got, ref in zip(mine[1], grads, strict=True):
            np.testing.assert_allclose(got, ref, **GRAD_TOL, err_msg=how)
