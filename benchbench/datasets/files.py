"""Where dataset files are looked for, checked and (only when asked) downloaded.

Keras's files are looked up in ``$BENCHBENCH_DATA``, then in Keras's cache
(``$KERAS_HOME/datasets``, default ``~/.keras/datasets``), and checked against known checksums.
Generated data is cached under ``$BENCHBENCH_CACHE`` (default ``~/.cache/benchbench``). Nothing
is downloaded unless asked (``download=True``, ``BENCHBENCH_DOWNLOAD=1``, `fetch`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from benchbench.errors import DataUnavailable, UnknownNameError

DATA_ENV = "BENCHBENCH_DATA"
CACHE_ENV = "BENCHBENCH_CACHE"
DOWNLOAD_ENV = "BENCHBENCH_DOWNLOAD"
CHECKSUMS_ENV = "BENCHBENCH_CHECKSUMS"
DOWNLOAD_TIMEOUT = 15.0  # seconds without an answer before a download gives up

#: Known checksums (``algorithm:hex``) by path relative to a data directory. The SHA-256s are
#: Keras's own ``file_hash`` values; the MD5s are Keras 2.3.1's (imdb) or the published ones
#: torchvision checks (the extracted CIFAR batches). A path with no entry is not checked.
CHECKSUMS: dict[str, str] = {
    "mnist.npz": "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "cifar-10-python.tar.gz": (
        "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    ),
    "cifar-10-batches-py/data_batch_1": "md5:c99cafc152244af753f735de768cd75f",
    "cifar-10-batches-py/data_batch_2": "md5:d4bba439e000b95fd0a9bffe97cbabec",
    "cifar-10-batches-py/data_batch_3": "md5:54ebc095f3ab1f0389bbae665268c751",
    "cifar-10-batches-py/data_batch_4": "md5:634d18415352ddfa80567beed471001a",
    "cifar-10-batches-py/data_batch_5": "md5:482c414d41f54cd18b22e5b47cb7c3cb",
    "cifar-10-batches-py/test_batch": "md5:40351d587109b95175f43aff81a1287e",
    "imdb.npz": "md5:599dadb1135973df5b59232a0e9a887c",
    "imdb_word_index.json": "md5:bfafd718b763782e994055a2d397834f",
}
#: Where each downloadable file comes from (Keras's own origins).
URLS: dict[str, str] = {
    "mnist.npz": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    "cifar-10-python.tar.gz": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "imdb.npz": "https://s3.amazonaws.com/text-datasets/imdb.npz",
    "imdb_word_index.json": "https://s3.amazonaws.com/text-datasets/imdb_word_index.json",
    "nietzsche.txt": "https://s3.amazonaws.com/text-datasets/nietzsche.txt",
}
#: A dataset's main file, for `fetch` by dataset name.
DATASET_FILES = {
    "mnist": "mnist.npz",
    "cifar10": "cifar-10-python.tar.gz",
    "imdb": "imdb.npz",
    "nietzsche": "nietzsche.txt",
}


def known_checksums() -> dict[str, str]:
    """`CHECKSUMS`, with the entries of the JSON file ``$BENCHBENCH_CHECKSUMS`` (relative path ->
    ``algorithm:hex``) added or replacing them: how a user vouches for files of their own in
    Keras's formats (a subset, a regenerated copy)."""
    extra = os.environ.get(CHECKSUMS_ENV)
    if not extra:
        return CHECKSUMS
    try:
        with open(extra, encoding="utf-8") as f:
            added = json.load(f)
    except (OSError, ValueError) as exc:
        raise DataUnavailable(
            f"${CHECKSUMS_ENV}={extra} is not a readable JSON file: {exc}"
        ) from None
    if not isinstance(added, dict) or not all(isinstance(v, str) for v in added.values()):
        raise DataUnavailable(f"${CHECKSUMS_ENV}={extra} must map file names to 'algorithm:hex'")
    return {**CHECKSUMS, **added}


def data_dirs() -> list[Path]:
    """Where Keras's files are looked for: ``$BENCHBENCH_DATA``, then Keras's cache directory."""
    keras_home = os.environ.get("KERAS_HOME")
    keras = Path(keras_home).expanduser() if keras_home else Path.home() / ".keras"
    first = [Path(os.environ[DATA_ENV]).expanduser()] if os.environ.get(DATA_ENV) else []
    return [*first, keras / "datasets"]


