"""Nietzsche's writings as Keras's ``lstm_text_generation.py`` reads them, from ``nietzsche.txt``.

The text (Keras's ``nietzsche.txt``: 600,893 characters) is lower-cased and cut into windows of
``maxlen`` characters every ``step`` characters (Keras: 40 and 3, which gives 200,285 windows);
each window, one-hot over the alphabet, is a sample, and the character after it its label.
Keras's script numbers the characters of the text it read (``sorted(set(text))``, 57 for its
file); here the alphabet is fixed to exactly those 57 characters, so the encoding of Keras's file
is Keras's, and a shorter text (a test file, a subset) is encoded the same way and fits the same
model. A character outside the alphabet means the file is not Keras's, and is refused.

Keras records no checksum for this file (``get_file`` is called without a hash), so none is
checked. There is no test split: the script trains on every window and reports the training
loss, which is what the workload is judged on.
"""

from __future__ import annotations

import numpy as np

from benchbench.datasets import files
from benchbench.datasets.base import DatasetInfo
from benchbench.errors import DataUnavailable

FILE = "nietzsche.txt"
#: ``sorted(set(text.lower()))`` of Keras's file: the one-hot positions of the 57 characters.
ALPHABET = "\n !\"'(),-.0123456789:;=?[]_abcdefghijklmnopqrstuvwxyz\u00e4\u00e6\u00e9\u00eb"
MAXLEN, STEP = 40, 3
INFO = DatasetInfo("nietzsche", (MAXLEN, len(ALPHABET)), 200_285, 0, len(ALPHABET), 1.0)


def availability() -> tuple[bool, str]:
    path = files.find(FILE)
    if path:
        return True, str(path)
    return False, files.missing("nietzsche", FILE, files.URLS[FILE])


def read_text(download: bool | None = None) -> tuple[str, str]:
    """The lower-cased text and where it came from."""
    path = files.locate("nietzsche", FILE, download)
    files.verify(path)  # only if the user vouched for a checksum ($BENCHBENCH_CHECKSUMS)
    try:
        text = path.read_text(encoding="utf-8").lower()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataUnavailable(f"{path} is not Keras's {FILE} (UTF-8 text): {exc}") from None
    return text, str(path)


def encode(text: str) -> np.ndarray:
    """Each character's position in `ALPHABET`, as uint8."""
    table = {c: i for i, c in enumerate(ALPHABET)}
    unknown = sorted(set(text) - set(table))
    if unknown:
        raise DataUnavailable(
            f"{FILE} holds characters Keras's file does not ({''.join(unknown)!r}): it is not "
            f"Keras's {FILE}; replace it with the original ({files.URLS[FILE]})"
        )
    return np.fromiter((table[c] for c in text), dtype=np.uint8, count=len(text))


def windows(ids: np.ndarray, maxlen: int = MAXLEN, step: int = STEP):
    """``(inputs (n, maxlen) ids, next ids (n,))``: Keras's semi-redundant windows."""
    starts = np.arange(0, len(ids) - maxlen, step)
    if not len(starts):
        raise DataUnavailable(f"{FILE} is shorter than one window of {maxlen + 1} characters")
    return ids[starts[:, None] + np.arange(maxlen)], ids[starts + maxlen]


def load(*, download: bool | None = None, maxlen: int = MAXLEN, step: int = STEP):
    """``(x_train (n, maxlen, 57) one-hot uint8, next characters (n,), empty test arrays,
    source)``."""
    text, source = read_text(download)
    inputs, targets = windows(encode(text), maxlen, step)
    one_hot = np.eye(len(ALPHABET), dtype=np.uint8)
    x_test = np.zeros((0, maxlen, len(ALPHABET)), np.uint8)
    described = f"{source} ({len(text):,} characters, windows of {maxlen} every {step})"
    return one_hot[inputs], targets, x_test, np.zeros(0, np.uint8), described
