"""IMDB movie-review sentiment, from Keras's ``imdb.npz`` (and ``imdb_word_index.json``).

`load` gives the IMDB workloads their arrays as Keras's ``imdb_bidirectional_lstm.py`` and
``imdb_fasttext.py`` make them: `load_data` with ``num_words``, then every review cut or padded
with zeros to ``maxlen`` ids, both at the front (``pad_sequences``' defaults).

`load_data` is Keras 2.3.1's ``keras.datasets.imdb.load_data``: the reviews as lists of word
ids (1 starts a review, 2 stands for a word cut by ``num_words``/``skip_top``, real words from
``index_from``), shuffled with ``seed``. The file holds pickled lists, so it is opened only after
it matched Keras 2.3.1's MD5. One difference: with ``maxlen``, Keras 2.3.1 filtered train and
test together and then split at the original train size, moving test reviews into the training
set; here each split keeps its own reviews (as later Keras versions do).
"""

from __future__ import annotations

import json

import numpy as np

from benchbench.datasets import files
from benchbench.datasets.base import DatasetInfo
from benchbench.errors import DataUnavailable
from benchbench.preprocessing.sequence import pad_sequences

INFO = DatasetInfo("imdb", (), 25_000, 25_000, 2, 1.0)
FILE = "imdb.npz"
WORD_INDEX = "imdb_word_index.json"


def availability() -> tuple[bool, str]:
    path = files.find(FILE)
    return (True, str(path)) if path else (False, files.missing("imdb", FILE, files.URLS[FILE]))


def load(*, download: bool | None = None, num_words: int | None = None, maxlen: int = 100):
    """``(x_train, y_train, x_test, y_test, source)``: ids ``(n, maxlen)`` int32 (Keras's
    defaults ``seed=113, start_char=1, oov_char=2, index_from=3``), labels 0/1.

    Args:
        num_words: keep the most frequent words below this id (the examples' ``max_features``).
        maxlen: the length every review is cut or padded to, at its front (as ``pad_sequences``
            does by default; not `load_data`'s ``maxlen``, which drops longer reviews).

    Raises:
        DataUnavailable: the file is missing or not Keras's, with where to put it.
    """
    (x_train, y_train), (x_test, y_test) = load_data(num_words=num_words, download=download)
    source = str(files.find(FILE) or FILE)
    return (
        pad_sequences(x_train, maxlen=maxlen),
        np.asarray(y_train),
        pad_sequences(x_test, maxlen=maxlen),
        np.asarray(y_test),
        f"{source} (num_words={num_words}, padded to {maxlen})",
    )


def _reviews(path: str, download: bool | None):
    found = files.locate("imdb", path, download) if path in files.URLS else files.find(path)
    if found is None:
        raise DataUnavailable(files.missing("imdb", path, files.URLS[FILE]))
    files.verify(found, key=path)
    if path not in files.known_checksums():
        raise DataUnavailable(
            f"{found}: benchbench opens pickled IMDB files only when their checksum is known; "
            f"use Keras's {FILE}, or vouch for yours in ${files.CHECKSUMS_ENV}"
        )
    try:
        with np.load(found, allow_pickle=True) as f:  # checked against the known MD5 above
            return [f[k] for k in ("x_train", "y_train", "x_test", "y_test")], found
    except (OSError, ValueError, KeyError) as exc:
        raise DataUnavailable(f"{found} is not a Keras imdb.npz ({exc}); replace it") from None


def load_data(
    path: str = FILE,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    *,
    download: bool | None = None,
):
    """Keras 2.3.1's ``imdb.load_data``: ``(x_train, y_train), (x_test, y_test)``.

    Args:
        path: the file's name in the data directories.
        num_words: keep the most frequent words below this id (None: all).
        skip_top: also cut the most frequent `skip_top` ids.
        maxlen: drop reviews of `maxlen` ids or more (after `start_char` is added).
        seed: shuffles train and test (NumPy's legacy ``RandomState``, as Keras).
        start_char, oov_char, index_from: the id conventions above.
        download: fetch the file when missing (default: ``$BENCHBENCH_DOWNLOAD``).

    Raises:
        DataUnavailable: the file is missing or not Keras's.
        ValueError: `maxlen` keeps no review.
    """
    (x_train, labels_train, x_test, labels_test), _ = _reviews(path, download)
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]

    xs = list(np.concatenate([x_train, x_test]))
    labels = np.concatenate([labels_train, labels_test])
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
        if not kept:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                "kept. Increase maxlen."
            )
        xs, labels = [xs[i] for i in kept], labels[kept]
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    split = len(x_train) if not maxlen else int(np.sum(np.asarray(kept) < len(x_train)))
    return (_ragged(xs[:split]), labels[:split]), (_ragged(xs[split:]), labels[split:])


def _ragged(lists: list[list[int]]) -> np.ndarray:
    """An object array of lists, as Keras returns (``np.array`` of ragged lists)."""
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def get_word_index(path: str = WORD_INDEX) -> dict[str, int]:
    """Keras 2's ``imdb.get_word_index``: word -> id (before ``index_from``)."""
    found = files.locate("imdb", path, None) if path in files.URLS else files.find(path)
    if found is None:
        raise DataUnavailable(files.missing("imdb", path, files.URLS[WORD_INDEX]))
    files.verify(found, key=path)
    with open(found, encoding="utf-8") as f:
        return json.load(f)
