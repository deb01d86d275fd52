"""Dataset loading: Keras's file formats, checksums, offline messages, synthetic data, MNIST-1D."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from benchbench import datasets
from benchbench.errors import DataUnavailable, UnknownNameError
from benchbench.workloads import Profile, get


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty $BENCHBENCH_DATA and an empty Keras home: nothing from this machine is read."""
    monkeypatch.setenv("BENCHBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("BENCHBENCH_DOWNLOAD", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


@pytest.fixture
def mnist1d_cache(tmp_path_factory, monkeypatch):
    """One MNIST-1D cache per test session, shared with test_workloads (same base temp)."""
    path = tmp_path_factory.getbasetemp() / "benchbench-cache"
    monkeypatch.setenv("BENCHBENCH_CACHE", str(path))
    return path


def sha256(path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def write_mnist(directory, n_train=12, n_test=5):
    """A small mnist.npz in Keras's exact layout: uint8 images (n, 28, 28) and uint8 labels."""
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    path = directory / "mnist.npz"
    np.savez(path, **arrays)
    return path, arrays


def cifar_batches(n=4):
    """Batches as CIFAR-10's Python pickles hold them: b'data' (n, 3072) rows channel-major."""
    rng = np.random.default_rng(2)
    batches = {}
    for name in datasets.cifar10.BATCHES:
        batches[name] = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(n)],
        }
    return batches


def write_cifar_dir(directory):
    batches = cifar_batches()
    folder = directory / datasets.cifar10.DIR
    folder.mkdir()
    sums = {}
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        sums[f"{datasets.cifar10.DIR}/{name}"] = (
            "md5:" + hashlib.md5((folder / name).read_bytes()).hexdigest()
        )
    return batches, sums


# -- MNIST ----------------------------------------------------------------------------------------


def test_mnist_npz_is_read_scaled_and_reshaped(data_dir, monkeypatch):
    path, raw = write_mnist(data_dir)
    monkeypatch.setattr(datasets.files, "CHECKSUMS", {"mnist.npz": sha256(path)})
    mlp = datasets.prepare(get("mnist_mlp"))
    assert mlp.x_train.shape == (12, 784) and mlp.x_train.dtype == np.float32
    np.testing.assert_allclose(mlp.x_train, raw["x_train"].reshape(12, 784) / 255.0, rtol=1e-6)
    assert mlp.y_train.dtype == np.float32 and mlp.y_train.shape == (12, 10)
    np.testing.assert_array_equal(mlp.y_test.argmax(1), raw["y_test"])
    assert (mlp.dataset, mlp.synthetic, mlp.source) == ("mnist", False, str(path))
    cnn = datasets.prepare(get("mnist_cnn"))
    assert cnn.x_test.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(cnn.x_test.reshape(5, 784), mlp.x_test)


def test_quick_keeps_the_first_samples(data_dir, monkeypatch):
    path, raw = write_mnist(data_dir)
    monkeypatch.setattr(datasets.files, "CHECKSUMS", {"mnist.npz": sha256(path)})
    workload = dataclasses.replace(get("mnist_mlp"), quick=Profile(1, 4, 3))
    data = datasets.prepare(workload, quick=True)
    assert len(data.x_train) == 4 and len(data.y_test) == 3
    np.testing.assert_array_equal(data.y_train.argmax(1), raw["y_train"][:4])


def test_mnist_with_a_wrong_checksum_is_rejected(data_dir):
    write_mnist(data_dir)  # the real checksum is Keras's, which this small file cannot match
    with pytest.raises(DataUnavailable, match="sha256 .* expected 731c5ac6"):
        datasets.prepare(get("mnist_mlp"))


def test_missing_mnist_gives_the_offline_message(data_dir):
    with pytest.raises(DataUnavailable) as info:
        datasets.prepare(get("mnist_cnn"))
    message = str(info.value)
    for part in ("mnist.npz", str(data_dir), "BENCHBENCH_DATA", "DOWNLOAD=1", "https://"):
        assert part in message
    assert datasets.availability("mnist") == (False, message)


def test_benchbench_data_is_looked_up_before_the_keras_cache(data_dir, tmp_path, monkeypatch):
    keras = tmp_path / "keras" / "datasets"
    keras.mkdir(parents=True)
    keras_file, _ = write_mnist(keras, n_train=3)
    assert datasets.availability("mnist") == (True, str(keras_file))
    ours, _ = write_mnist(data_dir, n_train=7)
    monkeypatch.setattr(datasets.files, "CHECKSUMS", {"mnist.npz": sha256(ours)})
    assert datasets.availability("mnist") == (True, str(ours))
    assert len(datasets.prepare(get("mnist_mlp")).x_train) == 7


