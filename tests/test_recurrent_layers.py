"""Recurrent, embedding and wrapper layers on their own: Keras's parameter counts, shapes, weight
layout and initialisation, argument errors, integer inputs, how dropout masks are drawn, and
that every backend trains a model with dropout on."""

from __future__ import annotations

import numpy as np
import pytest

from benchbench import Input, Model, ModelBuildError, Sequential, registry
from benchbench.backend_ops import RNN_PATH_ENV, RNN_PATHS
from benchbench.errors import BenchbenchError
from benchbench.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    RepeatVector,
    SimpleRNN,
    TimeDistributed,
)
from benchbench.optimizers import Adam


def imdb_bilstm():
    return Sequential(
        [
            Embedding(20000, 128, input_length=100),
            Bidirectional(LSTM(64)),
            Dropout(0.5),
            Dense(1, activation="sigmoid"),
        ]
    )


def imdb_fasttext():
    return Sequential(
        [
            Embedding(20000, 50, input_length=400),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ]
    )


def lstm_text_generation():
    return Sequential([LSTM(128, input_shape=(40, 57)), Dense(57, activation="softmax")])


def mnist1d_gru():
    return Sequential(
        [
            Bidirectional(GRU(6, reset_after=True, return_sequences=True), input_shape=(40, 1)),
            Flatten(),
            Dense(10),
        ]
    )


def addition_rnn():
    return Sequential(
        [
            LSTM(128, input_shape=(7, 12)),
            RepeatVector(4),
            LSTM(128, return_sequences=True),
            TimeDistributed(Dense(12, activation="softmax")),
        ]
    )


@pytest.mark.parametrize(
    ("builder", "params"),
    [
        (imdb_bilstm, 2_658_945),
        (imdb_fasttext, 1_000_051),
        (lstm_text_generation, 102_585),
        (mnist1d_gru, 5_134),
        (addition_rnn, 205_324),
    ],
)
def test_keras_parameter_counts(builder, params):
    assert builder().count_params() == params


def test_summary_shapes_of_the_recurrent_examples():
    text = imdb_bilstm().summary_text()
    assert "(None, 100, 128)" in text and "2,560,000" in text
    assert "bidirectional_1 (Bidirectional)" in text and "(None, 128)" in text and "98,816" in text
    text = addition_rnn().summary_text()
    assert "(None, 4, 128)" in text and "(None, 4, 12)" in text and "1,548" in text


def test_weights_are_in_keras_layout_order_and_initialisation():
    model = Sequential([LSTM(4, input_shape=(5, 3)), Dense(2)])
    kernel, recurrent, bias = model.get_weights()[:3]
    assert (kernel.shape, recurrent.shape, bias.shape) == ((3, 16), (4, 16), (16,))
    limit = np.sqrt(6 / (3 + 16))  # glorot_uniform over (3, 16)
    assert np.abs(kernel).max() <= limit
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthogonal rows
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    gru = Sequential([GRU(4, reset_after=True, input_shape=(5, 3))])
    assert [w.shape for w in gru.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    assert [w.shape for w in Sequential([GRU(4, input_shape=(5, 3))]).get_weights()][2] == (12,)
    table = Sequential([Embedding(50, 8, input_length=3)]).get_weights()[0]
    assert table.shape == (50, 8) and 0.04 < np.abs(table).max() <= 0.05


def test_keras_2_input_length_and_input_dim():
    assert Sequential([GRU(2, input_length=7, input_dim=3)]).input.shape == (7, 3)
    assert Sequential([Bidirectional(LSTM(2, input_shape=(7, 3)))]).input.shape == (7, 3)


def test_bidirectional_weights_are_forward_then_backward():
    model = Sequential([Bidirectional(SimpleRNN(3, use_bias=False), input_shape=(4, 2))])
    assert model._weight_names == [
        "bidirectional_1/forward_simple_rnn/kernel",
        "bidirectional_1/forward_simple_rnn/recurrent_kernel",
        "bidirectional_1/backward_simple_rnn/kernel",
        "bidirectional_1/backward_simple_rnn/recurrent_kernel",
    ]
    forward, backward = model.layers[0].forward_layer, model.layers[0].backward_layer
    assert not forward.go_backwards and backward.go_backwards
    a, _, b, _ = model.get_weights()
    assert not np.allclose(a, b)  # each direction starts from weights of its own


@pytest.mark.parametrize(
    ("mode", "combine"),
    [
        ("concat", lambda f, b: np.concatenate([f, b], axis=-1)),
        ("sum", lambda f, b: f + b),
        ("mul", lambda f, b: f * b),
        ("ave", lambda f, b: (f + b) / 2),
    ],
)
def test_bidirectional_merge_modes_and_reversed_sequences(mode, combine, reference):
    x = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    both = Sequential(
        [Bidirectional(GRU(3, return_sequences=True), merge_mode=mode, input_shape=(5, 2))]
    )
    ahead = Sequential([GRU(3, return_sequences=True, input_shape=(5, 2))])
    behind = Sequential([GRU(3, return_sequences=True, go_backwards=True, input_shape=(5, 2))])
    for model in (both, ahead, behind):
        model.compile("sgd", "mse", backend=reference)
    weights = both.get_weights()
    ahead.set_weights(weights[:3])
    behind.set_weights(weights[3:])
    expected = combine(ahead.predict(x), behind.predict(x)[:, ::-1])
    np.testing.assert_allclose(both.predict(x), expected, rtol=1e-6)


def test_global_poolings_and_repeat_vector(reference):
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    for layer, expected in (
        (GlobalAveragePooling1D(input_shape=(4, 3)), x.mean(axis=1)),
        (GlobalMaxPooling1D(input_shape=(4, 3)), x.max(axis=1)),
    ):
        model = Sequential([layer])
        model.compile("sgd", "mse", backend=reference)
        np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)
    model = Sequential([RepeatVector(3, input_shape=(2,))])
    model.compile("sgd", "mse", backend=reference)
    flat = x[:, 0, :2]
    np.testing.assert_array_equal(model.predict(flat), np.stack([flat] * 3, axis=1))


