"""HTML, Markdown and CSV outputs, the ``report`` command, and escaping of hostile strings."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from benchbench import cli
from benchbench.errors import BenchbenchError
from benchbench.report import build_report
from benchbench.results import write_result
from tests.report_fixtures import RESULTS_DIR, hostile_results

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    out = build_report([RESULTS_DIR], tmp_path_factory.mktemp("html") / "report.html")
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    for result in hostile_results():
        write_result(root / "machine" / "run", result)
    return root


def test_html_is_self_contained(page):
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert attribute.startswith(("data:image/png;base64,", "#")), attribute
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_html_embeds_every_plot_as_png(page):
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    # mnist1d_cnn and mnist_mlp: speed, accuracy (the real-data column) and relative each
    assert len(images) == 6
    assert all(base64.b64decode(data).startswith(PNG_MAGIC) for data in images)
    assert all(alt for alt in re.findall(r'<img [^>]*alt="([^"]+)"', page))


def test_html_has_the_tables_and_sections(page):
    assert page.count('<table class="results speed">') == 2
    assert page.count('<table class="results accuracy">') == 2
    assert "<strong>3.10 ± 0.10</strong>" in page
    assert 'class="k-value f-out-of-band f-unstable"' in page
    assert 'class="k-value f-noisy"' in page
    assert 'class="k-unavailable"' in page and 'class="k-timeout"' in page
    assert "At a glance" in page and 'id="environment"' in page and 'id="method"' in page
    assert "theano (pytensor)" in page and "runs on pytensor" in page
    assert '<tr class=ref><th scope="row">native:torch<span class="tag">ref</span>' in page


def test_hostile_strings_are_text_in_html(hostile_dir, tmp_path):
    page = build_report([hostile_dir], tmp_path / "h.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "evil&quot;&lt;b&gt;$x$&lt;/b&gt;" in page


def test_hostile_strings_are_text_in_markdown(hostile_dir, tmp_path):
    text = build_report([hostile_dir], tmp_path / "h.md", "md").read_text(encoding="utf-8")
    assert "<script>" not in text and "\\<script\\>alert(1)\\</script\\>" in text
    assert "\\*\\*bold\\*\\*" in text and "\\$x\\$" in text
    for line in text.splitlines():
        if line.startswith("| jax | failed"):
            assert line.count(" | ") == 1, "an escaped | must not split a cell"


def test_markdown_is_github_tables_with_bold_best(tmp_path):
    text = build_report([RESULTS_DIR], tmp_path / "r.md", "md").read_text(encoding="utf-8")
    assert text.startswith("# benchbench report\n")
    assert "| backend | cpu · host-a | cpu · host-b | gpu · host-b (H200) |" in text
    assert "| jax | **3.10 ± 0.10** | — | 1.51 ± 0.01 (1.2x) |" in text
    assert "data:image" not in text


def test_csv_is_one_tidy_row_per_cell(tmp_path):
    out = build_report([RESULTS_DIR], tmp_path / "r.csv", "csv")
    frame = pd.read_csv(out)
    assert len(frame) == 52  # 53 files, one superseded
    assert {"machine", "backend", "status", "reason", "epoch_time", "val_accuracy"} <= set(
        frame.columns
    )
    jax = frame[(frame["backend"] == "jax") & (frame["machine"] == "host-a")]
    assert sorted(jax["epoch_time"].dropna()) == [0.07, 0.35, 3.05, 3.1, 3.2]
    assert {"setting", "noisy", "unstable", "others_cpu", "seed"} <= set(frame.columns)


def test_output_directory_gets_report_file(tmp_path):
    assert build_report([RESULTS_DIR], tmp_path, "md") == tmp_path / "report.md"
    new = tmp_path / "reports"
    assert build_report([RESULTS_DIR], new, "csv") == new / "report.csv"


def test_unknown_format_is_a_user_error(tmp_path):
    with pytest.raises(BenchbenchError, match="expected one of: html, md, csv"):
        build_report([RESULTS_DIR], tmp_path / "r.pdf", "pdf")


def test_report_command(tmp_path, capsys):
    out = tmp_path / "summary.md"
    assert cli.main(["report", str(RESULTS_DIR), "-o", str(out), "--baseline", "jax"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert "divided by jax's" in out.read_text(encoding="utf-8")


def test_report_command_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "none"), "-o", str(tmp_path / "r.md")]) == 2
    assert cli.main(["report", str(RESULTS_DIR), "-o", str(tmp_path / "r.md"), "--baseline", "x"])
    err = capsys.readouterr().err
    assert "error: no results at" in err and "unknown baseline backend" in err
    assert "Traceback" not in err