# -- CIFAR-10 -------------------------------------------------------------------------------------


def test_cifar_batches_are_read_channels_last(data_dir, monkeypatch):
    batches, sums = write_cifar_dir(data_dir)
    monkeypatch.setattr(datasets.files, "CHECKSUMS", sums)
    data = datasets.prepare(get("cifar10_cnn"))
    assert data.x_train.shape == (20, 32, 32, 3) and data.x_test.shape == (4, 32, 32, 3)
    first = batches["data_batch_1"][b"data"][0]
    # pixel (row 3, column 5) of channel c sits at c * 1024 + 3 * 32 + 5 of the row
    for c in range(3):
        assert data.x_train[0, 3, 5, c] == np.float32(first[c * 1024 + 3 * 32 + 5] / 255.0)
    labels = sum((batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(data.y_train.argmax(1), labels)
    np.testing.assert_array_equal(data.y_test.argmax(1), batches["test_batch"][b"labels"])


def test_cifar_batch_with_a_wrong_checksum_is_rejected(data_dir, monkeypatch):
    _, sums = write_cifar_dir(data_dir)
    sums[f"{datasets.cifar10.DIR}/data_batch_3"] = "md5:" + "0" * 32
    monkeypatch.setattr(datasets.files, "CHECKSUMS", sums)
    with pytest.raises(DataUnavailable, match="data_batch_3 has md5"):
        datasets.prepare(get("cifar10_cnn"))


def test_cifar_archive_is_read_without_extracting(data_dir, monkeypatch):
    batches = cifar_batches()
    archive = data_dir / datasets.cifar10.ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        for name, batch in batches.items():
            blob = pickle.dumps(batch, protocol=2)
            member = tarfile.TarInfo(f"{datasets.cifar10.DIR}/{name}")
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    assert datasets.availability("cifar10") == (True, str(archive))
    with pytest.raises(DataUnavailable, match="expected 6d958be0"):  # Keras's real archive hash
        datasets.prepare(get("cifar10_cnn"))
    monkeypatch.setattr(datasets.files, "CHECKSUMS", {datasets.cifar10.ARCHIVE: sha256(archive)})
    data = datasets.prepare(get("cifar10_cnn"))
    assert data.x_train.shape == (20, 32, 32, 3) and data.source == str(archive)
    assert not (data_dir / datasets.cifar10.DIR).exists()


def test_missing_cifar_gives_the_offline_message(data_dir):
    ok, message = datasets.availability("cifar10")
    assert not ok and "cifar-10-batches-py" in message and "BENCHBENCH_DATA" in message
    with pytest.raises(DataUnavailable, match="cifar-10-batches-py"):
        datasets.prepare(get("cifar10_cnn"))


# -- downloading (never the network) --------------------------------------------------------------


class Response(io.BytesIO):
    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


def test_download_is_opt_in_and_fails_cleanly_offline(data_dir, monkeypatch):
    calls = []

    def offline(url, timeout):
        calls.append((url, timeout))
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailable, match="not on this machine"):
        datasets.prepare(get("mnist_mlp"))
    assert calls == []
    monkeypatch.setenv("BENCHBENCH_DOWNLOAD", "1")
    with pytest.raises(DataUnavailable, match="could not download .*Name or service not known"):
        datasets.prepare(get("mnist_mlp"))
    assert calls == [(datasets.files.URLS["mnist.npz"], datasets.DOWNLOAD_TIMEOUT)]
    assert os.listdir(data_dir) == []


def test_downloaded_file_is_checked_before_it_is_kept(data_dir, tmp_path, monkeypatch, capsys):
    source, _ = write_mnist(tmp_path)
    body = source.read_bytes()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(body))
    with pytest.raises(DataUnavailable, match="expected 731c5ac6"):
        datasets.fetch("mnist")
    assert os.listdir(data_dir) == []
    monkeypatch.setattr(datasets.files, "CHECKSUMS", {"mnist.npz": sha256(source)})
    assert datasets.fetch("mnist") == data_dir / "mnist.npz"
    assert "100%" in capsys.readouterr().err
    assert (data_dir / "mnist.npz").read_bytes() == body


# -- generated and bundled data -------------------------------------------------------------------


