"""Parity with Keras 3 for the recurrent configurations it shares with Keras 2.3: LSTM (sigmoid
gates), GRU with ``reset_after=True`` (Keras 3's only GRU), SimpleRNN, Embedding, Bidirectional,
TimeDistributed, RepeatVector and the global poolings. The same weights, loaded into Keras 3,
give the same predictions and Keras 3 counts the same parameters.

Keras 3 binds its backend at import, so it runs in a fresh process, on its NumPy backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KERAS_CHECK = """
import numpy as np
import keras
from keras import layers as k
from benchbench import Sequential, registry
from benchbench import layers as b

backend = registry.get_backend("numpy")
rng = np.random.default_rng(0)
sequences = rng.standard_normal((5, 6, 3)).astype(np.float32)
ids = rng.integers(0, 12, (5, 6)).astype(np.int32)

CASES = {
    "lstm": (
        [b.LSTM(5, input_shape=(6, 3)), b.Dense(2)],
        [k.Input((6, 3)), k.LSTM(5), k.Dense(2)],
    ),
    "lstm-sequences-backwards": (
        [
            b.LSTM(5, return_sequences=True, go_backwards=True, input_shape=(6, 3)),
            b.TimeDistributed(b.Dense(2)),
        ],
        [
            k.Input((6, 3)),
            k.LSTM(5, return_sequences=True, go_backwards=True),
            k.TimeDistributed(k.Dense(2)),
        ],
    ),
    "gru-reset-after": (
        [b.GRU(4, reset_after=True, input_shape=(6, 3))],
        [k.Input((6, 3)), k.GRU(4)],
    ),
    "gru-reset-after-sequences-backwards": (
        [b.GRU(4, reset_after=True, return_sequences=True, go_backwards=True, input_shape=(6, 3))],
        [k.Input((6, 3)), k.GRU(4, return_sequences=True, go_backwards=True)],
    ),
    "simple-rnn": (
        [b.SimpleRNN(4, input_shape=(6, 3)), b.RepeatVector(2), b.GlobalMaxPooling1D()],
        [k.Input((6, 3)), k.SimpleRNN(4), k.RepeatVector(2), k.GlobalMaxPooling1D()],
    ),
    "embedding-bidirectional-lstm": (
        [b.Embedding(12, 4, input_length=6), b.Bidirectional(b.LSTM(3)), b.Dense(1)],
        [k.Input((6,), dtype="int32"), k.Embedding(12, 4), k.Bidirectional(k.LSTM(3)), k.Dense(1)],
    ),
    "embedding-average": (
        [b.Embedding(12, 4, input_length=6), b.GlobalAveragePooling1D(), b.Dense(1)],
        [k.Input((6,), dtype="int32"), k.Embedding(12, 4), k.GlobalAveragePooling1D(), k.Dense(1)],
    ),
    "bidirectional-gru-sum": (
        [
            b.Bidirectional(
                b.GRU(3, reset_after=True, return_sequences=True),
                merge_mode="sum",
                input_shape=(6, 3),
            )
        ],
        [k.Input((6, 3)), k.Bidirectional(k.GRU(3, return_sequences=True), merge_mode="sum")],
    ),
}

for name, (ours_layers, their_layers) in CASES.items():
    ours = Sequential(ours_layers)
    ours.compile("sgd", "mse", backend=backend)
    theirs = keras.Sequential(their_layers)
    assert ours.count_params() == theirs.count_params(), name
    theirs.set_weights(ours.get_weights())
    x = ids if "embedding" in name else sequences
    np.testing.assert_allclose(
        ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6, err_msg=name
    )
print("same predictions:", len(CASES))
"""


def test_keras_3_loads_the_weights_and_predicts_the_same():
    pytest.importorskip("keras")
    env = {**os.environ, "KERAS_BACKEND": "numpy", "PYTHONPATH": str(Path(__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", KERAS_CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "same predictions: 8" in out.stdout
