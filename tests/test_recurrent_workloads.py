"""The recurrent workloads' data and runs: IMDB from Keras's ``imdb.npz``, Nietzsche from
``nietzsche.txt`` (small files in those formats, built here), the addition problems generated
from the seed, each as Keras's example script makes them; workloads without their file skipped
with the remedy; a workload judged on its training loss, end to end."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from benchbench import datasets
from benchbench.cli import main
from benchbench.datasets import addition, nietzsche
from benchbench.errors import DataUnavailable
from benchbench.measures import METRICS
from benchbench.results import load_results
from benchbench.workloads import get
from tests.conftest import load_backend


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty $BENCHBENCH_DATA and Keras home: nothing from this machine is read."""
    monkeypatch.setenv("BENCHBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("BENCHBENCH_DOWNLOAD", raising=False)
    monkeypatch.delenv("BENCHBENCH_CHECKSUMS", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def vouch(monkeypatch, path):
    """Vouches for a file of our own, as a user does with $BENCHBENCH_CHECKSUMS."""
    sums = path.parent / "checksums.json"
    sums.write_text(json.dumps({path.name: "md5:" + hashlib.md5(path.read_bytes()).hexdigest()}))
    monkeypatch.setenv("BENCHBENCH_CHECKSUMS", str(sums))


def ragged(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


# -- IMDB ----------------------------------------------------------------------------------------

REVIEWS = [[5, 1, 9], list(range(4, 150)), [7, 7, 25_000]]  # word ids before index_from
LABELS = [1, 0, 1]


def write_imdb(directory):
    path = directory / "imdb.npz"
    test = ragged([[4], [8, 8]])
    np.savez(path, x_train=ragged(REVIEWS), y_train=np.array(LABELS), x_test=test, y_test=[0, 1])
    return path


def keras_ids(review, num_words=20_000):
    """Keras 2.3.1's load_data defaults: start_char 1, index_from 3, oov_char 2."""
    return [1] + [w + 3 if w + 3 < num_words else 2 for w in review]


def test_imdb_workloads_read_keras_s_file_and_pad_at_the_front(data_dir, monkeypatch):
    vouch(monkeypatch, write_imdb(data_dir))
    order = np.arange(3)
    np.random.RandomState(113).shuffle(order)  # Keras's seed=113 shuffle of the train split
    for name, maxlen in (("imdb_bilstm", 100), ("imdb_fasttext", 400)):
        data = datasets.prepare(get(name))
        assert data.x_train.shape == (3, maxlen) and data.x_train.dtype == np.int32
        for row, i in zip(data.x_train, order, strict=True):
            ids = keras_ids(REVIEWS[i])[-maxlen:]  # a long review loses its start
            assert list(row) == [0] * (maxlen - len(ids)) + ids
        assert data.y_train.dtype == np.float32 and data.y_train.shape == (3, 1)
        assert list(data.y_train[:, 0]) == [LABELS[i] for i in order]
        assert data.x_test.shape == (2, maxlen) and "num_words=20000" in data.source
    assert 25_000 + 3 not in datasets.prepare(get("imdb_bilstm")).x_train  # out of vocabulary


def test_imdb_is_opened_only_with_keras_s_checksum(data_dir):
    write_imdb(data_dir)
    with pytest.raises(DataUnavailable, match="expected 599dadb1"):  # Keras 2.3.1's MD5
        datasets.prepare(get("imdb_bilstm"))


# -- Nietzsche -----------------------------------------------------------------------------------

TEXT = (
    "PREFACE\n\nSupposing that Truth is a woman--what then? Is there not ground\n"
    'for suspecting that all philosophers, in so far as they have been "dogmatists," have '
    "failed [1886]; 'tis (Ä Æ É Ë) = _the_ 42: end.\n"
) * 4


def test_nietzsche_is_cut_as_keras_s_script_does(data_dir):
    (data_dir / "nietzsche.txt").write_text(TEXT, encoding="utf-8")
    data = datasets.prepare(get("lstm_text_generation"))
    text = TEXT.lower()
    starts = range(0, len(text) - 40, 3)  # windows of 40 every 3 characters
    assert data.x_train.shape == (len(starts), 40, 57) and data.x_train.dtype == np.float32
    assert data.y_train.shape == (len(starts), 57)
    assert data.x_test.shape == (0, 40, 57) and len(data.y_test) == 0  # no test set
    alphabet = nietzsche.ALPHABET
    for k, i in enumerate(starts):
        assert "".join(alphabet[j] for j in data.x_train[k].argmax(axis=1)) == text[i : i + 40]
        assert alphabet[data.y_train[k].argmax()] == text[i + 40]
    assert data.x_train.sum() == 40 * len(starts)  # exactly one-hot


def test_the_alphabet_is_keras_s_sorted_57_characters():
    assert len(nietzsche.ALPHABET) == 57 == len(set(nietzsche.ALPHABET))
    assert "".join(sorted(nietzsche.ALPHABET)) == nietzsche.ALPHABET  # sorted(set(text))
    assert get("lstm_text_generation").build().count_params() == 102_585


def test_a_text_that_is_not_keras_s_is_refused(data_dir):
    (data_dir / "nietzsche.txt").write_text(TEXT + "Straße\n", encoding="utf-8")
    with pytest.raises(DataUnavailable, match="not Keras's nietzsche.txt"):
        datasets.prepare(get("lstm_text_generation"))


@pytest.mark.parametrize(
    ("workload", "file"), [("imdb_bilstm", "imdb.npz"), ("lstm_text_generation", "nietzsche.txt")]
)
def test_missing_files_give_where_to_put_them(data_dir, workload, file):
    ok, message = datasets.availability(get(workload).dataset)
    assert not ok
    for part in (file, str(data_dir), "BENCHBENCH_DATA", "https://s3.amazonaws.com"):
        assert part in message
    with pytest.raises(DataUnavailable, match=file):
        datasets.prepare(get(workload))


def test_a_run_skips_imdb_and_nietzsche_with_their_remedy(data_dir, tmp_path, capsys):
    args = ["run", "--backend", "numpy", "--workload", "imdb_bilstm,lstm_text_generation"]
    assert main([*args, "--repeats", "1", "--out", str(tmp_path / "out"), "--no-report"]) == 0
    found = {r.spec.workload: r for r in load_results([tmp_path / "out"])}
    assert {w: r.status for w, r in found.items()} == {
        "imdb_bilstm": "skipped",
        "lstm_text_generation": "skipped",
    }
    assert "imdb.npz" in found["imdb_bilstm"].reason
    assert "nietzsche.txt" in found["lstm_text_generation"].reason
    assert "BENCHBENCH_DATA" in capsys.readouterr().out


# -- addition ------------------------------------------------------------------------------------


def decode(rows) -> list[str]:
    return ["".join(addition.CHARS[i] for i in row) for row in rows]


def test_addition_is_keras_s_problem_generated_from_the_seed():
    x_train, y_train, x_val, y_val, source = addition.load(seed=0)
    assert (x_train.shape, y_train.shape) == ((45_000, 7, 12), (45_000, 4))
    assert (x_val.shape, y_val.shape) == ((5_000, 7, 12), (5_000, 4))
    assert "seed 0" in source
    queries = decode(np.concatenate([x_train, x_val]).argmax(axis=-1))
    answers = decode(np.concatenate([y_train, y_val]))
    pairs = set()
    for query, answer in zip(queries, answers, strict=True):
        assert len(query) == 7 and len(answer) == 4
        a, b = query[::-1].strip().split("+")  # reversed: '  543+21' is '12+345'
        assert len(a) <= 3 and len(b) <= 3 and int(answer) == int(a) + int(b)
        pairs.add((min(int(a), int(b)), max(int(a), int(b))))
    assert len(pairs) == 50_000  # distinct questions, a+b and b+a counted once
    again = addition.load(seed=0)
    np.testing.assert_array_equal(again[0], x_train)
    assert not np.array_equal(addition.load(seed=1)[0], x_train)


def test_addition_data_follow_the_cell_s_seed_and_are_one_hot_per_step():
    workload = get("addition_rnn")
    first = datasets.prepare(workload, quick=True, seed=3)
    assert first.x_train.shape == (6_400, 7, 12) and first.y_train.shape == (6_400, 4, 12)
    assert first.y_test.shape == (1_000, 4, 12) and first.y_train.sum() == 6_400 * 4
    np.testing.assert_array_equal(
        datasets.prepare(workload, quick=True, seed=3).x_train, first.x_train
    )
    assert not np.array_equal(
        datasets.prepare(workload, quick=True, seed=4).x_train, first.x_train
    )
    synthetic = datasets.prepare(workload, quick=True, synthetic=True)
    assert synthetic.y_train.shape == (6_400, 4, 12)


# -- training ------------------------------------------------------------------------------------

#: Accuracy each quick profile must reach on the NumPy reference (chance is 0.10), or None for
#: addition_rnn, whose quick profile only learns each answer position's most frequent character
#: (about 0.33 per character, as the reference reaches): it must lower the loss.
QUICK_ACCURACY = {"addition_rnn": None, "mnist1d_gru": 0.25}  # the reference reaches 0.34


@pytest.mark.parametrize("name", sorted(QUICK_ACCURACY))
def test_offline_recurrent_quick_profiles_train(name, tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "benchbench-cache"  # shared with test_datasets
    monkeypatch.setenv("BENCHBENCH_CACHE", str(cache))
    workload = get(name)
    data = datasets.prepare(workload, quick=True)
    model = workload.build()
    model.compile(workload.optimizer(), workload.loss, ["accuracy"], backend=load_backend("numpy"))
    before, _ = model.evaluate(data.x_test, data.y_test, batch_size=500, verbose=0)
    model.fit(data.x_train, data.y_train, workload.batch_size, workload.quick.epochs, verbose=0)
    after, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=500, verbose=0)
    assert after < before
    if QUICK_ACCURACY[name] is not None:
        assert accuracy >= QUICK_ACCURACY[name]


def test_text_generation_is_judged_on_its_training_loss(data_dir, tmp_path):
    (data_dir / "nietzsche.txt").write_text(TEXT * 2, encoding="utf-8")
    args = ["run", "--backend", "numpy", "--workload", "lstm_text_generation", "--quick"]
    out = tmp_path / "out"
    assert main([*args, "--epochs", "2", "--repeats", "1", "--out", str(out), "--no-report"]) == 0
    [result] = load_results([out])
    assert result.status == "ok", result.reason
    assert result.quality_metric == "train_loss" == result.workload_info["quality"]
    assert all(e.val_loss is None and e.val_accuracy is None for e in result.epochs)  # no test set
    assert result.workload_info["test_samples"] == 0
    loss = result.epochs[-1].loss
    assert np.isfinite(loss) and loss < result.epochs[0].loss
    assert METRICS["train_loss"].value(result) == result.final_train_loss == loss
