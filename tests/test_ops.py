"""Every op of the contract: forward and gradient, against finite differences (NumPy backend)
and against the NumPy reference (every other installed backend)."""

from __future__ import annotations

import numpy as np
import pytest

from benchbench.backend_ops import OPS
from tests.op_cases import CASES, DIFFERENTIABLE, output_shape, scalarize

VALUE_TOL = {"rtol": 1e-5, "atol": 1e-6}
GRAD_TOL = {"rtol": 1e-4, "atol": 1e-5}


def test_every_op_has_a_case():
    # dropout is random: test_dropout_* checks it statistically
    assert {case[1] for case in CASES} | {"dropout"} == set(OPS)


def _ids(cases):
    return [c[0] for c in cases]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_numpy_gradient_matches_finite_differences(case, reference):
    _, _, fn, make_inputs = case
    rng = np.random.default_rng(1)
    inputs = make_inputs(rng, np.float64)
    weights = rng.standard_normal(output_shape(reference, fn, inputs))
    scalar = scalarize(reference, fn, weights)
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


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_forward_matches_reference(case, other_backend, reference):
    _, _, fn, make_inputs = case
    inputs = make_inputs(np.random.default_rng(2), np.float32)
    expected = reference.evaluate(lambda *t: fn(reference, *t), *inputs)
    actual = other_backend.evaluate(lambda *t: fn(other_backend, *t), *inputs)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual.astype(np.float64), expected, **VALUE_TOL)


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_gradient_matches_reference(case, other_backend, reference):
    _, _, fn, make_inputs = case
    rng = np.random.default_rng(3)
    inputs = make_inputs(rng, np.float32)
    weights = rng.standard_normal(output_shape(reference, fn, inputs)).astype(np.float32)
    value, grads = reference.value_and_grad(scalarize(reference, fn, weights), *inputs)
    other_value, other_grads = other_backend.value_and_grad(
        scalarize(other_backend, fn, weights), *inputs
    )
    np.testing.assert_allclose(other_value, value, rtol=1e-5, atol=1e-5)
    for mine, ref in zip(other_grads, grads, strict=True):
        np.testing.assert_allclose(mine, ref, **GRAD_TOL)


@pytest.mark.parametrize("rate", [0.25, 0.5])
def test_dropout_is_inverted_and_drops_the_right_share(backend, rate):
    x = np.ones((200, 100), dtype=np.float32)
    out = backend.evaluate(lambda t: backend.dropout(t, rate, backend.step_rng(0)), x)
    kept = out != 0
    assert abs(1 - kept.mean() - rate) < 0.02
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - rate), rtol=1e-6)
