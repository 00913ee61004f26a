"""`dflbench compare` end to end through the CLI, on crafted result files (and one tiny real run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_one_line_error
from tests.unit.test_compare import assert_valid_gfm, craft


def write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(json.dumps(data))
    return str(path)




@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "base": write(tmp_path / "base.json", craft()),
        "same": write(tmp_path / "same.json", craft()),
        "lower": write(tmp_path / "lower.json", craft(shift={("wine", "focal"): -0.05})),
        "higher": write(tmp_path / "higher.json", craft(level=0.9)),
    }


def test_identical_files_exit_0(cli, files):
    res = cli("compare", files["base"], files["same"], "--max-drop", "0.02")
    assert res.code == 0, res.err
    assert res.err == ""
    assert "no regression" in res.out and "wine" in res.out and "yeast4" in res.out
    assert "\x1b[" not in res.out  # NO_COLOR (set by the fixture) is honoured


def test_lowered_pair_exits_1_naming_it(cli, files):
    res = cli("compare", files["base"], files["lower"], "--max-drop", "0.02")
    assert res.code == 1
    lines = res.err.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in res.err
    assert lines[0].startswith("dflbench: regression: ")
    for needle in (files["lower"], "wine / focal / macro_f1", "baseline 0.8000", "candidate 0.7500",
                   "delta -0.0500", "allowed drop 0.0200", "p="):
        assert needle in lines[0], lines[0]
    assert lines[1] == "dflbench: 1 regression beyond --max-drop 0.02 on macro_f1"
    assert "REGRESSION" in res.out


def test_drop_within_a_relative_allowance_passes(cli, tmp_path, files):
    lower = write(tmp_path / "l.json", craft(shift={("wine", "focal"): -0.01}))
    assert cli("compare", files["base"], lower, "--max-drop", "2%").code == 0  # 0.01 < 0.016
    assert cli("compare", files["base"], lower, "--max-drop", "1%").code == 1  # 0.01 > 0.008


def test_higher_scores_exit_0(cli, files):
    res = cli("compare", files["base"], files["higher"], "--max-drop", "0")
    assert res.code == 0 and "6 better, 0 worse, 0 same, 0 regressions" in res.out


def test_without_max_drop_there_is_no_gate(cli, files):
    res = cli("compare", files["base"], files["lower"])
    assert res.code == 0 and res.err == ""
    assert "report only" in res.out


def test_gate_on_another_metric(cli, files):
    res = cli("compare", files["base"], files["lower"], "--metric", "ece", "--metric", "gmean",
              "--max-drop", "0.02")
    assert res.code == 1
    assert "wine / focal / ece" in res.err and "wine / focal / gmean" in res.err
    assert "allowed rise 0.0200 (lower is better)" in res.err


def test_baseline_option_with_a_glob_that_includes_it(cli, files):
    everything = [files["same"], files["higher"], files["base"], files["lower"]]
    res = cli("compare", *everything, "--baseline", files["base"], "--max-drop", "0.02",
              "--format", "json")
    assert res.code == 1
    data = res.json()
    assert data["baseline"]["path"] == files["base"]
    assert [c["path"] for c in data["candidates"]] == [files["same"], files["higher"], files["lower"]]
    assert [(r["file"], r["dataset"], r["treatment"]) for r in data["regressions"]] == [
        (files["lower"], "wine", "focal")]


def test_json_output_is_only_json(cli, files):
    res = cli("compare", files["base"], files["lower"], "--format", "json", "--max-drop", "0.02",
              "--per-class")
    assert res.code == 1
    data = json.loads(res.out)
    assert data["kind"] == "dflbench-compare" and data["verdict"] == "regression"
    pair = next(p for p in data["pairs"] if p["dataset"] == "wine" and p["treatment"] == "focal")
    m = pair["metrics"][0]
    assert m["metric"] == "macro_f1" and m["delta"] == pytest.approx(-0.05)
    assert m["regression"] is True and m["allowance"] == 0.02
    assert {"mean", "std", "n", "seeds"} <= set(m["baseline"])
    assert "p_value" in m and "beyond_noise" in m and "test" in m
    assert [c["label"] for c in pair["per_class"]] == ["0", "1", "2"]
    assert "dflbench: regression:" in res.err


def test_markdown_output_is_valid_gfm(cli, files):
    res = cli("compare", files["base"], files["lower"], "--format", "markdown", "--max-drop", "0.02",
              "--per-class")
    assert res.code == 1
    assert res.out.startswith("## dflbench compare")
    # files, movers, and per dataset (2) a summary and a per-class table
    assert assert_valid_gfm(res.out) == 6
    assert "**🔴 REGRESSION**" in res.out and "<details>" in res.out


def test_misaligned_files_compare_what_aligns_and_strict_refuses(cli, tmp_path, files):
    other = write(tmp_path / "other.json", craft(
        datasets={"wine": ["0", "1", "2"], "iris": ["a", "b", "c"]}, treatments=("ce", "ldam"),
        suite="other"))
    res = cli("compare", files["base"], other, "--max-drop", "0.02")
    assert res.code == 0, res.err
    assert "Did not align" in res.out
    for needle in ("wine / focal: only in the baseline", "wine / ldam: only in", "iris: only in",
                   "yeast4: only in the baseline"):
        assert needle in res.out
    assert_one_line_error(cli("compare", files["base"], other, "--strict"), "--strict:", "did not align")
    assert cli("compare", files["base"], files["same"], "--strict").code == 0


def test_several_candidates(cli, files):
    res = cli("compare", files["base"], files["same"], files["higher"], files["lower"],
              "--max-drop", "0.02")
    assert res.code == 1
    assert res.err.count("dflbench: regression:") == 1 and files["lower"] in res.err
    assert "verdict higher" in res.out and "Δ lower" in res.out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"schema_version": 1, "runs": [', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"hello": "world"}', "not a dflbench result file"),
        ("[1, 2]", "not a dflbench result file"),
        ('{"schema_version": 99}', "upgrade dflbench"),
        ('{"schema_version": 1, "runs": []}', "missing"),
    ],
)
@pytest.mark.parametrize("position", ["baseline", "candidate"])
def test_bad_files_exit_2_with_one_line(cli, files, tmp_path, content, needle, position):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    args = [str(bad), files["base"]] if position == "baseline" else [files["base"], str(bad)]
    assert_one_line_error(cli("compare", *args, "--max-drop", "0.02"), needle, "bad.json")


def test_truncated_real_looking_file(cli, files, tmp_path):
    text = Path(files["base"]).read_text()
    cut = write(tmp_path / "cut.json", {})
    Path(cut).write_text(text[: len(text) // 2])
    assert_one_line_error(cli("compare", files["base"], cut), "not valid JSON", "truncated")


def test_missing_file(cli, files, tmp_path):
    assert_one_line_error(cli("compare", files["base"], str(tmp_path / "nope.json")), "no such result file")


V1_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "v1-smoke-0.1.0.json"


def test_a_v1_file_of_the_previous_release_compares_with_a_v2_file(cli, tmp_path):
    """A result written by dflbench 0.1.0 (schema 1) migrates on read and aligns with a v2 file."""
    from dflbench.results import load_result, write_result

    v2 = write_result(load_result(V1_FILE), tmp_path / "v2.json")
    assert json.loads(v2.read_text())["schema_version"] == 2
    res = cli("compare", str(V1_FILE), str(v2), "--max-drop", "0", "--format", "json")
    assert res.code == 0, res.err
    data = res.json()
    assert data["verdict"] == "ok" and not data["unaligned"]
    assert {(p["dataset"], p["treatment"]) for p in data["pairs"]} == {
        (d, t) for d in ("wine", "iris") for t in ("ce", "dual_focal_learnable")}
    assert all(m["direction"] == "same" for p in data["pairs"] for m in p["metrics"])


def test_a_v1_file_of_the_previous_release_shows(cli):
    res = cli("show", str(V1_FILE), "--format", "markdown")
    assert res.code == 0, res.err
    assert "## wine" in res.out and "## iris" in res.out and "learned gamma" in res.out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--max-drop", "abc"], "--max-drop: 'abc' is not a number or a percentage such as 2%"),
        (["--max-drop", "-0.1"], "negative"),
        (["--metric", "macro_f"], "did you mean 'macro_f1'"),
        (["--metric", "accuracy", "--metric", "eec"], "did you mean 'ece'"),
        (["--format", "xml"], "'xml'"),
        (["--alpha", "2"], "--alpha"),
    ],
)
def test_bad_options(cli, files, args, needle):
    assert_one_line_error(cli("compare", files["base"], files["same"], *args), needle)


def test_needs_two_files(cli, files):
    assert_one_line_error(cli("compare", files["base"]), "at least two result files")
    assert_one_line_error(cli("compare", files["base"], "--baseline", files["base"]), "besides the baseline")
    assert_one_line_error(cli("compare"), "Missing argument 'FILE'")


def test_help_documents_the_gate(cli):
    res = cli("compare", "--help")
    assert res.code == 0
    for needle in ("--max-drop", "--metric", "--baseline", "--per-class", "--strict", "2%"):
        assert needle in res.out


def test_a_real_run_compared_with_itself(cli, tiny_suite: Path, tmp_path: Path):
    """The one real (tiny) run: compare reads what run writes."""
    out = tmp_path / "r.json"
    ran = cli("run", "--suite", str(tiny_suite), "--out", str(out), "-q", "--datasets", "iris",
              "--losses", "ce,focal", "--seeds", "2", "--epochs", "1")
    assert ran.code == 0, ran.err
    res = cli("compare", str(out), str(out), "--max-drop", "0", "--per-class", "--format", "json")
    assert res.code == 0, res.err
    data = res.json()
    assert data["verdict"] == "ok" and not data["unaligned"]
    assert {p["treatment"] for p in data["pairs"]} == {"ce", "focal"}
    assert all(m["direction"] == "same" for p in data["pairs"] for m in p["metrics"])
    table = cli("compare", str(out), str(out), "--per-class")
    assert table.code == 0 and "per-class recall / F1" in table.out
