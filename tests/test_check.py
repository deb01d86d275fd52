"""`benchbench check`: generated result files with known changes, and the verdicts they get."""

from __future__ import annotations

import dataclasses

import pytest

from benchbench import check, cli, results
from benchbench.errors import BenchbenchError, UnknownNameError
from benchbench.interference import Interference
from benchbench.results import CellResult, CellSpec, EpochRecord, Memory, Timing

pytest.importorskip("scipy")

#: Run-to-run jitter of about +-1%, different on each side so that no two runs tie.
JITTER = {"base": (0.0, 0.008, -0.006, 0.011, -0.009), "cur": (0.004, -0.01, 0.007, -0.003, 0.0)}


def cell(
    workload="digits_mlp",
    backend="numpy",
    repeat=0,
    epoch_time=0.1,
    accuracy=0.95,
    status="ok",
    fingerprint="env-a",
    memory=300 * 2**20,
) -> CellResult:
    spec = CellSpec(backend=backend, workload=workload, repeat=repeat, quick=True)
    if status != "ok":
        return CellResult(spec, status, machine="box", run_id="r", reason="boom\ntraceback")
    samples = 1000
    timing = Timing(
        first_epoch_time=epoch_time * 3,
        steady_epoch_times=[epoch_time] * 2,
        epoch_time=epoch_time,
        step_time_median=epoch_time / 10,
        step_time_p90=epoch_time / 9,
        throughput=samples / epoch_time,
        setup_time=0.2,
        samples_per_epoch=samples,
    )
    epochs = [
        EpochRecord(epoch=e, train_time=epoch_time, val_accuracy=accuracy, steps=10)
        for e in range(3)
    ]
    return CellResult(
        spec,
        "ok",
        machine="box",
        run_id="r",
        epochs=epochs,
        timing=timing,
        memory=Memory(memory),
        environment={"fingerprint": fingerprint, "python": "3.11"},
    )


def write_run(directory, side="base", repeats=5, time_factor=1.0, accuracy=0.95, **kwargs):
    """Writes `repeats` cells of each of two workloads; returns the directory."""
    for workload in ("digits_mlp", "mnist1d_cnn"):
        for r in range(repeats):
            jitter = JITTER[side][r % 5]
            time = 0.1 * time_factor * (1 + jitter)
            acc = accuracy + jitter / 100
            results.write_result(
                directory, cell(workload, repeat=r, epoch_time=time, accuracy=acc, **kwargs)
            )
    return directory


