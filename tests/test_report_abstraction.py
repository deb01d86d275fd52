"""The cost-of-the-abstraction tables and the efficiency figures, from the checked-in fixtures.

Their Markdown is also part of the workload goldens (test_report_tables); these tests name the
values and flags the tables must carry.
"""

from __future__ import annotations

import dataclasses

import pytest

from benchbench.report import abstraction, build_report, data, efficiency, markdown, sections
from benchbench.report.tables import DETAILS, metric_table
from benchbench.results import write_result
from tests.report_fixtures import MNIST_MLP, RESULTS_DIR, make_result

A, B, GPU = "cpu · host-a", "cpu · host-b", "gpu · host-b (H200)"
#: mnist1d_cnn ran with two settings on host-a: a column each
QUICK = "cpu · host-a · quick profile, synthetic data"
NATIVE, KERAS3 = "adapter / native", "adapter / keras3"
THROUGHPUT = next(s for s in DETAILS if s.name == "throughput")


@pytest.fixture(scope="module")
def loaded():
    return data.load([RESULTS_DIR])


def _by_column(loaded, workload):
    return {
        t.title.removeprefix("Cost of the abstraction · "): t
        for t in abstraction.abstraction_tables(loaded, workload)
    }


def test_one_table_per_column_with_a_lane(loaded):
    assert list(_by_column(loaded, "mnist_mlp")) == [A, GPU]  # host-b's CPU ran no lane
    assert list(_by_column(loaded, "mnist1d_cnn")) == [QUICK]  # lanes ran in the quick run


def test_rows_are_adapters_with_lanes_and_columns_rates_and_ratios(loaded):
    table = _by_column(loaded, "mnist_mlp")[A]
    assert list(table.frame.index) == ["tensorflow", "theano", "torch", "jax"]
    assert list(table.frame.columns) == [
        "adapter (samples/s)",
        "native lane (samples/s)",
        NATIVE,
        "keras3 lane (samples/s)",
        KERAS3,
    ]
    assert table.row_header == "adapter" and table.labels["theano"] == "theano (pytensor)"
    tf = [cell.text for cell in table.frame.loc["tensorflow"]]
    assert tf == ["12,766", "12,245", "1.04x", "13,043", "0.98x ✗"]


def test_misses_are_flagged_and_listed(loaded):
    frame = _by_column(loaded, "mnist_mlp")[A].frame
    assert frame.at["torch", NATIVE].text == "0.55x ✗"
    assert "below-target" in frame.at["torch", NATIVE].flags
    assert frame.at["torch", KERAS3].text == "1.04x" and not frame.at["torch", KERAS3].flags
    assert frame.at["tensorflow", NATIVE].flags == ()
    # 0.949 would round to the target: it gets a third decimal
    assert frame.at["jax", NATIVE].text == "0.949x ✗"
    notes = _by_column(loaded, "mnist_mlp")[A].footnotes
    assert notes[:3] == (
        "✗ tensorflow on cpu · host-a: 0.98x its keras3:tensorflow lane, below the target of "
        "1.00x.",
        "✗ torch on cpu · host-a: 0.55x its native:torch lane, below the target of 0.95x.",
        "✗ jax on cpu · host-a: 0.949x its native:jax lane, below the target of 0.95x.",
    )


def test_missing_lanes_show_a_dash_or_their_status(loaded):
    table = _by_column(loaded, "mnist_mlp")[A]
    frame = table.frame
    assert frame.at["tensorflow", "keras3 lane (samples/s)"].kind == "value"
    native = frame.at["theano", "native lane (samples/s)"]
    assert native.text == "unavailable"
    assert native.detail.startswith("unavailable: backends.theano.native is not written yet")
    assert frame.at["theano", NATIVE].text == "—"
    assert frame.at["theano", "keras3 lane (samples/s)"].text == "—"
    assert frame.at["jax", "keras3 lane (samples/s)"].kind == "unavailable"
    # the reason is said once for the workload, not in every table
    assert not any("Keras 3 is not installed" in n for n in table.footnotes)
    report = sections.build(loaded, generated="(fixed)")
    assert any(
        n.startswith("unavailable: Keras 3 is not installed")
        and "(keras3:jax on cpu · host-a)" in n
        for n in report.workload_notes["mnist_mlp"]
    )


