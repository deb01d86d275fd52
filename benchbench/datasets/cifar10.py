"""CIFAR-10 small images, from Keras's extracted ``cifar-10-batches-py/`` or its archive.

`load_data` is Keras 2's ``keras.datasets.cifar10.load_data``: uint8 images in channels-last
layout ``(n, 32, 32, 3)`` and labels of shape ``(n, 1)``.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from benchbench.datasets import files
from benchbench.datasets.base import DatasetInfo
from benchbench.errors import DataUnavailable

INFO = DatasetInfo("cifar10", (32, 32, 3), 50_000, 10_000, 10, 255.0)
DIR = "cifar-10-batches-py"
BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
ARCHIVE = "cifar-10-python.tar.gz"  # read directly when the batches are not extracted


def _find() -> Path | None:
    """CIFAR-10's extracted batches (all six) or its archive: the first one found."""
    for directory in files.data_dirs():
        if all((directory / DIR / name).is_file() for name in BATCHES):
            return directory / DIR
        if (directory / ARCHIVE).is_file():
            return directory / ARCHIVE
    return None


def _missing() -> str:
    return files.missing("cifar10", f"{DIR}/ (or {ARCHIVE})", files.URLS[ARCHIVE])


def availability() -> tuple[bool, str]:
    path = _find()
    return (True, str(path)) if path else (False, _missing())


def load(*, download: bool | None = None, checksums: Mapping[str, str] | None = None):
    """``(x_train, y_train, x_test, y_test, source)``: uint8 NHWC images, int64 labels."""
    where = _find()
    if where is None:
        if not files.download_allowed(download):
            raise DataUnavailable(_missing())
        where = files.fetch(ARCHIVE)
    if where.is_file():
        files.verify(where, checksums)
    else:
        for name in BATCHES:
            files.verify(where / name, checksums, f"{DIR}/{name}")
    try:
        batches = [_unpickle(blob) for blob in _blobs(where)]
    except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as exc:
        raise DataUnavailable(f"{where} does not hold Keras's CIFAR-10 batches ({exc})") from None
    x_train = np.concatenate([x for x, _ in batches[:-1]])
    y_train = np.concatenate([y for _, y in batches[:-1]])
    return (x_train, y_train, *batches[-1], str(where))


def load_data():
    """Keras 2's ``cifar10.load_data``: ``(x_train, y_train), (x_test, y_test)``, uint8 images
    ``(n, 32, 32, 3)`` (benchbench is channels-last) and labels ``(n, 1)``."""
    x_train, y_train, x_test, y_test, _ = load()
    return (x_train, _column(y_train)), (x_test, _column(y_test))


def _column(y: np.ndarray) -> np.ndarray:
    return y.astype(np.uint8).reshape(-1, 1)


def _blobs(where: Path):
    """Yields each batch's bytes, in `BATCHES` order, from the directory or the archive."""
    if where.is_dir():
        for name in BATCHES:
            yield (where / name).read_bytes()
        return
    with tarfile.open(where, "r:gz") as tar:
        for name in BATCHES:
            member = tar.extractfile(f"{DIR}/{name}")
            if member is None:
                raise KeyError(f"{DIR}/{name} is not a file")
            yield member.read()


def _unpickle(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    # Python 2 pickles; only files whose checksum matched get here.
    batch = pickle.load(io.BytesIO(blob), encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # rows are channel-major
    return x, np.asarray(batch[b"labels"], dtype=np.int64)