def test_time_distributed_dense_is_dense_at_every_step(reference):
    x = np.random.default_rng(2).standard_normal((2, 4, 3)).astype(np.float32)
    wrapped = Sequential([TimeDistributed(Dense(5, activation="tanh"), input_shape=(4, 3))])
    dense = Sequential([Dense(5, activation="tanh", input_shape=(3,))])
    for model in (wrapped, dense):
        model.compile("sgd", "mse", backend=reference)
    dense.set_weights(wrapped.get_weights())
    expected = dense.predict(x.reshape(-1, 3)).reshape(2, 4, 5)
    np.testing.assert_allclose(wrapped.predict(x), expected, rtol=1e-6)
    assert wrapped._weight_names == ["time_distributed_1/kernel", "time_distributed_1/bias"]


# -- integer inputs ------------------------------------------------------------------------------


def test_token_ids_flow_in_as_int32(reference):
    model = imdb_fasttext_small()
    assert model.input_dtype == "int32"
    model.compile(Adam(learning_rate=0.01), "binary_crossentropy", ["accuracy"], backend=reference)
    x = np.random.default_rng(0).integers(0, 30, (16, 5))
    y = (x[:, :1] > 15).astype(np.float32)
    model.fit(x.astype(np.float64), y, batch_size=8, epochs=1, verbose=0)  # whole floats: fine
    assert model.predict(x.astype(np.int64)).shape == (16, 1)
    with pytest.raises(ValueError, match=r"ids in \[0, 30\), got ids from 30 to 30"):
        model.predict(np.full((2, 5), 30))
    with pytest.raises(ValueError, match="not whole numbers"):
        model.predict(np.full((2, 5), 1.5))


def imdb_fasttext_small():
    return Sequential([Embedding(30, 4, input_length=5), GlobalAveragePooling1D(), Dense(1)])


