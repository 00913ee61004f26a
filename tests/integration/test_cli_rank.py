"""`dflbench rank`, the verdict that ends `show`, the latex and csv exports, and `compare`'s line
across datasets, end to end through the CLI on crafted result files (no training)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from tests.conftest import assert_one_line_error
from tests.unit.test_ranking import TREATMENTS, grid, matrix


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def eight(tmp_path: Path) -> Path:
    """Eight datasets, five losses, one seed each (as in the default suite's shape)."""
    return write(tmp_path / "eight.json", grid(matrix(n=8, seed=11)))


def test_rank_json_follows_the_contract_and_equals_scipy(cli, eight: Path):
    res = cli("rank", str(eight), "--format", "json", "-m", "macro_f1")
    assert res.code == 0, res.err
    out = res.json()
    m = out["metrics"]["macro_f1"]
    values = matrix(n=8, seed=11)
    assert m["n_datasets"] == 8 and m["treatments"] == list(TREATMENTS)
    expected = sps.rankdata(-values, axis=1).mean(axis=0)
    assert [m["average_ranks"][t] for t in TREATMENTS] == pytest.approx(expected.tolist())
    fr = sps.friedmanchisquare(*values.T)
    assert m["friedman"] == {"statistic": pytest.approx(fr.statistic), "p_value": pytest.approx(fr.pvalue)}
    assert len(m["pairwise"]) == 10 and out["alpha"] == 0.05 and out["rope"] == 0.01
    assert m["verdict"].startswith("MacroF1 (higher is better) over 8 datasets, 5 losses")


def test_rank_table_shows_tests_pairs_diagram_and_verdict(cli, eight: Path):
    res = cli("rank", str(eight), "-m", "macro_f1", "-m", "ece", "--baseline", "ce")
    assert res.code == 0, res.err
    for needle in ("MacroF1 (higher is better): 8 datasets ranked × 5 losses", "average rank",
                   "Friedman χ² =", "Iman–Davenport F =", "Nemenyi critical difference",
                   "P(equivalent)", "Critical-difference diagram", "Verdict",
                   "ECE (lower is better)", "pairs: each against ce"):
        assert needle in res.out, needle
    pair_rows = [line for line in res.out.splitlines() if re.match(r"│ \w+ +│ \w+ +│ +\d+/\d+/\d+", line)]
    assert len(pair_rows) == 8 and all(re.match(r"│ \w+ +│ ce +│", r) for r in pair_rows)  # B = ce
    md = cli("rank", str(eight), "--format", "markdown", "-m", "macro_f1")
    assert md.code == 0 and "## MacroF1" in md.out and "```text" in md.out and "**Verdict**" in md.out


def test_rank_merges_files_and_refuses_a_dataset_twice(cli, tmp_path: Path):
    a = write(tmp_path / "a.json", grid(matrix(n=3), prefix="a"))
    b = write(tmp_path / "b.json", grid(matrix(n=3, seed=2), prefix="b"))
    res = cli("rank", str(a), str(b), "--format", "json", "-m", "gmean")
    assert res.code == 0 and res.json()["metrics"]["gmean"]["n_datasets"] == 6
    assert_one_line_error(cli("rank", str(a), str(a)), "dataset 'a0' is in both")


@pytest.mark.parametrize(("args", "needle"), [
    (["--metric", "macro_f"], "did you mean 'macro_f1'"),
    (["--alpha", "0"], "--alpha: 0.0 is not between 0 and 1"),
    (["--rope", "-1"], "--rope: -1.0 is invalid"),
    (["--baseline", "focall"], "unknown treatment 'focall'; did you mean 'focal'?"),
    (["--format", "xml"], "--format"),
])
def test_rank_bad_input_is_one_line_exit_2(cli, eight: Path, args: list[str], needle: str):
    assert_one_line_error(cli("rank", str(eight), *args), needle)


def test_rank_needs_two_datasets_and_readable_files(cli, tmp_path: Path):
    one = write(tmp_path / "one.json", grid(matrix(n=1)))
    assert_one_line_error(cli("rank", str(one)), "at least two datasets", "hold one (d0)")
    assert_one_line_error(cli("rank", str(tmp_path / "missing.json")), "no such result file")


def test_latex_is_balanced_booktabs_with_bold_best_and_an_average_rank_row(cli, eight: Path):
    res = cli("rank", str(eight), "--format", "latex", "-m", "macro_f1")
    assert res.code == 0, res.err
    tex = res.out
    for env in ("table", "tabular"):
        assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}") == 2
    assert tex.count(r"\toprule") == tex.count(r"\midrule") - 1 == tex.count(r"\bottomrule") == 2
    assert tex.count("{") == tex.count("}")
    rows = [line.strip() for line in tex.splitlines() if line.strip().endswith(r"\\")]
    means = [r for r in rows if re.match(r"d\d+ &", r)]
    assert len(means) == 8 and all(r.count("&") == 5 for r in means)
    values = matrix(n=8, seed=11)
    for i, row in enumerate(means):  # the bold cell is the dataset's best mean
        best = int(np.argmax(values[i]))
        cells = row.rstrip("\\ ").split(" & ")[1:]
        assert all((r"\textbf" in c) == (values[i, j] == values[i, best]) for j, c in enumerate(cells))
    average = next(r for r in rows if r.startswith("Average rank"))
    assert average.count(r"\textbf") >= 1 and r"weighted\_ce" in tex
    assert "% MacroF1 (higher is better) over 8 datasets" in tex


