"""dflbench.compare: alignment, deltas, tests over seeds and the regression verdict, on crafted
results (no training)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from dflbench.compare import (
    Allowance,
    check_metrics,
    compare_results,
    parse_allowance,
    require_aligned,
)
from dflbench.errors import ConfigError, ResultFileError
from dflbench.results import SCHEMA_VERSION, SuiteResult, parse_result

#: Per-seed offsets: seeds scatter around the mean the way real runs do.
NOISE = {0: 0.0, 1: 0.01, 2: -0.01, 3: 0.004, 4: -0.004}
METRIC_NAMES = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "gmean", "mcc", "ece",
                "minority_recall")


def craft(
    datasets: dict[str, list[str]] | None = None,
    treatments: tuple[str, ...] = ("ce", "focal", "dual_focal"),
    seeds: tuple[int, ...] = (0, 1, 2),
    level: float = 0.8,
    shift: dict[tuple[str, str], float] | None = None,
    suite: str = "crafted",
    status: dict[tuple[str, str, int], str] | None = None,
) -> dict[str, Any]:
    """A valid result dict: every metric of (dataset, treatment, seed) is ``level`` + the pair's
    ``shift`` + the seed's noise (ECE is 1 − that, so "better" moves it down)."""
    datasets = datasets or {"wine": ["0", "1", "2"], "yeast4": ["negative", "positive"]}
    shift = shift or {}
    status = status or {}
    runs = []
    for dataset, classes in datasets.items():
        for t in treatments:
            for seed in seeds:
                v = level + shift.get((dataset, t), 0.0) + NOISE[seed]
                st = status.get((dataset, t, seed), "ok")
                metrics = {m: (1.0 - v if m == "ece" else v) for m in METRIC_NAMES}
                per_class = [{"label": c, "support": 10, "precision": v, "recall": v - 0.01 * i,
                              "f1": v - 0.02 * i} for i, c in enumerate(classes)]
                runs.append({
                    "dataset": dataset, "treatment": t, "loss": t, "loss_params": {}, "seed": seed,
                    "status": st, "train": {"epochs_run": 3, "seconds": 0.1},
                    "metrics": metrics if st == "ok" else {},
                    "per_class": per_class if st == "ok" else [],
                })
    infos = [{"name": d, "source": "sklearn", "description": d, "n_samples": 40 * len(c),
              "n_features": 4, "n_classes": len(c), "class_names": c,
              "class_counts": {"train": {x: 20 for x in c}, "test": {x: 10 for x in c}},
              "imbalance": None, "imbalance_ratio": 1.0, "minority_class": c[-1]}
             for d, c in datasets.items()]
    return {
        "schema_version": SCHEMA_VERSION, "dflbench_version": "0.1.0",
        "created": "2026-01-01T00:00:00Z", "complete": True,
        "suite": {"name": suite, "sha256": "0" * 64,
                  "config": {"metrics": ["macro_f1", "balanced_accuracy", "ece"]}},
        "environment": {"torch": "x", "device": "cpu"}, "datasets": infos, "runs": runs,
        "summary": [],
    }


def result(**kwargs: Any) -> SuiteResult:
    return parse_result(craft(**kwargs))


def one(comparison, dataset: str, treatment: str, metric: str = "macro_f1", file: str | None = None):
    for pair in comparison.pairs:
        if pair.dataset == dataset and pair.treatment == treatment and file in (None, pair.file):
            return next(m for m in pair.metrics if m.metric == metric)
    raise AssertionError(f"no pair {dataset}/{treatment}")


# --- --max-drop -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "relative"), [
    ("0.02", 0.02, False), ("2%", 0.02, True), (" 5 % ", 0.05, True), ("0", 0.0, False),
    ("1e-2", 0.01, False), (".5", 0.5, False), ("0.5%", 0.005, True),
])
def test_parse_allowance(text: str, value: float, relative: bool):
    a = parse_allowance(text)
    assert a.value == pytest.approx(value) and a.relative is relative


@pytest.mark.parametrize("text", ["abc", "", "%", "2%%", "nan", "inf", "0.02x", "two"])
def test_parse_allowance_rejects_non_numbers(text: str):
    with pytest.raises(ConfigError) as err:
        parse_allowance(text)
    assert str(err.value) == f"--max-drop: '{text}' is not a number or a percentage such as 2%"


