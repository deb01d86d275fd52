"""One model, every backend: same weights give the same outputs, losses and accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from benchbench import Sequential
from benchbench.layers import Conv2D, Dense, Flatten, MaxPooling2D
from benchbench.optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop

# Adam and Adagrad divide by sqrt(accumulator) + epsilon: with Keras's epsilon (1e-7), a bias
# gradient of ~1e-6 turns float32 rounding differences of ~1e-8 into 1e-5 weight differences,
# which a near-tie in max-pooling then amplifies. A larger epsilon keeps the test about the
# backends' arithmetic, not about that amplification.
OPTIMIZERS = {
    "sgd": SGD(learning_rate=0.1, momentum=0.0),
    "sgd-nesterov": SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "rmsprop": RMSprop(learning_rate=0.001, rho=0.9, decay=1e-3),
    "adagrad": Adagrad(learning_rate=0.05, epsilon=1e-3),
    "adadelta": Adadelta(learning_rate=1.0, rho=0.95),
    "adam": Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-3),
}


def mlp():
    return Sequential(
        [
            Dense(32, activation="relu", input_dim=64),
            Dense(16, activation="tanh"),
            Dense(10, activation="softmax"),
        ]
    )


def cnn():
    return Sequential(
        [
            Conv2D(8, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 1)),
            Conv2D(8, (3, 3), activation="relu"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(10, activation="softmax"),
        ]
    )


def _compiled(builder, backend, optimizer="sgd", loss="categorical_crossentropy"):
    model = builder()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], backend=backend)
    return model


def _reshape(builder, x):
    return x.reshape(-1, 8, 8, 1) if builder is cnn else x


@pytest.mark.parametrize("builder", [mlp, cnn])
def test_same_weights_give_the_same_predictions(builder, other_backend, reference, digits):
    x = _reshape(builder, digits[0][:64])
    expected = _compiled(builder, reference).predict(x)
    model = _compiled(builder, other_backend)
    model.set_weights(_compiled(builder, reference).get_weights())
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("builder", [mlp, cnn])
def test_twenty_steps_give_the_same_losses(builder, name, other_backend, reference, digits):
    x, y = _reshape(builder, digits[0][:640]), digits[1][:640]
    runs = []
    for K in (reference, other_backend):
        model = _compiled(builder, K, optimizer=OPTIMIZERS[name])
        history = model.fit(
            x, y, batch_size=32, epochs=1, verbose=0, shuffle=False, callbacks=[_BatchLosses()]
        )
        runs.append(history.batch_losses)
    assert len(runs[0]) == 20
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-4, atol=1e-5)


class _BatchLosses:
    """Records each step's own loss (the fit loop's logs hold running means)."""

    needs_sync = False

    def set_model(self, model):
        self.model = model
        model.history.batch_losses = []
        self._previous = (0.0, 0)

    def __getattr__(self, hook):
        return lambda *args: None

    def on_train_batch_end(self, batch, logs):
        total, seen = self._previous
        n = batch + 1
        self.model.history.batch_losses.append(logs["loss"] * n - total)
        self._previous = (logs["loss"] * n, n)


@pytest.mark.parametrize("builder", [mlp, cnn])
def test_digits_accuracy_agrees_across_backends(builder, backend, reference, digits):
    x_train, y_train, x_test, y_test = digits
    accuracies = {}
    for K in {reference.name: reference, backend.name: backend}.values():
        model = _compiled(builder, K, optimizer=Adam(learning_rate=0.005))
        model.fit(_reshape(builder, x_train), y_train, batch_size=32, epochs=8, verbose=0)
        accuracies[K.name] = model.evaluate(_reshape(builder, x_test), y_test)[1]
    assert accuracies[backend.name] >= (0.95 if builder is mlp else 0.9)
    assert abs(accuracies[backend.name] - accuracies[reference.name]) <= 0.01
