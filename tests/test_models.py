"""The model layer on its own: shapes, parameter counts, weights layout, errors, fit API."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchbench import Input, Model, ModelBuildError, Sequential, UnknownNameError
from benchbench.callbacks import ProgbarLogger
from benchbench.layers import (
    Activation,
    Add,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling1D,
    MaxPooling2D,
)
from benchbench.optimizers import SGD, Adadelta, RMSprop


def keras_mnist_mlp():
    return Sequential(
        [
            Dense(512, activation="relu", input_shape=(784,)),
            Dropout(0.2),
            Dense(512, activation="relu"),
            Dropout(0.2),
            Dense(10, activation="softmax"),
        ]
    )


def keras_mnist_cnn():
    return Sequential(
        [
            Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
            Conv2D(64, (3, 3), activation="relu"),
            MaxPooling2D(pool_size=(2, 2)),
            Dropout(0.25),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
            Dense(10, activation="softmax"),
        ]
    )


def keras_cifar10_cnn():
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding="same", input_shape=(32, 32, 3)))
    model.add(Activation("relu"))
    model.add(Conv2D(32, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), padding="same"))
    model.add(Activation("relu"))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation("relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10))
    model.add(Activation("softmax"))
    return model


@pytest.mark.parametrize(
    "builder, params",
    [(keras_mnist_mlp, 669_706), (keras_mnist_cnn, 1_199_882), (keras_cifar10_cnn, 1_250_858)],
)
def test_published_parameter_counts(builder, params):
    assert builder().count_params() == params


def test_weights_are_in_keras_layout_and_order():
    shapes = [w.shape for w in keras_mnist_cnn().get_weights()]
    assert shapes == [
        (3, 3, 1, 32),
        (32,),
        (3, 3, 32, 64),
        (64,),
        (9216, 128),
        (128,),
        (128, 10),
        (10,),
    ]


def test_same_seed_same_weights_and_glorot_limits():
    a, b = keras_mnist_mlp().get_weights(), keras_mnist_mlp().get_weights()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    limit = np.sqrt(6 / (784 + 512))
    assert np.abs(a[0]).max() <= limit and np.abs(a[0]).max() > 0.9 * limit
    assert not a[1].any()  # bias starts at zero


def test_summary_lists_layers_shapes_and_counts():
    text = keras_mnist_cnn().summary_text()
    assert "conv2d_1 (Conv2D)" in text and "(None, 26, 26, 32)" in text
    assert "flatten_1 (Flatten)" in text and "(None, 9216)" in text
    assert "Total params: 1,199,882" in text


def test_functional_residual_model():
    inputs = Input((40,))
    h = Dense(100, activation="relu")(inputs)
    r = Dense(100, activation="relu")(h)
    h = Add()([h, r])
    both = Concatenate()([h, inputs])
    outputs = Dense(10, activation="softmax")(both)
    model = Model(inputs, outputs)
    assert model.count_params() == 40 * 100 + 100 + 100 * 100 + 100 + 140 * 10 + 10
    model.compile(
        SGD(learning_rate=0.1), "sparse_categorical_crossentropy", ["accuracy"], backend="numpy"
    )
    x = np.random.default_rng(0).standard_normal((64, 40)).astype(np.float32)
    y = np.arange(64) % 10
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(x).shape == (64, 10)


def test_conv1d_and_pool1d_shapes():
    model = Sequential(
        [
            Conv1D(25, 5, strides=2, padding="same", input_shape=(40, 1)),
            MaxPooling1D(2),
            Flatten(),
        ]
    )
    assert model.output.shape == (250,)


# -- errors ---------------------------------------------------------------------------------------


def test_dense_after_conv_without_flatten_names_layer_and_shape():
    with pytest.raises(ModelBuildError, match=r"dense_1.*\(None, 26, 26, 8\).*Flatten"):
        Sequential([Conv2D(8, (3, 3), input_shape=(28, 28, 1)), Dense(10)])


def test_kernel_larger_than_input():
    with pytest.raises(ModelBuildError, match="larger than the input"):
        Sequential([Conv2D(8, (5, 5), input_shape=(3, 3, 1))])


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: Dense(10, activation="relux"), "unknown activation 'relux'.*relu, sigmoid"),
        (lambda: Dense(10, kernel_initializer="nope"), "unknown initializer.*glorot_uniform"),
        (
            lambda: Dense(10, units_typo=3),
            r"unexpected argument\(s\) \['units_typo'\].*activation",
        ),
        (lambda: Conv2D(8, 3, padding="full"), "padding must be one of"),
        (lambda: Dropout(1.5), r"rate must be a number in \[0, 1\)"),
        (lambda: RMSprop(learning_rate=-1), "expected a number >= 0"),
    ],
)
def test_bad_layer_arguments_say_what_is_valid(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"loss": "hinge"}, "unknown loss 'hinge'.*categorical_crossentropy"),
        ({"optimizer": "adamw"}, "unknown optimizer 'adamw'.*adadelta, adagrad, adam"),
        ({"metrics": ["f1"]}, "unknown metric 'f1'.*accuracy"),
        ({"backend": "caffe"}, "unknown backend 'caffe'.*numpy.*torch"),
    ],
)
def test_unknown_compile_arguments_list_valid_names(kwargs, pattern):
    settings = {"optimizer": "sgd", "loss": "mse", **kwargs}
    with pytest.raises(UnknownNameError, match=pattern):
        keras_mnist_mlp().compile(**settings)


def test_fit_before_compile_and_wrong_shapes():
    model = keras_mnist_mlp()
    x = np.zeros((4, 784), np.float32)
    with pytest.raises(Exception, match="compile"):
        model.fit(x, np.zeros((4, 10)))
    model.compile("sgd", "categorical_crossentropy", backend="numpy")
    with pytest.raises(ValueError, match=r"expects \(None, 784\)"):
        model.fit(np.zeros((4, 28, 28)), np.zeros((4, 10)), verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, np.zeros(4), verbose=0)
    with pytest.raises(ValueError, match=r"dense_1/kernel has shape \(784, 512\)"):
        model.set_weights([np.zeros((3, 3))] + model.get_weights()[1:])


def test_model_without_input_shape_builds_on_fit():
    model = Sequential([Dense(4, activation="relu"), Dense(2, activation="softmax")])
    with pytest.raises(ModelBuildError, match="input_shape"):
        model.count_params()
    model.compile("sgd", "categorical_crossentropy", backend="numpy")
    model.fit(np.ones((8, 3), np.float32), np.eye(2, dtype=np.float32)[[0, 1] * 4], verbose=0)
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


# -- fit output -----------------------------------------------------------------------------------


def _tiny_fit(verbose, stream):
    model = Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile(
        Adadelta(learning_rate=1.0, rho=0.95),
        "categorical_crossentropy",
        ["accuracy"],
        backend="numpy",
    )
    x = np.random.default_rng(0).random((20, 4), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(20) % 3]
    return model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        validation_data=(x, y),
        callbacks=[ProgbarLogger(verbose, stream)] if verbose else None,
    )


def test_history_keys_and_verbose_modes():
    history = _tiny_fit(0, None)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == [0, 1]
    out = io.StringIO()
    _tiny_fit(2, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("3/3 - ")
    assert "val_accuracy:" in lines[1]
    out = io.StringIO()
    _tiny_fit(1, out)
    assert "[==============================]" in out.getvalue() and "ms/step" in out.getvalue()


KERAS_CHECK = """
import numpy as np, keras
from tests.test_models import keras_mnist_cnn
ours = keras_mnist_cnn()
ours.compile("sgd", "categorical_crossentropy", backend="numpy")
theirs = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, (3, 3), activation="relu"),
    keras.layers.Conv2D(64, (3, 3), activation="relu"),
    keras.layers.MaxPooling2D((2, 2)),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
theirs.set_weights(ours.get_weights())
x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-6)
print("same predictions")
"""


def test_weights_load_into_keras_3_and_predict_the_same():
    # Keras 3 binds its backend at import: a fresh process on its NumPy backend.
    pytest.importorskip("keras")
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    out = subprocess.run(
        [sys.executable, "-c", KERAS_CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "same predictions" in out.stdout
