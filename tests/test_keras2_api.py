"""Keras 2's names and behaviour that scripts rely on: utils, backend functions, functions as
losses/metrics/activations, fit's arguments, the batch and generator APIs, preprocessing,
Keras-format dataset loaders and HDF5 saving."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import benchbench as keras
from benchbench import backend as K
from benchbench.callbacks import Callback
from benchbench.errors import BenchbenchError, DataUnavailable, UnknownNameError
from benchbench.layers import Conv2D, Dense, Flatten
from benchbench.models import Sequential, load_model
from benchbench.preprocessing.image import ImageDataGenerator
from benchbench.preprocessing.sequence import pad_sequences
from benchbench.utils import Sequence, to_categorical

# -- names ----------------------------------------------------------------------------------------


def test_import_benchbench_as_keras_gives_keras_2s_submodules():
    assert keras.utils.to_categorical is to_categorical
    assert keras.models.Sequential is Sequential
    assert keras.layers.Dense is Dense
    assert keras.backend is K and keras.optimizers.Adadelta().rho == 0.95
    assert keras.metrics.categorical_accuracy is keras.losses.categorical_accuracy
    with pytest.raises(AttributeError, match="no attribute 'applications'"):
        keras.applications  # noqa: B018


def test_to_categorical_follows_keras_2():
    np.testing.assert_array_equal(
        to_categorical([0, 2, 1]), np.eye(3, dtype=np.float32)[[0, 2, 1]]
    )
    assert to_categorical(np.array([[3], [1]]), 5).shape == (2, 5)  # CIFAR's (n, 1) labels
    assert to_categorical([1], 3, dtype="int32").dtype == np.int32
    assert keras.utils.np_utils.to_categorical is to_categorical
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        to_categorical([0, 3], 3)


def test_backend_functions_and_their_limits():
    assert (K.image_data_format(), K.epsilon(), K.floatx()) == ("channels_last", 1e-7, "float32")
    K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels-last only"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="float32 only"):
        K.set_floatx("float16")
    with pytest.raises(BenchbenchError, match="outside a model's loss"):
        K.mean(np.ones(3))
    with pytest.raises(AttributeError):
        K.not_an_op  # noqa: B018


# -- losses, metrics and activations as functions -------------------------------------------------


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.random((n, 6), dtype=np.float32)
    return x, to_categorical(np.argmax(x[:, :3], axis=1), 3)


def _model(backend, loss, metrics=("accuracy",), activation="softmax", optimizer="sgd"):
    model = Sequential([Dense(8, activation=keras.activations.tanh, input_dim=6)])
    model.add(Dense(3, activation=activation))
    model.compile(optimizer, loss=loss, metrics=list(metrics) or None, backend=backend)
    return model


def my_mse(y_true, y_pred):
    return K.mean(K.square(K.subtract(y_pred, y_true)), axis=-1)


def mean_prediction(y_true, y_pred):
    return K.mean(y_pred)


def test_losses_metrics_and_activations_as_functions(backend, reference):
    x, y = _data()
    named = _model(reference, "mean_squared_error")
    custom = _model(backend, my_mse, [mean_prediction])
    assert (custom.loss_name, custom.metric_name) == ("my_mse", "mean_prediction")
    as_function = _model(backend, keras.losses.categorical_crossentropy)
    assert as_function.loss_name == "categorical_crossentropy" and as_function._logits_fused()
    ours = custom.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    theirs = named.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-5)
    # the custom metric sees probabilities: they sum to one over 3 classes
    np.testing.assert_allclose(ours["mean_prediction"], 1 / 3, rtol=1e-5)
    fused = _model(backend, "categorical_crossentropy", [mean_prediction])
    logs = fused.fit(x, y, batch_size=16, epochs=1, verbose=0).history
    np.testing.assert_allclose(logs["mean_prediction"], 1 / 3, rtol=1e-5)


def test_metric_functions_and_what_is_refused(reference):
    model = _model(reference, "categorical_crossentropy", [keras.metrics.categorical_accuracy])
    assert model.metric_name == "categorical_accuracy"
    with pytest.raises(ValueError, match="one metric per model"):
        _model(reference, "categorical_crossentropy", ["accuracy", "mse"])
    with pytest.raises(UnknownNameError, match="categorical_accuracy"):
        _model(reference, "categorical_crossentropy", ["precision"])
    with pytest.raises(UnknownNameError, match="relu"):
        Dense(3, activation=np.tanh)


# -- fit, batches, generators ---------------------------------------------------------------------


def test_fit_validation_split_holds_out_the_last_samples(reference):
    x, y = _data(40)
    model = _model(reference, "categorical_crossentropy")
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25).history
    loss, accuracy = model.evaluate(x[30:], y[30:], verbose=0)
    assert history["val_loss"] == [pytest.approx(loss)]
    assert history["val_accuracy"] == [pytest.approx(accuracy)]
    every_other = model.fit(x, y, epochs=4, verbose=0, validation_data=(x, y), validation_freq=2)
    assert len(every_other.history["val_loss"]) == 2 and len(every_other.history["loss"]) == 4
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        model.fit(x, y, verbose=0, sample_weight=np.ones(40))
    with pytest.raises(ValueError, match="validation_split must lie in"):
        model.fit(x, y, verbose=0, validation_split=1.5)


def test_batch_methods(reference):
    x, y = _data(16)
    model = _model(reference, "categorical_crossentropy")
    before = model.test_on_batch(x, y)
    assert before == pytest.approx(model.evaluate(x, y, batch_size=16, verbose=0))
    trained = model.train_on_batch(x, y)
    assert trained[0] == pytest.approx(before[0]) and model.train_step().iterations == 1
    assert model.test_on_batch(x, y)[0] < before[0]
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x))
    plain = _model(reference, "categorical_crossentropy", metrics=())
    assert isinstance(plain.train_on_batch(x, y), float)


class Batches(Sequence):
    def __init__(self, x, y, size):
        self.x, self.y, self.size, self.epochs = x, y, size, 0

    def __len__(self):
        return len(self.x) // self.size

    def __getitem__(self, i):
        return self.x[i * self.size : (i + 1) * self.size], self.y[
            i * self.size : (i + 1) * self.size
        ]

    def on_epoch_end(self):
        self.epochs += 1


def test_fit_generator_with_a_sequence_and_an_iterator(reference):
    x, y = _data(48)
    model = _model(reference, "categorical_crossentropy")
    seq = Batches(x, y, 16)
    history = model.fit_generator(seq, epochs=3, verbose=0, validation_data=seq)
    assert seq.epochs == 3 and len(history.history["val_loss"]) == 3
    assert model.train_step().iterations == 9

    def forever():
        while True:
            yield x[:8], y[:8]

    model.fit_generator(forever(), steps_per_epoch=2, epochs=1, verbose=0)
    assert model.train_step().iterations == 11
    assert model.evaluate_generator(seq) == pytest.approx(model.evaluate(x, y, verbose=0))
    assert model.predict_generator(seq).shape == (48, 3)
    with pytest.raises(ValueError, match="steps_per_epoch is needed"):
        model.fit_generator(forever(), verbose=0)


def test_a_callback_can_stop_training(reference):
    class StopAfterOne(Callback):
        def on_epoch_end(self, epoch, logs):
            self.model.stop_training = True

    x, y = _data()
    history = _model(reference, "categorical_crossentropy").fit(
        x, y, epochs=5, verbose=0, callbacks=[StopAfterOne()]
    )
    assert history.epoch == [0]


# -- preprocessing --------------------------------------------------------------------------------


def test_pad_sequences_follows_keras_2():
    seqs = [[1, 2, 3], [4], []]
    np.testing.assert_array_equal(pad_sequences(seqs), [[1, 2, 3], [0, 0, 4], [0, 0, 0]])
    np.testing.assert_array_equal(
        pad_sequences(seqs, maxlen=2, padding="post", truncating="post"), [[1, 2], [4, 0], [0, 0]]
    )
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2)[0], [2, 3])
    vectors = pad_sequences([np.ones((2, 3))], maxlen=3, dtype="float32")
    assert vectors.shape == (1, 3, 3) and vectors[0, 0].sum() == 0
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        pad_sequences(seqs, padding="middle")


def _images(n=8):
    return np.random.default_rng(3).random((n, 6, 7, 2), dtype=np.float32)


def test_image_generator_without_transforms_serves_the_data_as_is():
    x, y = _images(), np.arange(8)
    batches = ImageDataGenerator().flow(x, y, batch_size=3, shuffle=False)
    assert len(batches) == 3
    first_x, first_y = batches[0]
    np.testing.assert_allclose(first_x, x[:3])
    np.testing.assert_array_equal(first_y, [0, 1, 2])
    assert batches[2][0].shape == (2, 6, 7, 2)


def test_image_generator_flips_shifts_and_normalises():
    x = _images(32)
    flips = ImageDataGenerator(horizontal_flip=True).flow(x, batch_size=32, shuffle=False, seed=0)
    out = flips[0]
    mirrored = [np.allclose(o, i[:, ::-1]) for o, i in zip(out, x, strict=True)]
    same = [np.allclose(o, i) for o, i in zip(out, x, strict=True)]
    assert all(m or s for m, s in zip(mirrored, same, strict=True)) and 0 < sum(mirrored) < 32
    shifted = ImageDataGenerator(width_shift_range=2, fill_mode="constant", cval=-1.0)
    moved = shifted.flow(x, batch_size=32, shuffle=False, seed=1)[0]
    assert (moved == -1.0).any() and moved.shape == x.shape
    centred = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    with pytest.raises(ValueError, match="call fit"):
        centred.flow(x, batch_size=32)[0]
    centred.fit(x)
    normalised = centred.flow(x, batch_size=32, shuffle=False)[0]
    np.testing.assert_allclose(normalised.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(normalised.std(axis=(0, 1, 2)), 1.0, atol=1e-3)
    scaled = ImageDataGenerator(rescale=1 / 255).standardize(np.full((2, 2, 1), 255.0))
    np.testing.assert_allclose(scaled, 1.0)


def test_image_generator_refuses_what_it_does_not_support():
    with pytest.raises(ValueError, match="channels-last only"):
        ImageDataGenerator(data_format="channels_first")
    with pytest.raises(ValueError, match="brightness_range"):
        ImageDataGenerator(brightness_range=(0.5, 1.5))
    with pytest.raises(NotImplementedError, match="flow_from_directory"):
        ImageDataGenerator().flow_from_directory("images/")
    split = ImageDataGenerator(validation_split=0.25)
    assert split.flow(_images(), subset="validation").n == 2
    assert split.flow(_images(), subset="training").n == 6


# -- Keras's dataset files ------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBENCH_DATA", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("BENCHBENCH_DOWNLOAD", raising=False)
    return tmp_path


def _vouch(monkeypatch, directory, *names):
    sums = {n: "md5:" + hashlib.md5((directory / n).read_bytes()).hexdigest() for n in names}
    path = directory / "checksums.json"
    path.write_text(json.dumps(sums))
    monkeypatch.setenv("BENCHBENCH_CHECKSUMS", str(path))


def test_mnist_load_data_returns_keras_arrays(data_dir, monkeypatch):
    raw = {
        "x_train": np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        "y_train": np.array([3, 1], np.uint8),
        "x_test": np.zeros((1, 28, 28), np.uint8),
        "y_test": np.array([7], np.uint8),
    }
    np.savez(data_dir / "mnist.npz", **raw)
    with pytest.raises(DataUnavailable, match="expected 731c5ac6"):
        keras.datasets.mnist.load_data()
    _vouch(monkeypatch, data_dir, "mnist.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    np.testing.assert_array_equal(x_train, raw["x_train"])
    assert x_train.dtype == np.uint8 and list(y_test) == [7]


def _imdb(directory):
    x_train = [[5, 1, 9], [2, 30000], [7, 7, 7, 7]]
    x_test = [[4], [8, 8]]
    ragged = np.empty(3, dtype=object)
    ragged[:] = x_train
    ragged_test = np.empty(2, dtype=object)
    ragged_test[:] = x_test
    np.savez(
        directory / "imdb.npz",
        x_train=ragged,
        y_train=np.array([1, 0, 1]),
        x_test=ragged_test,
        y_test=np.array([0, 1]),
    )
    return x_train, x_test


def test_imdb_load_data_follows_keras_2_3_1(data_dir, monkeypatch):
    x_train, x_test = _imdb(data_dir)
    with pytest.raises(DataUnavailable, match="expected 599dadb1"):
        keras.datasets.imdb.load_data()
    _vouch(monkeypatch, data_dir, "imdb.npz")
    (xs, ys), (xt, yt) = keras.datasets.imdb.load_data(num_words=20, seed=113)
    order = np.arange(3)
    rng = np.random.RandomState(113)
    rng.shuffle(order)
    expected = [[1] + [w + 3 if w + 3 < 20 else 2 for w in x_train[i]] for i in order]
    assert [list(s) for s in xs] == expected and list(ys) == [[1, 0, 1][i] for i in order]
    assert len(xt) == 2 and sorted(len(s) for s in xt) == [2, 3]
    (short, _), (short_test, _) = keras.datasets.imdb.load_data(maxlen=4)
    assert all(len(s) < 4 for s in short) and len(short) == 1 and len(short_test) == 2
    (kept, _), _ = keras.datasets.imdb.load_data(start_char=None, index_from=0, oov_char=None)
    # as in Keras 2.3.1, num_words=None keeps words below the largest id: 30000 is dropped
    assert sorted(map(len, kept)) == [1, 3, 4]


def test_cifar10_load_data_labels_are_a_column(data_dir, monkeypatch):
    import pickle

    folder = data_dir / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 2]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    _vouch(monkeypatch, data_dir, *(f"cifar-10-batches-py/{n}" for n in names))
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1)
    assert y_train.dtype == np.uint8 and x_test.dtype == np.uint8


# -- saving ---------------------------------------------------------------------------------------


def test_save_and_load_model_round_trip(reference, tmp_path):
    pytest.importorskip("h5py")
    model = Sequential(
        [
            Conv2D(3, (3, 3), activation="relu", padding="same", input_shape=(5, 5, 1)),
            Flatten(),
            Dense(2, activation="softmax", kernel_initializer="he_normal"),
        ]
    )
    model.compile(keras.optimizers.Adam(amsgrad=True), "categorical_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).random((6, 5, 5, 1), dtype=np.float32)
    model.fit(x, to_categorical([0, 1] * 3), epochs=2, verbose=0)
    path = tmp_path / "model.h5"
    model.save(path)
    again = load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.optimizer == model.optimizer and again.metric_name == "accuracy"
    model.save_weights(tmp_path / "weights.h5")
    fresh = Sequential([Conv2D(3, (3, 3), padding="same", input_shape=(5, 5, 1))])
    fresh.add(Flatten())
    fresh.add(Dense(2, activation="softmax"))
    fresh.compile("sgd", backend=reference)
    fresh.load_weights(tmp_path / "weights.h5")
    for ours, theirs in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match="not written by benchbench"):
        load_model(tmp_path / "weights.h5")


# -- Keras 2's callbacks --------------------------------------------------------------------------


def test_early_stopping_and_restoring_the_best_weights(reference):
    x, y = _data()
    model = _model(reference, "categorical_crossentropy")
    worse = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.update(val_loss=epoch)
    )
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, epochs=10, verbose=0, validation_data=(x, y), callbacks=[worse, stop]
    )
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2
    with pytest.raises(KeyError, match="no 'val_acc' in the logs"):
        model.fit(x, y, verbose=0, callbacks=[keras.callbacks.EarlyStopping(monitor="val_acc")])


def test_schedules_change_the_rate_without_recompiling(reference):
    x, y = _data()
    model = _model(reference, "categorical_crossentropy", optimizer=keras.optimizers.SGD(0.1))
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate)
    )
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule, record])
    assert seen == [0.05, 0.025, 0.0125] and model.train_step().optimizer.learning_rate == 0.0125
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    flat = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(loss=1.0))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[flat, plateau])
    assert model.optimizer.learning_rate == pytest.approx(0.0125 / 4)


def test_checkpoints_and_csv_logs(reference, tmp_path):
    pytest.importorskip("h5py")
    x, y = _data()
    model = _model(reference, "categorical_crossentropy")
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "weights.{epoch:02d}-{loss:.2f}.h5"), save_weights_only=True
    )
    log = keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint, log])
    assert len(list(tmp_path.glob("weights.0[12]-*.h5"))) == 2
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss,accuracy" and len(rows) == 3


def test_old_style_batch_hooks_are_called(reference):
    class Counter(keras.callbacks.Callback):
        batches = 0

        def on_batch_end(self, batch, logs=None):
            Counter.batches += 1

    x, y = _data(48)
    _model(reference, "categorical_crossentropy").fit(
        x, y, batch_size=16, verbose=0, callbacks=[Counter()]
    )
    assert Counter.batches == 3