@pytest.mark.parametrize("text", ["-0.01", "-2%"])
def test_parse_allowance_rejects_negative(text: str):
    with pytest.raises(ConfigError, match="negative"):
        parse_allowance(text)


def test_relative_allowance_scales_with_the_baseline_magnitude():
    assert Allowance(0.02, relative=True).amount(0.5) == pytest.approx(0.01)
    assert Allowance(0.02, relative=True).amount(-0.5) == pytest.approx(0.01)
    assert Allowance(0.02).amount(0.5) == 0.02
    assert str(Allowance(0.02, relative=True)) == "2%" and str(Allowance(0.02)) == "0.02"


def test_unknown_metric_suggests_the_nearest():
    with pytest.raises(ConfigError, match="did you mean 'macro_f1'"):
        check_metrics(["macro_f"])
    assert check_metrics(["ece", "macro_f1", "ece"]) == ["ece", "macro_f1"]


# --- verdicts -------------------------------------------------------------------------------


def test_identical_results_are_the_same_and_pass_the_gate():
    c = compare_results(result(), [("b", result())], max_drop=parse_allowance("0"))
    assert c.verdict == "ok" and not c.regressions and not c.unaligned
    m = one(c, "wine", "focal")
    assert m.direction == "same" and m.delta == 0 and m.regression is False
    assert m.test == "paired t-test" and m.p_value == 1.0 and m.beyond_noise is False
    assert not any(m.mover for p in c.pairs for m in p.metrics)


def test_a_drop_beyond_the_allowance_is_a_regression_of_that_pair_only():
    cand = result(shift={("wine", "focal"): -0.05})
    c = compare_results(result(), [("b", cand)], ["macro_f1"], parse_allowance("0.02"))
    assert c.verdict == "regression"
    assert [(p.dataset, p.treatment, m.metric) for p, m in c.regressions] == [("wine", "focal", "macro_f1")]
    m = one(c, "wine", "focal")
    assert m.delta == pytest.approx(-0.05) and m.allowance == 0.02 and m.direction == "worse"
    # Every seed moved by exactly 0.05: the paired test is undefined, and says so.
    assert m.p_value is None and "same amount" in m.p_note
    assert m.mover


def test_p_value_reports_whether_a_drop_is_beyond_seed_noise():
    base = craft()
    cand = copy.deepcopy(base)
    for run, jitter in zip(cand["runs"], [0.0, 0.002, -0.001] * 100):
        if run["dataset"] == "wine" and run["treatment"] == "ce":
            run["metrics"]["macro_f1"] -= 0.05 + jitter
    c = compare_results(parse_result(base), [("b", parse_result(cand))], max_drop=parse_allowance("0.02"))
    m = one(c, "wine", "ce")
    assert m.regression and m.test == "paired t-test"
    assert m.p_value is not None and m.p_value < 0.05 and m.beyond_noise is True


def test_a_drop_within_the_allowance_is_reported_not_failed():
    c = compare_results(result(), [("b", result(shift={("wine", "ce"): -0.015}))],
                        max_drop=parse_allowance("0.02"))
    m = one(c, "wine", "ce")
    assert m.direction == "worse" and m.regression is False and c.verdict == "ok"


def test_a_drop_exactly_at_the_allowance_is_not_a_regression():
    c = compare_results(result(level=0.8), [("b", result(level=0.78))], max_drop=parse_allowance("0.02"))
    assert not c.regressions


def test_higher_scores_pass():
    c = compare_results(result(), [("b", result(level=0.9))], max_drop=parse_allowance("0"))
    assert c.verdict == "ok" and all(m.direction == "better" for p in c.pairs for m in p.metrics)


def test_ece_is_lower_is_better():
    # A lower level means a higher ECE: worse for ECE.
    c = compare_results(result(), [("b", result(shift={("wine", "ce"): -0.05}))], ["ece"],
                        parse_allowance("0.02"))
    m = one(c, "wine", "ce", "ece")
    assert m.delta == pytest.approx(0.05) and m.gain == pytest.approx(-0.05)
    assert m.regression and m.direction == "worse"
    c = compare_results(result(), [("b", result(level=0.9))], ["ece"], parse_allowance("0"))
    assert not c.regressions and one(c, "wine", "ce", "ece").direction == "better"