def test_digits_is_the_fixed_seeded_split(digits):
    data = datasets.prepare(get("digits_mlp"))
    assert data.x_train.shape == (1347, 64) and data.x_test.shape == (450, 64)
    for ours, fixture in zip(
        (data.x_train, data.y_train, data.x_test, data.y_test), digits, strict=True
    ):
        np.testing.assert_array_equal(ours, fixture)
    assert data.source.startswith("sklearn")


def test_mnist1d_is_generated_once_and_cached(mnist1d_cache):
    data = datasets.prepare(get("mnist1d_cnn"))
    assert data.x_train.shape == (4000, 40, 1) and data.x_test.shape == (1000, 40, 1)
    assert data.y_train.dtype == np.int32 and set(np.unique(data.y_train)) == set(range(10))
    assert abs(float(data.x_train.std()) - 1.0) < 0.05  # the package standardises the signals
    assert datasets.mnist1d.cache_path().parent == mnist1d_cache
    assert datasets.availability("mnist1d")[1].startswith("cached at")
    mlp = datasets.prepare(get("mnist1d_mlp"), quick=True)
    np.testing.assert_array_equal(mlp.x_train, data.x_train.reshape(4000, 40))


def test_loading_mnist1d_keeps_matplotlib_out_of_the_process(mnist1d_cache):
    datasets.prepare(get("mnist1d_mlp"))  # make sure the cache exists
    code = (
        "import sys; from benchbench import datasets; from benchbench.workloads import get; "
        "datasets.prepare(get('mnist1d_mlp')); print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["mnist_cnn", "cifar10_cnn", "mnist1d_mlp"])
def test_synthetic_data_has_the_real_shapes_and_needs_no_files(data_dir, name):
    workload = get(name)
    data = datasets.prepare(workload, synthetic=True, quick=True, seed=3)
    n = workload.quick.train_samples or datasets.INFO[workload.dataset].train_size
    assert data.x_train.shape == (n, *workload.input_shape) and data.synthetic
    assert data.x_train.dtype == np.float32
    sparse = workload.loss == "sparse_categorical_crossentropy"
    assert data.y_train.shape == ((n,) if sparse else (n, 10))
    again = datasets.prepare(workload, synthetic=True, quick=True, seed=3)
    np.testing.assert_array_equal(again.x_test, data.x_test)


def test_full_size_synthetic_data(data_dir):
    data = datasets.prepare(get("digits_mlp"), synthetic=True)
    assert (len(data.x_train), len(data.x_test)) == (1347, 450)


def test_unknown_dataset_is_reported_not_raised():
    ok, message = datasets.availability("imagenet")
    assert not ok and "unknown dataset 'imagenet'" in message and "mnist1d" in message
    with pytest.raises(UnknownNameError):
        datasets.prepare(dataclasses.replace(get("digits_mlp"), dataset="imagenet"))


def test_input_shape_that_does_not_fit_the_data_says_so():
    workload = dataclasses.replace(get("digits_mlp"), input_shape=(8, 9))
    with pytest.raises(ValueError, match=r"input_shape \(8, 9\) \(72 values\).*\(64 values\)"):
        datasets.prepare(workload)


# -- augmentation ---------------------------------------------------------------------------------


def test_augment_without_shift_or_flip_is_the_identity():
    x = np.random.default_rng(0).random((6, 5, 7, 3), dtype=np.float32)
    rng = np.random.default_rng(1)
    out = datasets.augment(x, rng, width_shift=0.0, height_shift=0.0, horizontal_flip=False)
    np.testing.assert_array_equal(out, x)


def test_augment_flips_and_shifts_with_nearest_fill():
    x = np.random.default_rng(0).random((64, 10, 10, 2), dtype=np.float32)
    flipped = datasets.augment(x, np.random.default_rng(1), 0.0, 0.0, True)
    same = [np.array_equal(a, b) for a, b in zip(flipped, x, strict=True)]
    mirrored = [np.array_equal(a, b[:, ::-1]) for a, b in zip(flipped, x, strict=True)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True)) and 0 < sum(mirrored) < 64
    shifted = datasets.augment(x, np.random.default_rng(2), 0.2, 0.0, False)
    for out, image in zip(shifted, x, strict=True):
        dx = next(d for d in range(-2, 3) if np.array_equal(out[:, 2:-2], image[:, 2 - d : 8 - d]))
        edge = image[:, 0] if dx > 0 else image[:, -1]
        assert dx == 0 or np.array_equal(out[:, 0 if dx > 0 else -1], edge)
