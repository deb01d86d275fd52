"""A user's own workload runs by path: a WORKLOAD file or a Keras-2-style module; a broken file
says which file and what is wrong, and the run's other cells still run."""

from __future__ import annotations

import textwrap

import pytest

from benchbench.cli import main
from benchbench.results import load_results
from benchbench.workloads import Workload, WorkloadFileError, is_file, load_file
from tests.fake_backends import ENV

KERAS_STYLE = '''
    """My digits MLP, Keras 2 style."""
    from benchbench.models import Sequential
    from benchbench.layers import Dense
    from benchbench.optimizers import RMSprop


    def build():
        return Sequential([Dense(16, activation="relu", input_shape=(64,)),
                           Dense(10, activation="softmax")])


    OPTIMIZER = RMSprop(learning_rate=0.001)
    LOSS = "categorical_crossentropy"
    DATASET = "digits"
    BATCH_SIZE = 64
    EPOCHS = 3
'''


def _write(directory, name: str, source: str):
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_keras_style_module_becomes_a_workload(tmp_path):
    workload = load_file(_write(tmp_path, "my_digits.py", KERAS_STYLE))
    assert isinstance(workload, Workload)
    assert (workload.name, workload.dataset, workload.loss) == (
        "my_digits",
        "digits",
        "categorical_crossentropy",
    )
    assert workload.input_shape == (64,) and workload.num_classes == 10
    assert workload.params == 64 * 16 + 16 + 16 * 10 + 10
    assert workload.batch_size == 64 and workload.default.epochs == 3
    assert workload.quick.epochs == 1 and workload.description == "My digits MLP, Keras 2 style."
    assert workload.optimizer().learning_rate == 0.001


def test_a_workload_file_may_define_workload_itself(tmp_path):
    source = "from workloads.digits_mlp import WORKLOAD as W\nimport dataclasses\n"
    source += "WORKLOAD = dataclasses.replace(W, name='digits_copy')\n"
    assert load_file(_write(tmp_path, "copy.py", source)).name == "digits_copy"


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def build(:\n    pass\n", r"broken\.py: importing it failed \(line 1\): SyntaxError"),
        ("import no_such_module\n", "ModuleNotFoundError: No module named 'no_such_module'"),
        ("x = 1\n", "missing build, OPTIMIZER, LOSS, DATASET"),
        ("WORKLOAD = 3\n", "WORKLOAD is a int, expected a benchbench.workloads.Workload"),
        (
            KERAS_STYLE.replace("RMSprop(learning_rate=0.001)", '"nadam"'),
            "OPTIMIZER failed: UnknownNameError: unknown optimizer 'nadam'",
        ),
    ],
)
def test_a_broken_file_names_the_file_and_the_problem(tmp_path, source, words):
    with pytest.raises(WorkloadFileError, match=words):
        load_file(_write(tmp_path, "broken.py", source))


def test_names_and_files_are_told_apart(tmp_path):
    assert is_file("models/mine.py") and is_file("mine.py") and not is_file("mnist_mlp")
    with pytest.raises(WorkloadFileError, match="no such file"):
        load_file(tmp_path / "missing.py")


def test_run_takes_workload_files_beside_names(tmp_path, monkeypatch, capsys):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    mine = _write(tmp_path, "my_digits.py", KERAS_STYLE)
    broken = _write(tmp_path, "broken.py", "def build(:\n")
    out = tmp_path / "results"
    args = ["run", "--backend", "numpy", "--quick", "--repeats", "1", "--no-report"]
    workloads = f"{mine},{broken},tiny"
    code = main([*args, "--workload", workloads, "--out", str(out), "--threads", "1"])
    assert code == 1  # the broken file's cell failed; the others ran
    results = {r.spec.workload: r for r in load_results(sorted(out.glob("*/*")))}
    assert results["my_digits"].status == "ok" and results["tiny"].status == "ok"
    assert results["my_digits"].spec.workload_file == str(mine)
    assert results["my_digits"].workload_info["params"] == 1_210
    assert results["broken"].status == "failed"
    assert f"workload file {broken}: importing it failed" in results["broken"].reason
    assert main([*args, "--workload", str(tmp_path / "nope.py"), "--out", str(out)]) == 2
    assert "no such workload file" in capsys.readouterr().err