def run_check(tmp_path, capsys, *args, base=None, cur=None):
    base = base or write_run(tmp_path / "base")
    cur = cur or write_run(tmp_path / "cur", "cur")
    code = cli.main(["check", str(base), str(cur), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def verdicts(base_dir, cur_dir, specs=()) -> dict[tuple[str, str], str]:
    found = check.compare(
        results.load_results([base_dir]),
        results.load_results([cur_dir]),
        check.Thresholds.parse(specs),
    )
    return {(c.key[0], c.metric): c.verdict for c in found.comparisons}


def test_a_20_percent_slowdown_is_a_regression(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur", time_factor=1.2)
    code, out, _ = run_check(tmp_path, capsys, cur=cur)
    assert code == 1
    assert "REGRESSION" in out and "+20." in out and "Mann-Whitney U, 5 vs 5" in out
    assert "digits_mlp/numpy/cpu: epoch_time +20." in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: 4 regressions in 2 cells")


def test_three_percent_noise_is_not_a_regression(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur", time_factor=1.03)
    code, out, _ = run_check(tmp_path, capsys, cur=cur)
    assert code == 0
    assert "REGRESSION" not in out
    assert out.rstrip().splitlines()[-1].startswith("PASS: no regression (8 comparisons")


def test_an_accuracy_drop_of_two_points_is_a_regression(tmp_path):
    base = write_run(tmp_path / "base")
    cur = write_run(tmp_path / "cur", "cur", accuracy=0.93)
    found = verdicts(base, cur)
    assert found[("digits_mlp", "val_accuracy")] == "regression"
    assert found[("digits_mlp", "epoch_time")] == "ok"
    assert verdicts(base, cur, ["accuracy=3pt"])[("digits_mlp", "val_accuracy")] == "ok"


def test_an_improvement_is_listed_and_passes(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur", time_factor=0.8, accuracy=0.97)
    code, out, _ = run_check(tmp_path, capsys, cur=cur)
    assert code == 0
    row = next(
        line for line in out.splitlines() if line.startswith("digits_mlp") and "epoch_time" in line
    )
    assert "-20.0%" in row and row.endswith("improvement")
    assert "improvements:" in out and "PASS" in out and "6 improved" in out


def test_a_single_repeat_uses_the_threshold_alone_and_says_so(tmp_path, capsys):
    base = write_run(tmp_path / "base", repeats=1)
    slow = write_run(tmp_path / "slow", "cur", repeats=1, time_factor=1.2)
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=slow)
    assert code == 1
    assert "single repeat: threshold only" in out
    noisy = write_run(tmp_path / "noisy", "cur", repeats=1, time_factor=1.05)
    assert run_check(tmp_path, capsys, base=base, cur=noisy)[0] == 0


def test_too_few_repeats_for_the_test_fall_back_to_the_threshold(tmp_path):
    base = write_run(tmp_path / "base", repeats=2)
    cur = write_run(tmp_path / "cur", "cur", repeats=2, time_factor=1.2)
    found = check.compare(results.load_results([base]), results.load_results([cur]))
    slow = [c for c in found.comparisons if c.metric == "epoch_time"][0]
    assert slow.verdict == "regression" and slow.p_value is None
    assert "2 vs 2 repeats cannot reach p<=0.05: threshold only" in slow.test


def test_a_change_beyond_the_threshold_within_the_noise_is_unclear():
    base, cur = [0.10, 0.20, 0.10, 0.20, 0.15], [0.12, 0.25, 0.18, 0.11, 0.21]
    found = check.compare_metric(
        ("w", "b", "cpu"), "epoch_time", base, cur, check.Threshold(10, "%")
    )
    assert found.change == pytest.approx(20.0)
    assert found.verdict == "unclear" and found.p_value > 0.05


def test_thresholds_per_metric_and_per_workload(tmp_path):
    base = write_run(tmp_path / "base")
    cur = write_run(tmp_path / "cur", "cur", time_factor=1.2)
    found = verdicts(base, cur, ["mnist1d_cnn:time=25%"])
    assert found[("digits_mlp", "epoch_time")] == "regression"
    assert found[("mnist1d_cnn", "epoch_time")] == "ok"
    found = verdicts(base, cur, ["epoch_time=off", "throughput=off"])
    assert {m for _, m in found} == {"val_accuracy", "peak_host_memory"}
    found = verdicts(base, cur, ["time=30%", "first_epoch_time=50%"])
    assert found[("digits_mlp", "epoch_time")] == "ok"
    assert found[("digits_mlp", "first_epoch_time")] == "ok"


def test_an_alias_does_not_turn_on_a_metric_that_is_off():
    table = check.Thresholds.parse(["time=15%"]).for_workload("any")
    assert table["epoch_time"] == table["throughput"] == check.Threshold(15, "%")
    assert "first_epoch_time" not in table and "step_time" not in table
    table = check.Thresholds.parse(["step_time=5%", "x:time=off"]).for_workload("x")
    assert "epoch_time" not in table and "step_time" not in table


@pytest.mark.parametrize("spec", ["time", "time=10", "time=ten%", "a:b:time=1%", "time=1pt"])
def test_a_bad_threshold_spec_is_a_clean_error(spec):
    with pytest.raises(BenchbenchError, match="threshold"):
        check.Rule.parse(spec)


def test_an_unknown_metric_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="epoch_time.*memory"):
        check.Rule.parse("speed=10%")


def test_a_cell_that_now_fails_fails_the_check(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur")
    for r in range(5):
        results.write_result(cur, cell("digits_mlp", repeat=r, status="timeout"))
    code, out, _ = run_check(tmp_path, capsys, cur=cur)
    assert code == 1
    assert "FAILED in current: digits_mlp/numpy/cpu (5 timeout: boom)" in out
    assert "1 cell now failing" in out


def test_new_and_missing_cells_are_listed(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur")
    results.write_result(cur, cell("digits_mlp", backend="torch"))
    (cur / f"{cell('mnist1d_cnn').spec.cell_id}.json").unlink()
    base = write_run(tmp_path / "base")
    results.write_result(base, cell("mnist1d_mlp"))
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=cur)
    assert code == 2  # a baseline cell without a current result is a data error
    assert "new in current (not compared): digits_mlp/torch/cpu" in out
    assert "DATA ERROR: missing from current: mnist1d_mlp/numpy/cpu" in out
    assert out.rstrip().splitlines()[-1].startswith("DATA ERROR: 1 baseline cell missing")
    code, out, _ = run_check(tmp_path, capsys, "--allow-missing", base=base, cur=cur)
    assert code == 0
    assert "missing from current: mnist1d_mlp/numpy/cpu" in out and "DATA ERROR" not in out
    assert "1 missing or unreadable, allowed" in out


def test_different_environments_warn_and_strict_refuses(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur", fingerprint="env-b")
    code, out, _ = run_check(tmp_path, capsys, cur=cur)
    assert code == 0 and "warning: environment fingerprints differ" in out
    code, out, err = run_check(tmp_path, capsys, "--strict", cur=cur)
    assert code == 2 and out == ""
    assert "fingerprints differ" in err and "--strict" in err and len(err.splitlines()) == 1


def test_usage_and_data_errors_exit_2_with_one_line(tmp_path, capsys):
    base = write_run(tmp_path / "base")
    (tmp_path / "empty").mkdir()
    other = tmp_path / "other"
    results.write_result(other, cell("mnist_cnn", backend="jax"))
    cases = {
        "no baseline results at": [str(tmp_path / "nowhere"), str(base)],
        "hold no benchmark cells": [str(base), str(tmp_path / "empty")],
        "no (workload, backend, device) in common": [str(base), str(other)],
        "bad threshold": [str(base), str(base), "--threshold", "time=10"],
    }
    for message, args in cases.items():
        assert cli.main(["check", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(base)])
    assert exc.value.code == 2


def test_the_markdown_summary(tmp_path, capsys):
    cur = write_run(tmp_path / "cur", "cur", time_factor=1.2)
    summary = tmp_path / "out" / "summary.md"
    code, _, _ = run_check(tmp_path, capsys, "--markdown", str(summary), cur=cur)
    text = summary.read_text()
    assert code == 1
    assert text.startswith("### benchbench check :x: FAIL")
    assert "| workload | backend | device | metric |" in text
    assert "**REGRESSION**" in text and "- **regression** digits_mlp/numpy/cpu: epoch_time" in text


def test_identical_runs_pass(tmp_path, capsys):
    base = write_run(tmp_path / "base")
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=base)
    assert code == 0 and "+0.0%" in out and "warning" not in out


def test_the_help_documents_the_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    assert "epoch_time=10%" in out and "val_accuracy=1pt" in out and "first_epoch_time=off" in out
    for name, threshold in check.DEFAULT_THRESHOLDS.items():
        assert f"{name}={threshold or 'off'}" in out
    assert all(f"{n}" in check.__doc__ for n in check.DEFAULT_THRESHOLDS)


# -- noise and missing data ----------------------------------------------------------------------


def interference(noisy: bool) -> Interference:
    others = 0.45 if noisy else 0.01
    return Interference(2.0, (0,), others, others, 0.9, 0.01, 0.0, 2, 3, (1.0,), 5, noisy)


def write_flagged(directory, time_factor=1.0, accuracy=0.95, noisy=False, side="base"):
    """`write_run` with every cell's interference measured, noisy or quiet."""
    for workload in ("digits_mlp", "mnist1d_cnn"):
        for r in range(5):
            jitter = JITTER[side][r]
            base = cell(workload, repeat=r, epoch_time=0.1 * time_factor * (1 + jitter))
            epochs = [dataclasses.replace(e, val_accuracy=accuracy) for e in base.epochs]
            flagged = dataclasses.replace(base, epochs=epochs, interference=interference(noisy))
            results.write_result(directory, flagged)
    return directory


def test_a_slowdown_measured_on_a_quiet_machine_is_a_regression(tmp_path, capsys):
    base = write_flagged(tmp_path / "base")
    cur = write_flagged(tmp_path / "cur", time_factor=1.3, side="cur")
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=cur)
    assert code == 1 and "REGRESSION" in out and "noisy" not in out


@pytest.mark.parametrize("noisy_side", ["base", "cur"])
def test_a_timing_change_in_a_noisy_cell_is_unclear_not_a_regression(tmp_path, capsys, noisy_side):
    base = write_flagged(tmp_path / "base", noisy=noisy_side == "base")
    cur = write_flagged(tmp_path / "cur", time_factor=1.3, noisy=noisy_side == "cur", side="cur")
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=cur)
    assert code == 0, out
    row = next(line for line in out.splitlines() if "digits_mlp" in line and "epoch_time" in line)
    assert row.endswith("unclear (noisy)") and "+30." in row
    side = "baseline" if noisy_side == "base" else "current"
    assert f"not judged, noisy: {side}: 5 of 5 repeats noisy (others used 45% of its 1 CPU" in out
    assert "4 unclear (4 noisy)" in out  # epoch time and throughput of both workloads
    assert out.rstrip().splitlines()[-1].startswith("PASS: no regression")


def test_noise_does_not_excuse_an_accuracy_drop(tmp_path, capsys):
    base = write_flagged(tmp_path / "base")
    cur = write_flagged(tmp_path / "cur", accuracy=0.90, noisy=True, side="cur")
    found = check.compare(results.load_results([base]), results.load_results([cur]))
    by_metric = {(c.key[0], c.metric): c for c in found.comparisons}
    assert by_metric[("digits_mlp", "val_accuracy")].verdict == "regression"
    assert found.exit_code == 1


def test_an_unreadable_current_file_is_a_data_error_not_a_pass(tmp_path, capsys):
    base = write_run(tmp_path / "base")
    cur = write_run(tmp_path / "cur", "cur")
    path = cur / f"{cell('digits_mlp', repeat=2).spec.cell_id}.json"
    path.write_text(path.read_text()[:200])  # truncated, as by a full disk
    code, out, err = run_check(tmp_path, capsys, base=base, cur=cur)
    assert code == 2
    assert f"unreadable result file, current: skipping {path}" in err
    assert "DATA ERROR: unreadable result file, current: skipping" in out
    assert out.rstrip().splitlines()[-1].startswith("DATA ERROR: 1 unreadable result file")
    code, out, _ = run_check(tmp_path, capsys, "--allow-missing", base=base, cur=cur)
    assert code == 0 and "1 missing or unreadable, allowed" in out


def test_a_cell_that_no_longer_runs_is_missing_data(tmp_path, capsys):
    base = write_run(tmp_path / "base")
    cur = write_run(tmp_path / "cur", "cur")
    for r in range(5):
        results.write_result(cur, cell("digits_mlp", repeat=r, status="skipped"))
    code, out, _ = run_check(tmp_path, capsys, base=base, cur=cur)
    assert code == 2 and "DATA ERROR: not run in current: digits_mlp/numpy/cpu (5 skipped" in out