def test_relative_allowance():
    base = result(level=0.5)
    c = compare_results(base, [("b", result(level=0.485))], max_drop=parse_allowance("2%"))
    assert len(c.regressions) == 6  # 0.015 > 2% of 0.5, in every pair
    c = compare_results(base, [("b", result(level=0.495))], max_drop=parse_allowance("2%"))
    assert not c.regressions


def test_without_max_drop_nothing_is_gated():
    c = compare_results(result(), [("b", result(level=0.1))])
    assert c.verdict == "report-only" and not c.regressions
    assert one(c, "wine", "ce").regression is None and one(c, "wine", "ce").direction == "worse"


def test_only_gated_metrics_can_regress():
    c = compare_results(result(), [("b", result(level=0.7))], ["ece"], parse_allowance("0.02"))
    assert {m.metric for _, m in c.regressions} == {"ece"}
    assert c.metrics[0] == "ece" and "macro_f1" in c.metrics
    assert one(c, "wine", "ce", "macro_f1").regression is None


# --- seeds and tests ------------------------------------------------------------------------


def test_welch_when_seed_sets_differ_and_none_with_one_seed():
    c = compare_results(result(seeds=(0, 1)), [("b", result(seeds=(0, 1, 2), level=0.7))])
    m = one(c, "wine", "ce")
    assert m.test == "Welch t-test" and m.p_value is not None
    assert m.baseline.n == 2 and m.candidate.n == 3
    c = compare_results(result(seeds=(0,)), [("b", result(seeds=(0,), level=0.7))],
                        max_drop=parse_allowance("0.02"))
    m = one(c, "wine", "ce")
    assert m.p_value is None and m.beyond_noise is None and "fewer than two seeds" in m.p_note
    assert m.baseline.std is None
    assert m.regression  # the gate does not need a p-value


def test_means_come_from_ok_runs_and_a_candidate_without_any_is_a_regression():
    cand = result(status={("wine", "ce", 0): "diverged", ("wine", "focal", 0): "failed",
                          ("wine", "focal", 1): "failed", ("wine", "focal", 2): "failed"})
    c = compare_results(result(), [("b", cand)], max_drop=parse_allowance("0.02"))
    m = one(c, "wine", "ce")
    assert m.candidate.n == 2 and m.candidate.seeds == (1, 2) and m.test == "Welch t-test"
    focal = one(c, "wine", "focal")
    assert focal.candidate.mean is None and focal.regression and "no successful run" in focal.reason
    assert any("wine / ce: 1 of 3 runs diverged" in n for n in c.notes)


# --- alignment ------------------------------------------------------------------------------


def test_what_does_not_align_is_listed_and_strict_refuses_it():
    base = result()
    cand = result(treatments=("ce", "focal", "ldam"),
                  datasets={"wine": ["0", "1", "2"], "iris": ["a", "b", "c"]}, suite="other")
    c = compare_results(base, [("b.json", cand)], per_class=True, baseline_name="a.json")
    kinds = {(u.kind, u.dataset, u.treatment) for u in c.unaligned}
    assert kinds == {
        ("pair_only_in_baseline", "wine", "dual_focal"),
        ("pair_only_in_candidate", "wine", "ldam"),
        ("dataset_only_in_baseline", "yeast4", None),
        ("dataset_only_in_candidate", "iris", None),
    }
    assert {(p.dataset, p.treatment) for p in c.pairs} == {("wine", "ce"), ("wine", "focal")}
    assert any("suite 'other'" in n for n in c.notes)
    texts = [u.describe("a.json") for u in c.unaligned]
    assert "wine / dual_focal: only in the baseline a.json, not in b.json" in texts
    with pytest.raises(ResultFileError, match="--strict: 4 item"):
        require_aligned(c)
    require_aligned(compare_results(base, [("b", result())]))  # aligned: no error


