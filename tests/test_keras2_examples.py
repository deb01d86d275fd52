"""Keras 2.3.1's own example scripts run on every backend with only their imports changed.

The scripts are Keras's ``examples/mnist_mlp.py``, ``mnist_cnn.py`` and ``cifar10_cnn.py`` at tag
2.3.1 (keras-team/keras, commit f295e8ee39d4ba841ac281a9337d69c7bc5e0eb6), kept verbatim in
``tests/data/keras2_examples/`` (checked here by MD5). Each run rewrites their ``keras`` imports
to ``benchbench`` and their ``epochs = N`` line to one epoch (nothing else), points
``$BENCHBENCH_DATA`` at small generated datasets in Keras's file formats (vouched for through
``$BENCHBENCH_CHECKSUMS``), picks the backend with ``$BENCHBENCH_BACKEND`` and runs the script in a
fresh interpreter. mnist_mlp reshapes to exactly 60,000 / 10,000 samples, so its MNIST is full
size; the others take any size.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TESTABLE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "data" / "keras2_examples"
MD5 = {
    "mnist_mlp": "53c6a4dddf225676fb0f174da6c748ac",
    "mnist_cnn": "9fb6d8b313513fd2e84363d1d87a7ae7",
    "cifar10_cnn": "1e1d5e5eb09967ee1bdb3b78b05f04fe",
}
#: What each script must print after training (besides exiting 0).
PRINTS = {
    "mnist_mlp": ("Total params: 669,706", "Test accuracy:"),
    "mnist_cnn": ("x_train shape: (256, 28, 28, 1)", "Test accuracy:"),
    "cifar10_cnn": (
        "Using real-time data augmentation.",
        "Saved trained model at",
        "Test accuracy:",
    ),
}


def rewrite(source: str) -> str:
    """The script with ``keras`` imports turned into ``benchbench`` ones and one epoch; raises
    if anything else would change."""
    out = []
    for line in source.splitlines(keepends=True):
        new = re.sub(r"^import keras$", "import benchbench as keras", line.rstrip("\n"))
        new = re.sub(r"^from keras(\.| )", r"from benchbench\1", new)
        new = re.sub(r"^epochs = \d+$", "epochs = 1", new)
        changed = new != line.rstrip("\n")
        assert not changed or re.match(r"^(import |from |epochs = )", line), line
        out.append(new + "\n" if line.endswith("\n") else new)
    return "".join(out)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _mnist(directory: Path, n_train: int, n_test: int) -> None:
    rng = np.random.default_rng(0)
    np.savez(
        directory / "mnist.npz",
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )


def _cifar(directory: Path, per_batch: int) -> None:
    folder = directory / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))


DATA = {
    "mnist_mlp": lambda d: _mnist(d, 60_000, 10_000),
    "mnist_cnn": lambda d: _mnist(d, 256, 64),
    "cifar10_cnn": lambda d: _cifar(d, 32),
}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """One data directory per script and a checksum file vouching for every file in it."""
    made = {}
    for name, write in DATA.items():
        directory = tmp_path_factory.mktemp(name)
        write(directory)
        sums = {
            str(path.relative_to(directory)): "md5:" + _md5(path)
            for path in directory.rglob("*")
            if path.is_file()
        }
        checksums = directory.parent / f"{name}-checksums.json"
        checksums.write_text(json.dumps(sums))
        made[name] = directory, checksums
    return made


def test_the_scripts_are_keras_2_3_1s_own():
    assert {name: _md5(EXAMPLES / f"{name}.py") for name in MD5} == MD5


def test_rewriting_changes_only_imports_and_epochs():
    source = (EXAMPLES / "cifar10_cnn.py").read_text()
    rewritten = rewrite(source)
    changed = [
        (a, b) for a, b in zip(source.splitlines(), rewritten.splitlines(), strict=True) if a != b
    ]
    assert ("import keras", "import benchbench as keras") in changed
    assert (
        "from keras.preprocessing.image import ImageDataGenerator",
        "from benchbench.preprocessing.image import ImageDataGenerator",
    ) in changed
    assert ("epochs = 100", "epochs = 1") in changed and len(changed) == 7


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", TESTABLE)
@pytest.mark.parametrize("name", list(MD5))
def test_keras_2_example_runs(name, backend_name, datasets, tmp_path):
    from benchbench import registry

    info = registry.probe(backend_name)
    if not info.available:
        pytest.skip(f"{backend_name}: {info.reason}")
    data_dir, checksums = datasets[name]
    script = tmp_path / f"{name}.py"
    script.write_text(rewrite((EXAMPLES / f"{name}.py").read_text()))
    env = {
        **os.environ,
        "BENCHBENCH_BACKEND": backend_name,
        "BENCHBENCH_DATA": str(data_dir),
        "BENCHBENCH_CHECKSUMS": str(checksums),
        "BENCHBENCH_DOWNLOAD": "0",
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    for expected in PRINTS[name]:
        assert expected in done.stdout, done.stdout[-2000:]
    if name == "cifar10_cnn":
        assert (tmp_path / "saved_models" / "keras_cifar10_trained_model.h5").is_file()
