"""One precision for every optimizer on every backend: the first update agrees with the NumPy
reference to float32 rounding, and the step counter is an int that keeps counting past 2**24."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchbench import Sequential
from benchbench.layers import Dense
from benchbench.optimizers import SGD, Adadelta, Adagrad, Adam, RMSprop, RuleOps

OPTIMIZERS = {
    "sgd": SGD(learning_rate=0.01),
    "sgd-momentum": SGD(learning_rate=0.01, momentum=0.9),
    "sgd-nesterov-decay": SGD(learning_rate=0.01, momentum=0.9, nesterov=True, decay=1e-3),
    "rmsprop": RMSprop(learning_rate=0.001, rho=0.9),
    "rmsprop-decay": RMSprop(learning_rate=0.001, rho=0.9, decay=1e-4),
    "adagrad": Adagrad(learning_rate=0.01),
    "adadelta": Adadelta(learning_rate=1.0, rho=0.95),
    "adam": Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999),
    "adam-decay": Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, decay=1e-3),
}

#: Steps done before the compared update: the first step, and one past float32's last exact
#: integer (a float32 counter would stop there: 2.0**24 + 1 == 2.0**24).
STARTS = (0, 2**24 + 1)


def _first_update(backend, optimizer, start: int) -> np.ndarray:
    """The weights after one step from zero weights, so they hold minus the update itself."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, (1, 6)).astype(np.float32)
    y = rng.uniform(-1.0, 1.0, (1, 4)).astype(np.float32)
    model = Sequential([Dense(4, input_dim=6, kernel_initializer="zeros")])
    model.compile(optimizer=optimizer, loss="mse", backend=backend)
    step = model.train_step()
    step.iterations = start
    step(x, y)
    assert step.iterations == start + 1
    return np.concatenate([w.ravel() for w in model.get_weights()])


@pytest.mark.parametrize("start", STARTS, ids=["t=0", "t=2**24+1"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_first_update_agrees_with_the_reference(name, start, other_backend, reference):
    expected = _first_update(reference, OPTIMIZERS[name], start)
    assert np.all(expected != 0.0)  # every weight moved: the comparison covers all of them
    actual = _first_update(other_backend, OPTIMIZERS[name], start)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=0)


def test_scalars_are_float64_host_arithmetic_on_an_int_counter():
    adam = Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, decay=1e-3)
    (lr_t,) = adam.scalars(0)
    assert lr_t == pytest.approx(0.001 * math.sqrt(1 - 0.999) / (1 - 0.9), rel=1e-15)
    big = 2**24
    assert adam.scalars(big + 1) != adam.scalars(big)
    assert SGD(learning_rate=0.1, decay=0.5).scalars(2) == (0.1 / 2.0,)
    with pytest.raises(TypeError, match="int >= 0"):
        adam.scalars(1.0)


#: Keras 2 options on top of the rules, each with a setting that changes the first update.
OPTIONS = {
    "clipnorm": SGD(learning_rate=0.1, clipnorm=0.5),
    "clipnorm-not-reached": Adam(learning_rate=0.01, clipnorm=100.0),
    "clipvalue": RMSprop(learning_rate=0.01, clipvalue=0.05),
    "amsgrad": Adam(learning_rate=0.01, amsgrad=True),
    "adagrad-initial-accumulator": Adagrad(learning_rate=0.1, initial_accumulator_value=0.1),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_keras2_options_agree_with_the_reference(name, other_backend, reference):
    expected = _first_update(reference, OPTIONS[name], 0)
    actual = _first_update(other_backend, OPTIONS[name], 0)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=0)


def test_clipping_follows_keras_2():
    ops = RuleOps(sqrt=np.sqrt, maximum=np.maximum, sum=np.sum, clip=np.clip)
    grads = [np.array([3.0, 0.0], np.float32), np.array([4.0], np.float32)]  # global norm 5
    clipped = SGD(clipnorm=1.0).clip_gradients(grads, ops)
    np.testing.assert_allclose(np.concatenate(clipped), [0.6, 0.0, 0.8], rtol=1e-7)
    np.testing.assert_array_equal(SGD(clipnorm=10.0).clip_gradients(grads, ops)[1], grads[1])
    both = SGD(clipnorm=1.0, clipvalue=0.7).clip_gradients(grads, ops)
    np.testing.assert_allclose(np.concatenate(both), [0.6, 0.0, 0.7], rtol=1e-7)


def test_amsgrad_keeps_the_largest_second_moment():
    ops = RuleOps(sqrt=np.sqrt, maximum=np.maximum, sum=np.sum, clip=np.clip)
    adam = Adam(learning_rate=0.1, amsgrad=True)
    assert adam.slot_names == ("m", "v", "vhat") and Adam().slot_names == ("m", "v")
    p, slots = np.zeros(1, np.float32), [np.zeros(1, np.float32)] * 3
    p, slots = adam.update(p, np.array([1.0], np.float32), slots, adam.scalars(0), ops)
    p, slots = adam.update(p, np.array([0.0], np.float32), slots, adam.scalars(1), ops)
    assert slots[2][0] == pytest.approx(0.001) and slots[1][0] < slots[2][0]
