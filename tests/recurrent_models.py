"""Small recurrent and embedding models and their data, shared by the recurrent tests.

Between them they cover the Keras examples the recurrent workloads use, in miniature: fastText
(Embedding + GlobalAveragePooling1D) and the IMDb bidirectional LSTM, the addition RNN (LSTM,
RepeatVector, a sequence-returning LSTM, TimeDistributed(Dense)), MNIST-1D's bidirectional
GRU (``reset_after=True``), and Keras 2's GRU under a SimpleRNN read backwards and max-pooled.
Few models, each covering several layers: every model is a compiled graph per backend, and
PyTensor's first compile of one takes tens of seconds.
"""

from __future__ import annotations

import numpy as np

from benchbench import Input, Model, Sequential
from benchbench.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Concatenate,
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Recurrent,
    RepeatVector,
    SimpleRNN,
    TimeDistributed,
)

STEPS, FEATURES, VOCABULARY, CLASSES = 6, 3, 12, 4


def text_classifier():
    """fastText's Embedding + GlobalAveragePooling1D beside the IMDb bidirectional LSTM, which
    here returns sequences (reversed back for the backward layer) and is averaged too."""
    ids = Input((STEPS,))
    vectors = Embedding(VOCABULARY, 4, input_length=STEPS)(ids)
    bag = GlobalAveragePooling1D()(vectors)
    read = GlobalAveragePooling1D()(Bidirectional(LSTM(5, return_sequences=True))(vectors))
    out = Dense(1, activation="sigmoid")(Concatenate()([bag, read]))
    return Model(ids, out, name="text_classifier")


def addition_rnn():
    return Sequential(
        [
            LSTM(6, input_shape=(STEPS, FEATURES)),
            RepeatVector(3),
            LSTM(5, return_sequences=True),
            TimeDistributed(Dense(CLASSES, activation="softmax")),
        ]
    )


def mnist1d_bigru():
    return Sequential(
        [
            Bidirectional(
                GRU(4, reset_after=True, return_sequences=True), input_shape=(STEPS, FEATURES)
            ),
            Flatten(),
            Dense(CLASSES, activation="softmax"),
        ]
    )


def gru_simple_rnn():
    """Keras 2's GRU (``reset_after=False``, which PyTorch's kernel declines, as it does Keras
    2's hard_sigmoid gates) under a SimpleRNN that reads it backwards."""
    return Sequential(
        [
            GRU(
                5,
                return_sequences=True,
                recurrent_activation="hard_sigmoid",
                input_shape=(STEPS, FEATURES),
            ),
            SimpleRNN(4, return_sequences=True, go_backwards=True),
            GlobalMaxPooling1D(),
            Dense(CLASSES, activation="softmax"),
        ]
    )


MODELS = {
    "text_classifier": text_classifier,
    "addition_rnn": addition_rnn,
    "mnist1d_bigru": mnist1d_bigru,
    "gru_simple_rnn": gru_simple_rnn,
}
TOKEN_MODELS = {"text_classifier"}


def data(name: str, samples: int, seed: int = 0):
    """``(x, y, loss)`` for model `name`: token ids or float sequences, learnable labels."""
    rng = np.random.default_rng(seed)
    if name in TOKEN_MODELS:
        x = rng.integers(0, VOCABULARY, (samples, STEPS)).astype(np.int32)
        y = (x[:, :3].sum(axis=1) > 1.5 * (VOCABULARY - 1)).astype(np.float32)[:, None]
        return x, y, "binary_crossentropy"
    x = rng.standard_normal((samples, STEPS, FEATURES)).astype(np.float32)
    if name == "addition_rnn":
        labels = (np.abs(x[:, :3, :]).sum(axis=2) * 1.5).astype(int) % CLASSES
        return x, np.eye(CLASSES, dtype=np.float32)[labels], "categorical_crossentropy"
    labels = np.argmax(x.sum(axis=2)[:, :CLASSES], axis=1)
    return x, np.eye(CLASSES, dtype=np.float32)[labels], "categorical_crossentropy"


def recurrent_kinds(model) -> set[str]:
    """The fused op names the model's recurrent layers would ask a backend for."""
    kinds = set()
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", layer)
        if isinstance(inner, Recurrent):
            kinds.add(inner.kind)
    return kinds
