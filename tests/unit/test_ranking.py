"""dflbench.ranking: ranks, Friedman, Iman–Davenport, Wilcoxon–Holm and Nemenyi against scipy and
the published tables, missing cells, merging files and the verdict, on crafted results (no
training)."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from dflbench.errors import ConfigError
from dflbench.ranking import HypothesisTest, rank_results
from dflbench.ranking import frequentist as freq
from dflbench.results import parse_result
from tests.unit.test_compare import craft

TREATMENTS = ("ce", "weighted_ce", "focal", "dual_focal", "dual_ce")


def grid(values: np.ndarray, treatments: tuple[str, ...] = TREATMENTS, prefix: str = "d",
         **kwargs) -> dict:
    """A crafted result whose one-seed runs score ``values[i, j]`` (dataset i, treatment j) on every
    higher-is-better metric, and 1 − that on ECE (so ECE ranks the same way)."""
    datasets = {f"{prefix}{i}": ["neg", "pos"] for i in range(values.shape[0])}
    shift = {(f"{prefix}{i}", t): float(values[i, j])
             for i in range(values.shape[0]) for j, t in enumerate(treatments)}
    return craft(datasets=datasets, treatments=treatments, seeds=(0,), level=0.0, shift=shift,
                 **kwargs)


def matrix(n: int = 12, k: int = 5, seed: int = 0) -> np.ndarray:
    """Means rounded to 2 decimals, so ties occur as in real results."""
    return np.round(np.random.default_rng(seed).uniform(0.5, 0.9, (n, k)), 2)


def ranked(values: np.ndarray, metrics=("macro_f1",), **kwargs):
    return rank_results([("r.json", parse_result(grid(values)))], list(metrics), **kwargs)


# --- against scipy --------------------------------------------------------------------------


def test_ranks_friedman_and_iman_davenport_equal_scipy():
    values = matrix()
    m = ranked(values).metrics["macro_f1"]
    expected = sps.rankdata(-values, axis=1)  # higher is better: rank 1 = largest
    assert [[m.ranks[f"d{i}"][t] for t in TREATMENTS] for i in range(12)] == expected.tolist()
    assert [m.average_ranks[t] for t in TREATMENTS] == expected.mean(axis=0).tolist()
    fr = sps.friedmanchisquare(*values.T)
    assert (m.friedman.statistic, m.friedman.p_value) == (fr.statistic, fr.pvalue)
    n, k = values.shape
    f_stat = (n - 1) * fr.statistic / (n * (k - 1) - fr.statistic)
    assert m.iman_davenport.statistic == pytest.approx(f_stat, rel=1e-12)
    assert m.iman_davenport.p_value == pytest.approx(sps.f.sf(f_stat, k - 1, (k - 1) * (n - 1)),
                                                     rel=1e-12)


def test_pairwise_wilcoxon_and_holm_equal_scipy_on_every_pair():
    values = matrix(n=9, seed=3)  # scipy's own exact permutation test is slow beyond ~10 datasets
    m = ranked(values).metrics["macro_f1"]
    assert len(m.pairwise) == math.comb(len(TREATMENTS), 2)
    col = {t: values[:, j] for j, t in enumerate(TREATMENTS)}
    raw = [sps.wilcoxon(col[p.a], col[p.b]).pvalue for p in m.pairwise]
    assert [p.p_value for p in m.pairwise] == raw
    assert [p.p_holm for p in m.pairwise] == pytest.approx(freq.holm(raw), rel=1e-12)
    for p in m.pairwise:
        assert (p.wins, p.ties, p.losses) == (int((col[p.a] > col[p.b]).sum()),
                                              int((col[p.a] == col[p.b]).sum()),
                                              int((col[p.a] < col[p.b]).sum()))
    # Every pair once, the better average rank first.
    assert {frozenset((p.a, p.b)) for p in m.pairwise} == {
        frozenset(c) for c in itertools.combinations(TREATMENTS, 2)}
    assert all(m.average_ranks[p.a] <= m.average_ranks[p.b] for p in m.pairwise)


@pytest.mark.parametrize("n", [2, 5, 8, 13, 14, 30])
def test_wilcoxon_equals_scipy_with_ties_and_zeros(n: int):
    # Ties and zeros send scipy's default to an exact permutation test up to 13 pairs (slow in
    # scipy itself, so fewer cases there).
    rng = np.random.default_rng(n)
    for _ in range(1 if n == 13 else 5):
        a = np.round(rng.uniform(0.5, 0.9, n), 2)
        b = np.round(a + rng.choice([-0.02, -0.01, 0.0, 0.01, 0.03], n), 2)
        assert freq.wilcoxon(a, b)[0] == sps.wilcoxon(a, b).pvalue


def test_wilcoxon_of_one_equal_pair_is_undefined_not_an_error():
    p, note = freq.wilcoxon([0.5], [0.5])
    assert p is None and "undefined" in note
    assert freq.wilcoxon([], []) == (None, "no dataset to compare on")


def test_lower_is_better_metrics_rank_ascending():
    values = matrix(n=9, seed=5)
    r = ranked(values, metrics=("macro_f1", "ece"))
    f1, ece = r.metrics["macro_f1"], r.metrics["ece"]
    ece_values = 1.0 - values  # how craft() writes ECE
    assert [[ece.ranks[f"d{i}"][t] for t in TREATMENTS] for i in range(9)] == \
        sps.rankdata(ece_values, axis=1).tolist()
    assert ece.higher_is_better is False and ece.average_ranks == f1.average_ranks
    # wins count "a better": a lower ECE.
    for p in ece.pairwise:
        a, b = ece_values[:, TREATMENTS.index(p.a)], ece_values[:, TREATMENTS.index(p.b)]
        assert (p.wins, p.losses) == (int((a < b).sum()), int((a > b).sum()))
        assert p.p_value == sps.wilcoxon(a, b).pvalue


def test_ties_share_the_average_rank_and_count_as_ties():
    values = matrix(n=6, seed=1)
    values[0] = 0.7  # every treatment tied on d0
    values[1, :2] = 0.8  # two tied for first on d1
    m = ranked(values).metrics["macro_f1"]
    assert set(m.ranks["d0"].values()) == {3.0}
    assert m.ranks["d1"]["ce"] == m.ranks["d1"]["weighted_ce"] == 1.5
    pair = next(p for p in m.pairwise if {p.a, p.b} == {"ce", "weighted_ce"})
    assert pair.ties >= 2


def test_every_dataset_tied_has_no_friedman_and_no_wilcoxon_evidence():
    data = parse_result(grid(np.full((4, 3), 0.7), treatments=TREATMENTS[:3]))
    m = rank_results([("r.json", data)], ["macro_f1"]).metrics["macro_f1"]
    assert m.friedman.p_value is None and "ties all treatments" in m.friedman.note
    assert all(p.p_value == 1.0 and p.ties == 4 for p in m.pairwise)


# --- published values -----------------------------------------------------------------------


def test_iman_davenport_reproduces_demsar_2006_example():
    # Demšar (JMLR 2006, §3.2.2): four classifiers on 14 data sets, χ²_F = 9.28 gives F_F = 3.69.
    out = freq.iman_davenport(HypothesisTest(9.28, 0.026), n=14, k=4)
    assert out.statistic == pytest.approx(3.69, abs=0.005)
    assert out.p_value == pytest.approx(sps.f.sf(out.statistic, 3, 39))


@pytest.mark.parametrize(("k", "q"), [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850),
                                      (7, 2.949), (8, 3.031), (9, 3.102), (10, 3.164)])
def test_nemenyi_critical_difference_matches_demsar_table_5(k: int, q: float):
    n = 14  # CD = q·sqrt(k(k+1)/6N); the table's q_0.05 are within 0.001 (2.3437 is printed 2.343)
    cd = freq.critical_difference(k, n, 0.05)
    assert cd / math.sqrt(k * (k + 1) / (6 * n)) == pytest.approx(q, abs=0.001)


def test_demsar_example_critical_difference_is_1_25():
    assert freq.critical_difference(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)


def test_cd_groups_are_the_maximal_runs_closer_than_cd():
    ranks = {"a": 1.0, "b": 1.5, "c": 3.0, "d": 3.2, "e": 3.9}
    assert freq.cd_groups(ranks, 1.0) == [["a", "b"], ["c", "d", "e"]]
    assert freq.cd_groups(ranks, 0.1) == []
    assert freq.cd_groups(ranks, 10.0) == [["a", "b", "c", "d", "e"]]
    # A group inside a wider one is not repeated: b..c and c..e overlap, both maximal.
    assert freq.cd_groups({"a": 1.0, "b": 2.0, "c": 2.5, "d": 3.4}, 1.0) == [["b", "c"], ["c", "d"]]


# --- Holm -------------------------------------------------------------------------------------


def test_holm_hand_computed():
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → kept monotone at 0.06.
    assert freq.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert freq.holm([0.5, 0.4]) == [0.8, 0.8]  # capped at 1 and monotone
    assert freq.holm([0.6, None, 0.01]) == [0.6, None, 0.02]  # None is no test: m = 2
    assert freq.holm([]) == []


def test_holm_equals_statsmodels_when_installed():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(7).uniform(0, 0.2, 20).tolist()
    expected = multitest.multipletests(p, method="holm")[1]
    assert freq.holm(p) == pytest.approx(expected.tolist(), rel=1e-12)


def test_smallest_wilcoxon_p_is_what_scipy_gives_for_one_sign():
    assert freq.smallest_wilcoxon_p(8) == pytest.approx(2 / 2**8)
    assert freq.smallest_wilcoxon_p(5) == pytest.approx(2 / 2**5)


# --- missing cells, merging, folds ------------------------------------------------------------


def test_a_treatment_without_a_value_leaves_its_dataset_out_and_says_so():
    data = grid(matrix(n=6))
    data["runs"] = [dict(r, status="failed", metrics={}, per_class=[], error="boom")
                    if (r["dataset"], r["treatment"]) == ("d2", "focal") else r for r in data["runs"]]
    m = rank_results([("r.json", parse_result(data))], ["macro_f1"]).metrics["macro_f1"]
    assert m.datasets == ["d0", "d1", "d3", "d4", "d5"] and m.n_datasets == 5
    assert "d2" not in m.ranks and m.left_out == {"d2": "no value for focal (1 of 1 runs without a value)"}
    assert m.cells["d2"]["ce"].mean is not None and m.cells["d2"]["focal"].mean is None
    assert any(line.startswith("Left out (1 dataset") and "d2" in line for line in m.verdict)


def test_a_treatment_with_no_value_anywhere_is_dropped_not_every_dataset():
    data = grid(matrix(n=4))
    data["runs"] = [dict(r, status="diverged", metrics={}, per_class=[])
                    if r["treatment"] == "dual_ce" else r for r in data["runs"]]
    m = rank_results([("r.json", parse_result(data))], ["macro_f1"]).metrics["macro_f1"]
    assert "dual_ce" not in m.treatments and m.n_datasets == 4
    assert any("dual_ce: no successful run" in n for n in m.notes)


def test_files_merge_by_dataset_and_align_treatments_by_label():
    a, b = grid(matrix(n=3), prefix="a"), grid(matrix(n=4, seed=9), prefix="b")
    r = rank_results([("a.json", parse_result(a)), ("b.json", parse_result(b))], ["macro_f1"])
    m = r.metrics["macro_f1"]
    assert r.datasets == ["a0", "a1", "a2", "b0", "b1", "b2", "b3"] and m.n_datasets == 7
    values = np.vstack([matrix(n=3), matrix(n=4, seed=9)])
    assert [m.average_ranks[t] for t in TREATMENTS] == sps.rankdata(-values, axis=1).mean(axis=0).tolist()


def test_the_same_dataset_in_two_files_is_refused():
    data = parse_result(grid(matrix(n=3)))
    with pytest.raises(ConfigError, match=r"dataset 'd0' is in both a.json and b.json"):
        rank_results([("a.json", data), ("b.json", data)])


def test_a_cell_mean_is_over_every_ok_run_seeds_repeats_and_folds():
    data = grid(matrix(n=3))
    extra = []
    for run in data["runs"]:
        for repeat, fold, delta in ((0, 1, 0.1), (1, 0, -0.04), (1, 1, 0.01)):
            extra.append(dict(copy.deepcopy(run), repeat=repeat, fold=fold,
                              metrics={k: v + delta for k, v in run["metrics"].items()}))
    data["runs"] += extra
    m = rank_results([("r.json", parse_result(data))], ["macro_f1"]).metrics["macro_f1"]
    base = matrix(n=3)[0, 0]
    cell = m.cells["d0"]["ce"]
    assert cell.n == 4 and cell.mean == pytest.approx(base + (0.1 - 0.04 + 0.01) / 4)
    assert cell.std == pytest.approx(np.std([base, base + 0.1, base - 0.04, base + 0.01], ddof=1))


# --- options ----------------------------------------------------------------------------------


def test_baseline_compares_each_treatment_with_it_and_holm_counts_those_pairs():
    values = matrix(seed=2)
    m = ranked(values, baseline="ce").metrics["macro_f1"]
    assert [p.b for p in m.pairwise] == ["ce"] * 4 and {p.a for p in m.pairwise} == set(TREATMENTS) - {"ce"}
    raw = [p.p_value for p in m.pairwise]
    assert [p.p_holm for p in m.pairwise] == pytest.approx(freq.holm(raw))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"baseline": "cee"}, "--baseline: unknown treatment 'cee'; did you mean 'ce'?"),
    ({"alpha": 1.5}, "--alpha: 1.5 is not between 0 and 1"),
    ({"rope": -0.1}, "--rope: -0.1 is invalid"),
    ({"metrics": ["macro_f"]}, "did you mean 'macro_f1'"),
])
def test_bad_options_are_one_line_config_errors(kwargs: dict, message: str):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        rank_results([("r.json", parse_result(grid(matrix(n=3))))], **kwargs)


def test_strict_needs_two_datasets_and_two_treatments():
    one = parse_result(grid(matrix(n=1)))
    with pytest.raises(ConfigError, match=r"at least two datasets.*hold one \(d0\)"):
        rank_results([("r.json", one)], strict=True)
    single = parse_result(grid(matrix(n=3, k=1), treatments=("ce",)))
    with pytest.raises(ConfigError, match="at least two treatments"):
        rank_results([("r.json", single)], strict=True)
    assert rank_results([("r.json", single)], ["macro_f1"]).metrics["macro_f1"].verdict == [
        "MacroF1: nothing to rank (only one loss, ce)."]
    # Without strict (the suite report), one dataset ranks and says the tests were skipped.
    m = rank_results([("r.json", one)], ["macro_f1"]).metrics["macro_f1"]
    assert m.friedman.p_value is None and "at least 2 datasets" in m.friedman.note
    assert m.critical_difference is None


def test_two_treatments_skip_friedman_with_the_reason():
    data = parse_result(grid(matrix(k=2), treatments=("ce", "focal")))
    m = rank_results([("r.json", data)], ["macro_f1"]).metrics["macro_f1"]
    assert m.friedman.p_value is None and "at least 3 treatments" in m.friedman.note
    assert len(m.pairwise) == 1 and m.pairwise[0].p_value is not None
    assert "Friedman test skipped: needs at least 3 treatments" in "\n".join(m.verdict)


# --- the JSON contract and the verdict -----------------------------------------------------------


def test_json_follows_the_contract():
    values = matrix(n=8)
    out = ranked(values, metrics=("macro_f1", "ece")).to_dict()
    m = out["metrics"]["macro_f1"]
    assert set(m) >= {"datasets", "treatments", "n_datasets", "higher_is_better", "average_ranks",
                      "ranks", "means", "friedman", "iman_davenport", "critical_difference",
                      "pairwise", "verdict"}
    assert m["datasets"] == [f"d{i}" for i in range(8)] and m["treatments"] == list(TREATMENTS)
    assert m["n_datasets"] == 8 and m["higher_is_better"] is True
    assert out["metrics"]["ece"]["higher_is_better"] is False
    assert set(m["average_ranks"]) == set(TREATMENTS)
    assert m["ranks"]["d3"] == dict(zip(TREATMENTS, sps.rankdata(-values[3]).tolist()))
    assert m["means"]["d3"] == dict(zip(TREATMENTS, values[3].tolist()))
    assert set(m["friedman"]) == set(m["iman_davenport"]) == {"statistic", "p_value"}
    assert isinstance(m["critical_difference"], float)
    pair = m["pairwise"][0]
    assert set(pair) == {"a", "b", "wins", "ties", "losses", "p_value", "p_holm", "bayes"}
    assert set(pair["bayes"]) == {"rope", "p_a", "p_equivalent", "p_b"}
    assert pair["bayes"]["rope"] == 0.01
    assert pair["bayes"]["p_a"] + pair["bayes"]["p_equivalent"] + pair["bayes"]["p_b"] == pytest.approx(1)
    assert isinstance(m["verdict"], str) and m["verdict"].startswith("MacroF1 (higher is better) over 8")


def test_verdict_names_the_winner_and_the_significant_pairs():
    # 12 datasets, ce best everywhere by 0.05: Friedman rejects, and ce beats every other loss.
    values = matrix(n=12, seed=4)
    values[:, 0] = values.max(axis=1) + 0.05
    m = ranked(values).metrics["macro_f1"]
    text = "\n".join(m.verdict)
    assert m.verdict[0].startswith("MacroF1 (higher is better) over 12 datasets, 5 losses: ce ranks "
                                   "first (average rank 1.00 of 5)")
    assert "the losses do not all perform alike" in text
    for other in TREATMENTS[1:]:
        assert f"ce beats {other} (12 wins, 0 ties, 0 losses; Holm p = " in text or "and 1 more" in text
    assert "better by more than the ROPE: ce over" in text
    assert "no pair can be significant" not in text


def test_verdict_says_what_few_datasets_cannot_tell():
    values = matrix(n=5, seed=4)
    values[:, 0] = values.max(axis=1) + 0.05  # as clear as data get, but only 5 datasets
    text = "\n".join(ranked(values).metrics["macro_f1"].verdict)
    assert "With 5 datasets no Wilcoxon p can fall below 0.062" in text
    assert "no pair can be significant at α = 0.05" in text
    assert "little power" in text


def test_verdict_calls_tiny_differences_practically_equivalent():
    values = np.tile(np.linspace(0.6, 0.9, 10)[:, None], (1, 5))
    values += np.random.default_rng(0).uniform(-0.001, 0.001, values.shape)
    text = "\n".join(ranked(values, rope=0.01).metrics["macro_f1"].verdict)
    assert "practically equivalent: " in text and "≈" in text
    assert "no difference among the losses is detectable" in text
