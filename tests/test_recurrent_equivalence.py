"""Recurrent and embedding models, every backend and both recurrent paths: the same weights give
the same predictions (1e-5) and the same 20-step loss trajectory (1e-4) as the NumPy reference.

The reference runs its fused ops (backpropagation through time written out, checked against
finite differences in test_rnn_ops.py). Each other backend runs its fused kernels where it has
them and, separately, the generic path (``rnn_path='generic'``); a backend with no fused op
for a model's layers runs the generic path only. Dropout is off here (its masks are random);
test_recurrent_layers.py checks how masks are drawn.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from benchbench.optimizers import Adam
from tests.conftest import TESTABLE, load_backend
from tests.recurrent_models import MODELS, data, recurrent_kinds
from tests.test_equivalence import _BatchLosses


@contextlib.contextmanager
def rnn_path(backend, path: str):
    previous = backend.rnn_path
    backend.rnn_path = path
    try:
        yield backend
    finally:
        backend.rnn_path = previous


def _cases():
    for name in TESTABLE:
        paths = ["generic"] if name == "numpy" else ["fused", "generic"]
        for path in paths:
            yield pytest.param(name, path, id=f"{name}-{path}")


def _trained(builder, backend, x, y, loss):
    model = builder()
    model.compile(
        Adam(learning_rate=0.01, epsilon=1e-3), loss=loss, metrics=["accuracy"], backend=backend
    )
    before = model.predict(x[:16])
    history = model.fit(
        x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, callbacks=[_BatchLosses()]
    )
    return before, history.batch_losses, model.predict(x[:16])


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize(("name", "path"), _cases())
def test_same_predictions_and_losses_as_the_reference(model, name, path):
    backend = load_backend(name)
    builder = MODELS[model]
    if path == "fused" and not recurrent_kinds(builder()) & set(backend.fused_rnn_ops):
        pytest.skip(f"{name} has no fused op for {model}'s layers: its generic run covers it")
    x, y, loss = data(model, 160)
    with rnn_path(load_backend("numpy"), "fused") as reference:
        expected = _trained(builder, reference, x, y, loss)
    with rnn_path(backend, path):
        actual = _trained(builder, backend, x, y, loss)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-5, atol=1e-6)
    assert len(expected[1]) == 20
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(actual[2], expected[2], rtol=1e-3, atol=1e-4)