def test_per_class_aligns_by_label():
    cand = result(datasets={"wine": ["0", "1", "3"], "yeast4": ["positive", "negative"]},
                  shift={("yeast4", "ce"): 0.05})
    c = compare_results(result(), [("b", cand)], per_class=True)
    classes = [u for u in c.unaligned if u.kind == "classes_differ"]
    assert len(classes) == 1 and classes[0].dataset == "wine"
    assert "only in baseline: 2" in classes[0].detail and "only in candidate: 3" in classes[0].detail
    wine = next(p for p in c.pairs if p.dataset == "wine" and p.treatment == "ce")
    assert [d.label for d in wine.per_class] == ["0", "1"]
    yeast = next(p for p in c.pairs if p.dataset == "yeast4" and p.treatment == "ce")
    # Labels align by name, not position: "positive" is index 0 in the candidate, 1 in the baseline.
    pos = next(d for d in yeast.per_class if d.label == "positive")
    assert pos.recall[0].mean == pytest.approx(0.8 - 0.01)
    assert pos.recall[1].mean == pytest.approx(0.85)
    assert pos.recall_delta == pytest.approx(0.06)
    assert compare_results(result(), [("b", cand)]).pairs[0].per_class == []


def test_metric_missing_on_one_side_is_unaligned():
    data = craft()
    for run in data["runs"]:
        del run["metrics"]["gmean"]
    c = compare_results(result(), [("b", parse_result(data))], ["gmean"])
    assert {u.kind for u in c.unaligned} == {"metric_missing"}
    assert all(m.metric != "gmean" for p in c.pairs for m in p.metrics)


def test_several_candidates_are_each_compared_with_the_baseline():
    c = compare_results(result(), [("b", result(level=0.9)), ("c", result(shift={("yeast4", "ce"): -0.1}))],
                        max_drop=parse_allowance("0.02"))
    assert [(p.file, p.dataset, p.treatment) for p, _ in c.regressions] == [("c", "yeast4", "ce")]
    assert one(c, "yeast4", "ce", file="b").direction == "better"
    assert len(c.movers("b")) == 5 and len(c.movers("c")) == 1


def test_needs_a_candidate_and_a_valid_alpha():
    with pytest.raises(ConfigError):
        compare_results(result(), [])
    with pytest.raises(ConfigError, match="--alpha"):
        compare_results(result(), [("b", result())], alpha=1.5)


# --- output ---------------------------------------------------------------------------------


def _md_tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def assert_valid_gfm(text: str) -> int:
    """Every table: header, an alignment row, rows of the header's width. Returns the count."""
    tables = _md_tables(text)
    for lines in tables:
        cells = [len(re.split(r"(?<!\\)\|", line.strip())) - 2 for line in lines]
        assert len(set(cells)) == 1, lines
        assert re.fullmatch(r"\|(:?-+:?\|)+", lines[1]), lines[1]
        assert len(lines) >= 3
    return len(tables)


def test_renderers_show_the_same_verdict():
    from rich.console import Console

    from dflbench.report import renderer

    cand = result(shift={("wine", "focal"): -0.05}, datasets={"wine": ["0", "1", "2"]})
    c = compare_results(result(), [("cand.json", cand)], ["macro_f1", "ece"], parse_allowance("2%"),
                        per_class=True, baseline_name="base.json")
    md = renderer("markdown").comparison(c)
    assert assert_valid_gfm(md) == 4  # files, movers, wine, wine per class
    assert "REGRESSION" in md and "### Did not align" in md and "yeast4" in md
    data = json.loads(renderer("json").comparison(c))
    assert data["verdict"] == "regression" and data["max_drop"] == {"text": "2%", "value": 0.02,
                                                                   "relative": True}
    assert {(r["dataset"], r["treatment"], r["metric"]) for r in data["regressions"]} == {
        ("wine", "focal", "macro_f1"), ("wine", "focal", "ece")}
    console = Console(record=True, width=200, color_system=None)
    console.print(renderer("table").comparison(c))
    text = console.export_text()
    assert "REGRESSION" in text and "yeast4: only in the baseline base.json" in text


def test_same_label_with_a_different_loss_is_compared_and_noted():
    data = craft()
    for run in data["runs"]:
        if run["treatment"] == "focal":
            run["loss_params"] = {"gamma": 3.0}
    c = compare_results(result(), [("b", parse_result(data))])
    assert any("wine / focal: the loss differs" in n and "focal(gamma=3.0)" in n for n in c.notes)
    assert not c.unaligned
