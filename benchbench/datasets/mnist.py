"""MNIST handwritten digits, from Keras's ``mnist.npz``.

`load_data` is Keras 2's ``keras.datasets.mnist.load_data``: uint8 images ``(n, 28, 28)`` and
uint8 labels, read from ``$BENCHBENCH_DATA`` or Keras's cache (downloaded only with
``BENCHBENCH_DOWNLOAD=1``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from benchbench.datasets import files
from benchbench.datasets.base import DatasetInfo
from benchbench.errors import DataUnavailable

INFO = DatasetInfo("mnist", (28, 28), 60_000, 10_000, 10, 255.0)
FILE = "mnist.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def availability() -> tuple[bool, str]:
    path = files.find(FILE)
    return (True, str(path)) if path else (False, files.missing("mnist", FILE, files.URLS[FILE]))


def load(*, download: bool | None = None, checksums: Mapping[str, str] | None = None):
    """``(x_train, y_train, x_test, y_test, source)`` as stored."""
    path = files.locate("mnist", FILE, download)
    return (*_read(path, checksums, FILE), str(path))


def _read(path, checksums, key):
    files.verify(path, checksums, key)
    try:
        with np.load(path, allow_pickle=False) as f:
            return tuple(f[k] for k in _KEYS)
    except (OSError, ValueError, KeyError) as exc:
        raise DataUnavailable(f"{path} is not a Keras mnist.npz ({exc}); replace it") from None


def load_data(path: str = FILE):
    """Keras 2's ``mnist.load_data``: ``(x_train, y_train), (x_test, y_test)``, uint8.

    Args:
        path: the file's name in the data directories (Keras: relative to its cache).

    Raises:
        DataUnavailable: the file is not on this machine, with where to put it.
    """
    found = files.locate("mnist", path, None) if path == FILE else _custom(path)
    x_train, y_train, x_test, y_test = _read(found, None, path)
    return (x_train, y_train), (x_test, y_test)


def _custom(name: str):
    found = files.find(name)
    if found is None:
        raise DataUnavailable(files.missing("mnist", name, files.URLS[FILE]))
    return found