def test_functional_input_dtype_follows_the_embedding_or_says_what_to_do():
    ids = Input((5,))
    assert Model(ids, Dense(1)(Flatten()(Embedding(9, 2)(ids)))).input_dtype == "int32"
    floats = Input((5,), dtype="float32")
    with pytest.raises(ModelBuildError, match="takes int32 input.*dtype='int32'"):
        Model(floats, Flatten()(Embedding(9, 2)(floats)))
    with pytest.raises(ValueError, match="dtype must be one of"):
        Input((5,), dtype="int8")


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: LSTM(0), ValueError, "units must be a positive int"),
        (lambda: LSTM(4, return_state=True), ValueError, "return_state=True is not supported"),
        (lambda: GRU(4, implementation=1), ValueError, "only implementation=2"),
        (lambda: SimpleRNN(4, recurrent_activation="sigmoid"), TypeError, "valid keyword"),
        (lambda: LSTM(4, dropout=1.0), ValueError, r"dropout must be a number in \[0, 1\)"),
        (lambda: LSTM(4, recurrent_activation="swish"), Exception, "unknown activation"),
        (lambda: Bidirectional(Dense(3)), TypeError, "wraps a recurrent layer"),
        (lambda: Bidirectional(LSTM(3), merge_mode=None), ValueError, "merge_mode must be"),
        (lambda: Embedding(10, 3, mask_zero=True), ValueError, "mask_zero=True"),
        (lambda: Embedding(0, 3), ValueError, "input_dim must be a positive int"),
        (lambda: RepeatVector(0), ValueError, "n must be a positive int"),
        (lambda: LSTM(4, input_dim=3), ValueError, "input_length and input_dim together"),
    ],
)
def test_bad_arguments_say_what_is_expected(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize(
    ("layers", "pattern"),
    [
        ([LSTM(4, input_shape=(5,))], r"'lstm_1' \(LSTM\).*\(None, 5\).*sequence"),
        ([TimeDistributed(Dense(2), input_shape=(5,))], "at least 3 dimensions"),
        ([Embedding(9, 2, input_length=4, input_shape=(5,))], "input_length is 4"),
        ([Dense(3, input_shape=(4, 2))], "TimeDistributed"),
        ([GlobalAveragePooling1D(input_shape=(4,))], "expects a sequence"),
    ],
)
def test_wrong_shapes_name_the_layer(layers, pattern):
    with pytest.raises(ModelBuildError, match=pattern):
        Sequential(layers)


def test_unknown_rnn_path_is_refused_with_the_valid_ones(monkeypatch):
    monkeypatch.setenv(RNN_PATH_ENV, "cudnn")
    with pytest.raises(BenchbenchError, match="'cudnn'; expected one of auto, fused, generic"):
        registry.get_backend("numpy")


def test_the_auto_path_takes_the_fused_ops_the_backend_prefers(backend):
    previous = backend.rnn_path
    try:
        for path in RNN_PATHS:
            backend.rnn_path = path
            in_use = backend.rnn_info()["fused_rnn_in_use"]
            expected = {
                "auto": sorted(backend.preferred_fused_rnn),
                "fused": sorted(backend.fused_rnn_ops),
                "generic": [],
            }[path]
            assert in_use == expected, path
    finally:
        backend.rnn_path = previous
    assert backend.preferred_fused_rnn <= set(backend.fused_rnn_ops)


# -- dropout -------------------------------------------------------------------------------------


def test_dropout_masks_are_drawn_once_per_sequence(reference, monkeypatch):
    drawn = []
    dropout = reference.dropout

    def recording(x, rate, rng):
        drawn.append((x.shape, rate))
        return dropout(x, rate, rng)

    monkeypatch.setattr(reference, "dropout", recording)
    layer = LSTM(3, dropout=0.25, recurrent_dropout=0.5, return_sequences=True)
    model = Sequential([layer], seed=0)
    model.build((7, 2))
    model.compile("sgd", "mse", backend=reference)
    x = np.ones((4, 7, 2), np.float32)
    out = model.forward(model._vars, reference.convert(x), True, None)
    assert sorted(drawn) == [((4, 2), 0.25), ((4, 3), 0.5)]  # not once per step
    assert reference.to_numpy(out).shape == (4, 7, 3)
    assert layer.uses_rng and not LSTM(3).uses_rng


def test_every_backend_trains_with_recurrent_dropout(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5, 2)).astype(np.float32)
    y = (x[:, 0, :1] > 0).astype(np.float32)
    model = Sequential(
        [
            Bidirectional(LSTM(4, dropout=0.2, recurrent_dropout=0.2), input_shape=(5, 2)),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(Adam(learning_rate=0.05), "binary_crossentropy", ["accuracy"], backend=backend)
    losses = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_recurrent_models_save_and_load(reference, tmp_path):
    pytest.importorskip("h5py")
    from benchbench.models import load_model

    ids = np.random.default_rng(0).integers(0, 30, (4, 5))
    sequences = np.random.default_rng(1).standard_normal((4, 7, 12)).astype(np.float32)
    models = {
        "bilstm": (
            Sequential(
                [
                    Embedding(30, 4, input_length=5),
                    Bidirectional(LSTM(3, recurrent_activation="hard_sigmoid"), "sum"),
                    Dense(1, activation="sigmoid"),
                ]
            ),
            ids,
        ),
        "addition": (addition_rnn(), sequences),
        "gru": (mnist1d_gru(), sequences[:, :, :1].repeat(6, axis=1)[:, :40]),
    }
    for name, (model, x) in models.items():
        model.compile("adam", "mse", backend=reference)
        model.save(tmp_path / f"{name}.h5")
        again = load_model(tmp_path / f"{name}.h5")
        assert again._weight_names == model._weight_names, name
        np.testing.assert_array_equal(again.predict(x), model.predict(x), err_msg=name)
