"""Report tables from the checked-in results under tests/data/results (see report_fixtures).

The Markdown of each workload's tables is compared with tests/data/golden/; after an intended
change, regenerate with ``BENCHBENCH_UPDATE_GOLDEN=1 pytest tests/test_report_tables.py`` and
read the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import pytest

from benchbench.errors import BenchbenchError, UnknownNameError
from benchbench.report import data, formats, markdown, plots, sections
from benchbench.report.tables import SPEED, metric_table, quality_table
from benchbench.results import ResultsWarning, write_result
from tests.report_fixtures import MNIST1D_CNN, MNIST_MLP, RESULTS_DIR, make_result

GOLDEN = Path(__file__).parent / "data" / "golden"
A, B, GPU = "cpu · host-a", "cpu · host-b", "gpu · host-b (H200)"
#: mnist1d_cnn ran with two settings on host-a: a column each
QUICK = "cpu · host-a · quick profile, synthetic data"
FULL = "cpu · host-a · default profile, real data"


@pytest.fixture(scope="module")
def loaded():
    return data.load([RESULTS_DIR])


@pytest.fixture(scope="module")
def report(loaded):
    return sections.build(loaded, generated="(fixed)")


def _cell(loaded, workload, backend, column, table="speed"):
    if table == "speed":
        frame = metric_table(loaded, workload, SPEED).frame
    else:
        frame = quality_table(loaded, workload).frame
    return frame.at[backend, column]


@pytest.mark.parametrize("workload", ["mnist_mlp", "mnist1d_cnn"])
def test_workload_tables_match_golden(report, workload):
    text = markdown.workload_section(
        workload,
        report.workload_infos[workload],
        report.tables[workload],
        report.workload_notes[workload],
    )
    _golden(f"{workload}.md", text)


def test_findings_match_golden(report):
    _golden("findings.md", markdown.findings(report.findings))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BENCHBENCH_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def test_speed_is_median_with_spread_ratio_and_bold_best(loaded):
    best = _cell(loaded, "mnist_mlp", "jax", A)
    assert (best.text, best.best) == ("3.10 ± 0.10", True)
    tf = _cell(loaded, "mnist_mlp", "tensorflow", A)
    assert (tf.text, tf.best) == ("4.70 ± 0.05 (1.5x)", False)
    assert _cell(loaded, "mnist_mlp", "theano", A).text == "17.3 ± 0.3 (5.6x) ⇅"  # unstable
    assert "**3.10 ± 0.10**" in markdown.table(metric_table(loaded, "mnist_mlp", SPEED))


def test_each_column_has_its_own_best(loaded):
    assert _cell(loaded, "mnist_mlp", "tensorflow", B).text == "6.00"
    assert _cell(loaded, "mnist_mlp", "tensorflow", B).best
    assert _cell(loaded, "mnist_mlp", "torch", GPU).text == "1.29 ± 0.01"
    assert _cell(loaded, "mnist_mlp", "tensorflow", GPU).text == "1.92 ± 0.03 (1.5x)"


def test_machines_merge_into_columns(loaded):
    assert [c.label for c in loaded.columns("mnist_mlp")] == [A, B, GPU]
    assert _cell(loaded, "mnist_mlp", "jax", B).kind == "missing"


def test_reference_lane_gets_a_ratio_but_is_never_best(loaded):
    ref = _cell(loaded, "mnist_mlp", "native:torch", A)
    assert (ref.text, ref.best) == ("2.80 ± 0.05 (0.9x)", False)
    table = markdown.table(metric_table(loaded, "mnist_mlp", SPEED))
    assert "| _native:torch_ (ref) |" in table


def test_failed_unavailable_and_timeout_cells_carry_their_reason(loaded):
    cntk = _cell(loaded, "mnist_mlp", "cntk", A)
    assert cntk.kind == "unavailable" and cntk.text == "unavailable"  # the reason: once, above
    assert "Python 3.11" in cntk.detail
    assert _cell(loaded, "mnist_mlp", "numpy", A).text == "timeout: timed out after 600 s"
    torch = _cell(loaded, "mnist_mlp", "torch", A)
    assert torch.text == "5.10 ± 0.10 (1.6x) [2/3]" and "partial" in torch.flags
    notes = metric_table(loaded, "mnist_mlp", SPEED).footnotes
    assert any("1 of 3 repeats failed: worker killed" in note for note in notes)


def test_accuracy_out_of_band_is_flagged(loaded):
    theano = _cell(loaded, "mnist_mlp", "theano", A, "accuracy")
    assert theano.text == "97.12% ⚠ ⇅" and "out-of-band" in theano.flags
    tf = _cell(loaded, "mnist_mlp", "tensorflow", A, "accuracy")
    assert (tf.text, tf.flags) == ("98.25%", ())
    table = quality_table(loaded, "mnist_mlp")
    assert "Reference band: 97.96–98.43%" in table.caption
    assert any(note.startswith("⚠ outside the reference band") for note in table.footnotes)


def test_synthetic_accuracy_is_not_meaningful(loaded):
    table = quality_table(loaded, "mnist1d_cnn")
    assert table.frame.at["torch", QUICK].text == "n/m"
    assert table.frame.at["torch", FULL].text == "91.80%"  # in the band: the default setting
    assert any("synthetic" in note for note in table.footnotes)


def test_theano_row_says_it_runs_on_pytensor(loaded, report):
    assert metric_table(loaded, "mnist_mlp", SPEED).labels["theano"] == "theano (pytensor)"
    assert any("runs on pytensor" in note for note in report.engine_notes)
    theano = report.versions.at["theano (pytensor)", "host-a"]
    assert theano == "pytensor 2.31.7 · fingerprint host-a-pytensor-fp"


def test_machine_facts_are_shared_and_formatted(report):
    machines = report.machines
    assert list(machines.columns) == ["host-a", "host-b"]
    assert machines.at["cpu", "host-b"] == "Intel Xeon 8480+"
    assert machines.at["ram_bytes", "host-a"] == "64.00 GiB"
    assert "fingerprint" not in machines.index and "frameworks.torch" not in machines.index


def test_latest_run_supersedes_older_ones(loaded):
    assert loaded.superseded == 1
    assert 9.99 not in set(loaded.cells["epoch_time"].dropna())


def test_gpu_memory_of_a_cpu_cell_is_empty_not_failed(loaded):
    from benchbench.report.tables import DETAILS

    gpu_memory = next(s for s in DETAILS if s.name == "gpu_memory")
    assert metric_table(loaded, "mnist_mlp", gpu_memory).frame.at["torch", A].text == "—"


def test_quick_runs_are_not_checked_against_the_band(tmp_path):
    result = make_result("torch", MNIST_MLP, quick=True, final_acc=0.95)
    write_result(tmp_path, result)
    cell = quality_table(data.load([tmp_path]), "mnist_mlp").frame.at["torch", A]
    assert cell.text == "95.00% ‡" and "out-of-band" not in cell.flags


def test_corrupt_file_is_skipped_with_a_warning(tmp_path):
    write_result(tmp_path, make_result("torch", MNIST_MLP))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.warns(ResultsWarning, match="broken.json"):
        loaded = data.load([tmp_path])
    assert len(loaded.results) == 1 and len(loaded.skipped) == 1


def test_missing_and_empty_results_are_user_errors(tmp_path):
    with pytest.raises(BenchbenchError, match="no results at"):
        data.load([tmp_path / "nowhere"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(BenchbenchError, match="no result files under"):
            data.load([tmp_path])


def test_unknown_baseline_lists_the_backends(loaded):
    with pytest.raises(UnknownNameError, match="expected one of: cntk, jax"):
        sections.build(loaded, baseline="tensorflw")
    assert sections.build(loaded).baseline == "tensorflow"


def test_formats():
    assert formats.seconds(4.7, 0.05) == "4.70 ± 0.05"
    assert formats.seconds(310.3) == "310.3" and formats.seconds(17.3, 0.3) == "17.3 ± 0.3"
    assert formats.seconds(0.0123) == "0.0123"
    assert formats.ratio(3.14) == "3.1x" and formats.ratio(150.0) == "150x"
    assert formats.ratio(0.903) == "0.9x" and formats.ratio(0.0076) == "0.0076x"
    assert formats.size(2 * 2**30) == "2.00 GiB" and formats.size(512 * 2**20) == "512 MiB"
    assert formats.percent(0.984) == "98.40%" and formats.band(0.9796, 0.9843) == "97.96–98.43%"


def test_colours_are_fixed_per_backend():
    assert plots.colour("torch") == plots.COLOURS["torch"]
    assert plots.colour("native:torch") not in plots.COLOURS.values()
    assert plots.colour("some-new-backend") == plots.colour("some-new-backend")


def test_fixture_files_are_valid_results():
    files = sorted(RESULTS_DIR.rglob("*.json"))
    assert len(files) == 53
    assert all(json.loads(f.read_text())["schema_version"] == 2 for f in files)


# -- trust: settings, overlapping ranges, skipped workloads, unreadable files --------------------


def test_cells_share_a_column_only_when_their_settings_agree(tmp_path):
    for backend, time in (("torch", 1.0), ("jax", 2.0)):
        write_result(tmp_path / "one", make_result(backend, MNIST_MLP, epoch_time=time))
    # a later, shorter run of torch alone must not sit in the 20-epoch column
    short = make_result("torch", MNIST_MLP, epoch_time=9.0, epochs=3, run_id="2026-02-01")
    short = dataclasses.replace(short, spec=dataclasses.replace(short.spec, epochs=3))
    write_result(tmp_path / "two", short)
    loaded = data.load([tmp_path])
    labels = [c.label for c in loaded.columns("mnist_mlp")]
    assert len(labels) == 2 and all(label.startswith("cpu · host-a · ") for label in labels)
    frame = metric_table(loaded, "mnist_mlp", SPEED).frame
    (three,) = [label for label in labels if "3 epochs" in label]
    assert frame.at["torch", three].text == "9.00" and frame.at["jax", three].text == "—"
    (full,) = [label for label in labels if label != three]
    assert frame.at["jax", full].text == "2.00 (2.0x)" and loaded.superseded == 0


def test_a_ratio_within_overlapping_ranges_is_not_a_finding(tmp_path):
    for repeat, (a, b) in enumerate([(1.0, 1.05), (1.2, 0.95), (1.1, 1.3)]):
        write_result(tmp_path, make_result("torch", MNIST_MLP, repeat=repeat, epoch_time=a))
        write_result(tmp_path, make_result("jax", MNIST_MLP, repeat=repeat, epoch_time=b))
    loaded = data.load([tmp_path])
    # torch 1.0-1.2 (median 1.1) against the fastest, jax 0.95-1.3 (median 1.05)
    cell = metric_table(loaded, "mnist_mlp", SPEED).frame.at["torch", A]
    assert cell.text == "1.10 ± 0.10 (≈0.77–1.3x)" and "overlap" in cell.flags
    report = sections.build(loaded, generated="(fixed)")
    assert report.findings[0].others == "torch ≈0.77–1.3x"
    assert any(
        n.startswith("≈: the cell's range") for n in report.tables["mnist_mlp"][0].footnotes
    )


def test_a_single_repeat_is_judged_by_the_spread_of_its_epochs(tmp_path):
    write_result(tmp_path, make_result("torch", MNIST_MLP, epoch_time=1.0, unstable=True))
    write_result(tmp_path, make_result("jax", MNIST_MLP, epoch_time=1.1))
    text = metric_table(data.load([tmp_path]), "mnist_mlp", SPEED).frame.at["jax", A].text
    assert text.startswith("1.10 (≈")  # torch's epochs spread ±25%: 1.1 is within it


def test_cells_with_one_steady_epoch_each_make_a_report(tmp_path):
    # two epochs: no steady range for any cell (pandas refused the empty assignment once)
    for backend, seconds in (("torch", 1.0), ("jax", 1.1)):
        write_result(tmp_path, make_result(backend, MNIST_MLP, epoch_time=seconds, epochs=2))
    loaded = data.load([tmp_path])
    assert metric_table(loaded, "mnist_mlp", SPEED).frame.at["jax", A].text.startswith("1.10")
    assert sections.build(loaded, generated="(fixed)").tables["mnist_mlp"]


def test_a_cell_that_did_not_run_takes_its_runs_setting_from_another_machine(tmp_path):
    # a cluster run: one run id on every machine; host-b was lost before its cell ended
    used = {**MNIST_MLP, "epochs": 20, "train_samples": 60_000, "batch_size": 128}
    ran = make_result("torch", used, machine="host-a", run_id="r1")
    lost = make_result("torch", MNIST_MLP, machine="host-b", run_id="r1", status="failed")
    write_result(tmp_path / "a", ran)
    write_result(tmp_path / "b", dataclasses.replace(lost, workload_info={}))
    assert [c.label for c in data.load([tmp_path]).columns("mnist_mlp")] == [A, B]


def test_a_workload_that_never_ran_says_why_once(tmp_path):
    reason = "dataset 'mnist' is not on this machine: put mnist.npz in ~/.keras/datasets"
    for backend in ("tensorflow", "torch", "jax"):
        for repeat in range(3):
            cell = make_result(backend, MNIST_MLP, repeat=repeat, status="skipped", reason=reason)
            write_result(tmp_path, cell)
    write_result(tmp_path, make_result("torch", MNIST1D_CNN, epoch_time=0.1))
    report = sections.build(data.load([tmp_path]), generated="(fixed)")
    assert report.tables["mnist_mlp"] == []
    assert report.workload_notes["mnist_mlp"][-1] == f"skipped: {reason} (every backend)"
    text = markdown.render(report)
    assert text.count("is not on this machine") == 1  # once, not once per cell and table


def test_an_unreadable_file_is_named_at_the_top_and_report_exits_2(tmp_path, capsys):
    from benchbench import cli

    write_result(tmp_path / "m" / "r", make_result("torch", MNIST_MLP))
    broken = tmp_path / "m" / "r" / "mnist_mlp--jax--cpu--r0.json"
    broken.write_text('{"schema_version": 2, "spec": {"backend": "jax"')
    out = tmp_path / "report.md"
    assert cli.main(["report", str(tmp_path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"unreadable result file skipped: skipping {broken}" in err and "exit status 2" in err
    text = out.read_text(encoding="utf-8")
    head = text[: text.index("## At a glance")]
    assert "Unreadable result file skipped" in head and broken.name in head
    page = tmp_path / "report.html"
    assert cli.main(["report", str(tmp_path), "-o", str(page)]) == 2
    html = page.read_text(encoding="utf-8")
    notices = html[html.index('<ul class="notices">') : html.index("At a glance")]
    assert "Unreadable result file skipped" in notices and broken.name in notices


def test_older_results_are_read_and_left_unmarked(tmp_path):
    result = make_result("torch", MNIST_MLP)
    old = result.to_dict()
    old["schema_version"] = 1
    for key in ("interference",):
        old.pop(key)
    old["timing"].pop("epoch_time_cv")
    old["spec"].pop("quiet_wait")
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = data.load([tmp_path])
    (read,) = loaded.results
    assert read.interference is None and not read.noisy and read.schema_version == 1
    assert metric_table(loaded, "mnist_mlp", SPEED).frame.at["torch", A].text == "1.00"


def test_a_backend_that_ran_degraded_is_marked_with_its_reason(tmp_path):
    reason = "no BLAS linked: PyTensor runs matrix products through NumPy from Python"
    slow = make_result("theano", MNIST_MLP, epoch_time=3.0)
    slow = dataclasses.replace(slow, backend_info={**slow.backend_info, "degraded": reason})
    write_result(tmp_path, slow)
    write_result(tmp_path, make_result("torch", MNIST_MLP, epoch_time=1.0))
    loaded = data.load([tmp_path])
    table = metric_table(loaded, "mnist_mlp", SPEED)
    assert table.frame.at["theano", A].text.endswith(" ▽")
    assert "degraded" in table.frame.at["theano", A].flags
    assert "degraded" not in table.frame.at["torch", A].flags
    assert any(n == f"▽ theano on {A}: {reason}." for n in table.footnotes)
    report = sections.build(loaded, generated="(fixed)")
    assert any(n.startswith("theano ran degraded on host-a") for n in report.notices)
    assert "▽" in markdown.render(report)