def test_targets_apply_only_on_cpu_for_the_keras_examples(loaded):
    mlp = _by_column(loaded, "mnist_mlp")
    gpu = mlp[GPU].frame.at["torch", NATIVE]
    assert (gpu.text, gpu.flags) == ("0.94x", ())
    assert "do not apply" in mlp[GPU].caption and "✗ marks a miss" in mlp[A].caption
    small = _by_column(loaded, "mnist1d_cnn")[QUICK].frame
    assert (small.at["tensorflow", KERAS3].text, small.at["tensorflow", KERAS3].flags) == (
        "0.71x",
        (),
    )
    assert small.at["torch", NATIVE].text == "1.43x"


def test_cost_tables_follow_accuracy_in_the_report(loaded):
    report = sections.build(loaded, generated="(fixed)")
    names = [t.name for t in report.tables["mnist_mlp"]]
    assert names[:4] == ["speed", "accuracy", "abstraction", "abstraction"]
    text = markdown.table(report.tables["mnist_mlp"][2])
    assert "| adapter | adapter (samples/s) |" in text
    assert "| jax | 19,355 | 20,394 | 0.949x ✗ |" in text


def test_throughput_shows_gflops_and_share_of_the_matmul_peak(loaded):
    table = efficiency.annotate(loaded, "mnist_mlp", metric_table(loaded, "mnist_mlp", THROUGHPUT))
    frame = table.frame
    # 60,000 / 4.70 s x 3,211,284 FLOP = 41.0 GFLOP/s; host-a's peak is 95.0
    assert frame.at["tensorflow", A].text == "12,766 · 41.0 GFLOP/s (43%)"
    assert frame.at["tensorflow", B].text == "10,000 · 32.1 GFLOP/s (2.2%)"
    assert frame.at["torch", GPU].text == "46,514 · 149 GFLOP/s"  # no CPU peak for a GPU
    assert frame.at["numpy", A].text == "timeout"
    assert "3.21 MFLOP per sample" in table.caption
    assert "host-a 95.0 GFLOP/s, host-b 1,450 GFLOP/s" in table.caption


def test_results_without_flops_keep_the_plain_throughput_table(tmp_path):
    info = {k: v for k, v in MNIST_MLP.items() if k != "flops_per_sample"}
    write_result(tmp_path, make_result("torch", info))
    loaded = data.load([tmp_path])
    plain = metric_table(loaded, "mnist_mlp", THROUGHPUT)
    assert efficiency.annotate(loaded, "mnist_mlp", plain) is plain
    assert abstraction.abstraction_tables(loaded, "mnist_mlp") == []


def test_html_and_csv_carry_the_new_figures(tmp_path):
    page = build_report([RESULTS_DIR], tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count('<table class="results abstraction">') == 3
    assert '<th scope="col">adapter</th>' in page
    assert 'class="k-value f-below-target"' in page and "td.f-below-target" in page
    csv = build_report([RESULTS_DIR], tmp_path / "r.csv", "csv").read_text(encoding="utf-8")
    header = csv.splitlines()[0].split(",")
    assert {"flops_per_sample", "gemm_gflops", "gflops", "peak_share"} <= set(header)
    assert ",3211284," in csv


def test_jit_lanes_get_columns_where_they_ran_and_deviations_are_marked(tmp_path):
    rule = "Keras 3's rmsprop adds epsilon inside the square root"
    lane = make_result("keras3:torch", MNIST_MLP, epoch_time=1.25)
    lane = dataclasses.replace(lane, backend_info={**lane.backend_info, "deviations": [rule]})
    for result in (
        make_result("torch", MNIST_MLP, epoch_time=1.0),
        lane,
        make_result("keras3-jit:torch", MNIST_MLP, epoch_time=0.5),
    ):
        write_result(tmp_path, result)
    [table] = abstraction.abstraction_tables(data.load([tmp_path]), "mnist_mlp")
    jit = ["keras3-jit lane (samples/s)", "adapter / keras3-jit"]
    assert list(table.frame.columns)[-2:] == jit
    row = table.frame.loc["torch"]
    assert row[KERAS3].text == "1.25x"
    # no target for the jit lane: 0.50x is shown, not flagged
    assert (row["adapter / keras3-jit"].text, row["adapter / keras3-jit"].flags) == ("0.50x", ())
    assert row["keras3 lane (samples/s)"].text.endswith(" §")
    assert f"§ keras3:torch: {rule}." in table.footnotes
    assert "jit_compile=True" in table.caption
