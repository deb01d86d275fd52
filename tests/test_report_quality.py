"""A workload judged on its training loss (lower is better): its report table, findings, plot,
summary and `check` read the loss, in the loss's direction, against its band."""

from __future__ import annotations

import dataclasses

import pytest

from benchbench import check, results, summary
from benchbench.report import build_report, data, findings, plots, tables
from tests.report_fixtures import MNIST_MLP, make_result

pytest.importorskip("pandas")

TEXT_GENERATION = {
    "name": "lstm_text_generation",
    "description": "Nietzsche, character-level LSTM(128), judged on training loss",
    "dataset": "nietzsche",
    "params": 102_585,
    "batch_size": 128,
    "default": {"epochs": 10, "train_samples": None, "test_samples": None},
    "quick": {"epochs": 1, "train_samples": 6_400, "test_samples": None},
    "reference": {"low": 1.35, "high": 1.47, "source": "Jeong-Yoon Lee"},
    "quality": "train_loss",
}
COLUMN = "cpu · host-a"


def loss_result(backend: str, final_loss: float, repeat: int = 0, **kwargs):
    """A text-generation cell whose training loss falls to `final_loss`, with training
    accuracy logged (as the worker compiles with it) and no validation."""
    result = make_result(backend, TEXT_GENERATION, repeat=repeat, final_acc=0.6, **kwargs)
    n = len(result.epochs)
    epochs = [
        dataclasses.replace(
            e, loss=final_loss + 0.1 * (n - 1 - e.epoch), val_loss=None, val_accuracy=None
        )
        for e in result.epochs
    ]
    return dataclasses.replace(result, epochs=epochs)


@pytest.fixture
def loaded(tmp_path):
    for backend, loss in (("tensorflow", 1.401), ("torch", 1.402), ("jax", 1.52)):
        results.write_result(tmp_path, loss_result(backend, loss))
    return data.load([tmp_path])


def test_the_quality_table_is_a_loss_table_with_the_band(loaded):
    table = tables.quality_table(loaded, "lstm_text_generation")
    assert (table.name, table.title) == ("loss", "Training loss")
    assert "lower is better" in table.caption and "1.35–1.47" in table.caption
    frame = table.frame
    assert frame.at["tensorflow", COLUMN].text == "1.4010"
    assert frame.at["jax", COLUMN].text == "1.5200 ⚠"  # above the band: worse
    assert "out-of-band" in frame.at["jax", COLUMN].flags
    assert "out-of-band" not in frame.at["torch", COLUMN].flags
    names = [t.name for t in tables.workload_tables(loaded, "lstm_text_generation")]
    assert names[:2] == ["speed", "loss"]


def test_findings_and_plot_speak_of_the_loss(loaded):
    [found] = findings.findings(loaded)
    assert found.accuracy.startswith("training loss: 3 backends within 0.1190 (1.40–1.52)")
    assert "outside the reference band 1.35–1.47: jax" in found.accuracy
    plot = plots.quality_plot(loaded, "lstm_text_generation")
    assert plot.title == "Training loss per epoch" and "training loss" in plot.alt


def test_a_report_with_a_loss_workload_builds(loaded, tmp_path):
    out = build_report([tmp_path], tmp_path / "report.md", fmt="md")
    text = out.read_text(encoding="utf-8")
    assert "Training loss" in text and "1.4010" in text


def test_the_summary_shows_the_loss():
    result = loss_result("torch", 1.402)
    assert "loss 1.402" in summary.outcome(result) and "val acc" not in summary.outcome(result)
    assert "loss 1.4020" in summary.summary_table([result])


def _side(directory, loss, accuracy=0.6):
    for repeat in range(5):
        jitter = (0.0, 0.002, -0.001, 0.003, -0.002)[repeat]
        result = loss_result("torch", loss * (1 + jitter), repeat=repeat)
        epochs = [dataclasses.replace(e, accuracy=accuracy) for e in result.epochs]
        results.write_result(directory, dataclasses.replace(result, epochs=epochs))
    return results.load_results([directory])


def test_check_judges_a_loss_lower_is_better(tmp_path):
    base = _side(tmp_path / "base", 1.40)
    worse = check.compare(base, _side(tmp_path / "worse", 1.47, accuracy=0.1))
    verdicts = {c.metric: c.verdict for c in worse.comparisons}
    assert verdicts["train_loss"] == "regression"  # +5%: past the 2% threshold
    assert "val_accuracy" not in verdicts  # its accuracy is not what it is judged on
    better = check.compare(base, _side(tmp_path / "better", 1.33))
    assert {c.metric: c.verdict for c in better.comparisons}["train_loss"] == "improvement"
    steady = check.compare(base, _side(tmp_path / "steady", 1.405))
    assert {c.metric: c.verdict for c in steady.comparisons}["train_loss"] == "ok"


def test_check_does_not_judge_an_accuracy_workload_on_its_loss():
    base = [make_result("jax", MNIST_MLP, repeat=r) for r in range(3)]
    assert all(r.final_train_loss is not None for r in base)
    compared = {c.metric for c in check.compare(base, base).comparisons}
    assert "val_accuracy" in compared and "train_loss" not in compared