def test_csv_is_tidy_and_parses(cli, eight: Path):
    res = cli("rank", str(eight), "--format", "csv", "-m", "macro_f1", "-m", "ece")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(io.StringIO(res.out)))
    assert list(rows[0]) == ["dataset", "treatment", "metric", "mean", "std", "n", "rank"]
    assert len(rows) == 8 * 5 * 2
    values = matrix(n=8, seed=11)
    d3 = {r["treatment"]: r for r in rows if r["dataset"] == "d3" and r["metric"] == "macro_f1"}
    assert [float(d3[t]["mean"]) for t in TREATMENTS] == values[3].tolist()
    assert [float(d3[t]["rank"]) for t in TREATMENTS] == sps.rankdata(-values[3]).tolist()
    assert {r["n"] for r in rows} == {"1"} and {r["std"] for r in rows} == {""}  # one run: no spread


def test_show_ends_with_the_verdict_when_there_are_two_datasets(cli, eight: Path, tmp_path: Path):
    res = cli("show", str(eight))
    assert res.code == 0, res.err
    tail = res.out[res.out.index("Verdict across datasets"):]
    assert "Average rank, 8 datasets" in tail and "Friedman p =" in tail
    assert "no Wilcoxon p can fall below" in tail  # what 8 datasets cannot tell, said once
    md = cli("show", str(eight), "--format", "markdown")
    assert "## Verdict across datasets" in md.out and md.out.rstrip().endswith("_")
    one = write(tmp_path / "one.json", grid(matrix(n=1)))
    single = cli("show", str(one))
    assert single.code == 0
    assert "holds one dataset (d0): ranks and tests across datasets need at least two" in single.out
    assert "Friedman" not in single.out


def test_show_latex_and_csv(cli, eight: Path):
    tex = cli("show", str(eight), "--format", "latex")
    assert tex.code == 0 and tex.out.count(r"\begin{table}") == 3  # the suite's three metrics
    assert re.search(r"^% MacroF1 \(higher is better\) over 8 datasets", tex.out, flags=re.M)
    rows = list(csv.DictReader(io.StringIO(cli("show", str(eight), "--format", "csv").out)))
    assert {r["metric"] for r in rows} == {"macro_f1", "balanced_accuracy", "ece"}


def test_compare_refuses_latex_and_csv_in_one_line(cli, eight: Path):
    for fmt in ("latex", "csv"):
        assert_one_line_error(cli("compare", str(eight), str(eight), "--format", fmt),
                              f"--format {fmt} does not apply to compare (valid: json, markdown, table)")


def test_compare_adds_a_line_across_datasets(cli, tmp_path: Path):
    values = matrix(n=8, seed=11)
    base = write(tmp_path / "base.json", grid(values))
    drops = np.linspace(0.01, 0.03, 8)[:, None]
    drops[0] = -0.05  # better on one dataset, worse on seven
    worse = values - drops
    cand = write(tmp_path / "cand.json", grid(worse))
    res = cli("compare", str(base), str(cand))
    assert res.code == 0, res.err
    # Each dataset's value is the mean over its five losses, as compare computes it.
    mean = [math.fsum(row) / 5 for row in worse], [math.fsum(row) / 5 for row in values]
    expected = sps.wilcoxon(*mean).pvalue
    assert (f"cand: MacroF1 across 8 datasets (each the mean of its aligned losses): worse on 7, "
            f"better on 1, same on 0; Wilcoxon signed-rank p = {expected:.3f}") in res.out
    js = cli("compare", str(base), str(cand), "--format", "json").json()
    across = js["across_datasets"][0]
    assert (across["worse"], across["better"], across["n_datasets"]) == (7, 1, 8)
    assert across["p_value"] == pytest.approx(expected)