def cache_dir() -> Path:
    """Where generated data is cached: ``$BENCHBENCH_CACHE``, default ``~/.cache/benchbench``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "benchbench"


def find(*names: str) -> Path | None:
    """The first of `names` (paths relative to a data directory) found in `data_dirs`; a name
    ending in '/' is a directory."""
    for directory in data_dirs():
        for name in names:
            path = directory / name
            if path.is_dir() if name.endswith("/") else path.is_file():
                return path
    return None


def missing(dataset: str, what: str, url: str) -> str:
    """The remedy for a dataset whose file `what` was not found."""
    dirs = [str(d) for d in data_dirs()]
    if os.environ.get(DATA_ENV):
        dirs[0] = f"${DATA_ENV} ({dirs[0]})"
    return (
        f"dataset {dataset!r} is not on this machine: {what} was not found in "
        f"{' or '.join(dirs)}. Put Keras's file there (from {url}), set {DATA_ENV} to "
        f"the directory that holds it, or allow downloading with {DOWNLOAD_ENV}=1"
    )


def needs(package: str, dataset: str) -> str:
    return (
        f"dataset {dataset!r} needs the {package} package, which is not installed; "
        "install it with: pip install 'benchbench[data]'"
    )


def download_allowed(download: bool | None) -> bool:
    if download is None:
        return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")
    return download


def locate(dataset: str, name: str, download: bool | None, *also: str) -> Path:
    """The file `name` (or one of `also`), found or downloaded; `DataUnavailable` otherwise."""
    path = find(name, *also)
    if path is not None:
        return path
    if not download_allowed(download):
        raise DataUnavailable(missing(dataset, " or ".join((name, *also)), URLS[name]))
    return fetch(name)


def fetch(
    name: str,
    directory: str | os.PathLike | None = None,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
    progress: bool = True,
) -> Path:
    """Downloads Keras's file `name` (a dataset of `DATASET_FILES` or a file of `URLS`) from its
    origin, checks it and returns its path. `directory` defaults to ``$BENCHBENCH_DATA``, else
    Keras's cache; `timeout` is in seconds; `progress` draws a bar on stderr. Raises
    `DataUnavailable` when offline, on a server error or for a file that fails its checksum."""
    name = DATASET_FILES.get(name, name)
    if name not in URLS:
        raise UnknownNameError("downloadable dataset", name, [*DATASET_FILES, *URLS])
    url = URLS[name]
    target = Path(directory).expanduser() if directory else data_dirs()[0]
    dest = target / name
    part = dest.with_name(dest.name + ".part")
    try:
        target.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            size = int(response.headers.get("Content-Length") or 0)
            _copy(response, out, size, dest.name if progress else None)
        verify(part, key=name)
    except DataUnavailable:  # a checksum mismatch (DataUnavailable is an OSError too)
        part.unlink(missing_ok=True)
        raise
    except OSError as exc:  # URLError, timeouts and disk errors are all OSErrors
        part.unlink(missing_ok=True)
        raise DataUnavailable(
            f"could not download {url} to {dest}: {getattr(exc, 'reason', exc)}. Download it on a "
            f"machine with internet access and copy it to {target}"
        ) from None
    os.replace(part, dest)
    return dest


def verify(path: Path, checksums: Mapping[str, str] | None = None, key: str | None = None) -> None:
    """Raises `DataUnavailable` if `path` fails its known checksum (by `key`, default its name)."""
    key = key or path.name
    expected = (known_checksums() if checksums is None else checksums).get(key)
    if expected is None:
        return
    algorithm, _, want = expected.partition(":")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != want.lower():
        raise DataUnavailable(
            f"{path} has {algorithm} {digest.hexdigest()}, expected {want}: it is not Keras's "
            f"{key} (truncated or corrupt?). Delete it and put the original there"
        )


def version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _copy(response, out, total: int, label: str | None) -> None:
    done = 0
    for chunk in iter(lambda: response.read(1 << 16), b""):
        out.write(chunk)
        done += len(chunk)
        if label:
            pct, bar = (100 * done // total, "#" * (30 * done // total)) if total else (0, "")
            line = f"\rdownloading {label} {pct:3d}% [{bar:<30}] {done / 1e6:.1f} MB"
            print(line, end="", file=sys.stderr, flush=True)
    if label:
        print(file=sys.stderr)
