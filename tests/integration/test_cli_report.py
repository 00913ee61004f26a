"""`dflbench report` and `run --html`: one self-contained HTML page per run or per set of files,
written atomically, its path checked before any training."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import assert_one_line_error, write_suite
from tests.unit.test_html_report import Page


def _section(text: str, anchor: str) -> str:
    start = text.index(f'<section id="{anchor}"')
    return text[start:text.index("</section>", start)]


def test_run_writes_the_report_with_the_charts_its_result_holds(cli, tmp_path: Path):
    """Early stopping carves a validation set: the report adds its curves; the result holds every
    run's confusion matrix, calibration bins and history."""
    suite = write_suite(tmp_path / "es.yaml", train={
        "epochs": 4, "batch_size": 32, "lr": 0.01, "early_stopping": {"patience": 2}})
    out, html = tmp_path / "r.json", tmp_path / "pages" / "r.html"
    res = cli("run", "--suite", str(suite), "--out", str(out), "--html", str(html), "--no-cache")
    assert res.code == 0, res.err
    assert f"wrote {html}" in res.err
    data = json.loads(out.read_text())
    for run in data["runs"]:
        n = len(run["per_class"])
        assert len(run["confusion"]) == n and sum(map(sum, run["confusion"])) == sum(
            c["support"] for c in run["per_class"])
        assert sum(run["calibration"]["count"]) == sum(c["support"] for c in run["per_class"])
        history = run["train"]["history"]
        assert len(history["loss"]) == len(history["validation"]) == run["train"]["epochs_run"]
        assert history["monitor"] == "macro_f1"
    page = html.read_text()
    Page(page)
    for name in ("iris", "syn"):
        section = _section(page, f"ds-{name}")
        # bars ×2; confusion, reliability, loss and validation per loss (3); γ of the learnable.
        assert section.count("<svg") == 2 + 4 * 3 + 1
        assert "Validation macro-F1 per epoch" in section
    assert not list(html.parent.glob(".*.tmp"))  # written atomically: no temporary file left
    # The saved result renders the same page, byte for byte.
    again = tmp_path / "again.html"
    assert cli("report", str(out), "--html", str(again)).code == 0
    assert again.read_bytes() == html.read_bytes()


def test_report_joins_files_with_distinct_datasets(cli, tiny_suite: Path, tmp_path: Path):
    a, b, html = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "both.html"
    for path, dataset in ((a, "iris"), (b, "syn")):
        assert cli("run", "--suite", str(tiny_suite), "--datasets", dataset, "--out", str(path),
                   "-q", "--epochs", "2").code == 0
    res = cli("report", str(a), str(b), "--html", str(html))
    assert res.code == 0, res.err
    assert res.err.startswith(f"wrote {html} (") and res.out == ""
    page = html.read_text()
    overview = _section(page, "overview")
    assert "a.json" in overview and "b.json" in overview
    assert "needs at least two datasets" not in _section(page, "cross-dataset")
    assert '<section id="ds-iris"' in page and '<section id="ds-syn"' in page
    # One file alone: the cross-dataset part says it needs two.
    assert cli("report", str(a), "--html", str(html)).code == 0
    assert "needs at least two datasets" in _section(html.read_text(), "cross-dataset")
    assert_one_line_error(cli("report", str(a), str(a), "--html", str(html)),
                          "dataset 'iris' is also in")
    assert_one_line_error(cli("report", str(tmp_path / "none.json"), "--html", str(html)),
                          "no such result file")
    assert_one_line_error(cli("report", str(a), "--html", str(tmp_path)), "is a folder")
    assert_one_line_error(cli("compare", str(a), str(a), "--format", "html"),
                          "--format html does not apply to compare", "valid: json, markdown, table")


def test_an_unwritable_report_path_is_refused_before_any_training(cli, tiny_suite: Path,
                                                                  tmp_path: Path):
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(tiny_suite), "--out", str(out), "--html", str(tmp_path))
    assert_one_line_error(res, "--html:", "is a folder")
    assert_one_line_error(cli("run", "--suite", str(tiny_suite), "--out", str(out), "--html",
                              str(out)), "--html:", "is the --out path")
    assert not out.exists()  # refused before training: nothing was written
