"""`dflbench run`, `show` and `list` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dflbench.results import SCHEMA_VERSION, load_result


@pytest.fixture(scope="module")
def smoke_result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped smoke suite, run once for the module."""
    from dflbench.cli import main

    out = tmp_path_factory.mktemp("smoke") / "smoke.json"
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--suite", "smoke", "--out", str(out), "--quiet", "--no-cache"])
    assert exit_.value.code == 0
    return out


def test_smoke_suite_writes_a_complete_versioned_result(smoke_result: Path):
    data = json.loads(smoke_result.read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["complete"] is True
    assert len(data["suite"]["sha256"]) == 64
    assert set(data["environment"]) >= {"python", "torch", "sklearn", "imblearn", "platform", "device", "threads"}
    losses = {"ce", "weighted_ce", "dual_ce", "focal", "dual_focal", "dual_focal_learnable"}
    datasets = {d["name"] for d in data["datasets"]}
    assert len(data["runs"]) == len(datasets) * len(losses) * 2
    assert all(r["status"] == "ok" for r in data["runs"])
    for run in data["runs"]:
        n_classes = len(run["class_counts"]["test"])
        assert len(run["per_class"]) == n_classes
        assert 0.0 <= run["metrics"]["macro_f1"] <= 1.0
        assert ("learned" in run["train"]) == (run["loss"] == "dual_focal_learnable")
    learned = [r["train"]["learned"]["gamma"] for r in data["runs"] if r["loss"] == "dual_focal_learnable"]
    assert len(learned) == len(datasets) * 2  # one per (dataset, seed)
    assert all(len(g["trajectory"]) == 8 and g["value"] == g["trajectory"][-1] for g in learned)
    assert len(data["summary"]) == len(datasets) * len(losses)
    row = data["summary"][0]
    assert set(row["metrics"]["macro_f1"]) == {"mean", "std", "ci95"} and row["n_ok"] == 2


def test_imbalance_is_synthesized_on_train_only(smoke_result: Path):
    data = json.loads(smoke_result.read_text())
    from dflbench.datasets import SOURCES
    from dflbench.datasets.split import stratified_split
    from dflbench.imbalance import parse_imbalance

    wine = next(d for d in data["datasets"] if d["name"] == "wine")
    train, test = wine["class_counts"]["train"], wine["class_counts"]["test"]
    ds = SOURCES.get("sklearn")("wine")
    tr, te = stratified_split(ds.y, 0.3, seed=0)
    spec = parse_imbalance({"profile": "exponential", "ratio": 10}, ds.class_names)
    # The training split is thinned to the profile's targets; the test split keeps wine's own counts.
    assert list(train.values()) == spec.targets(np.bincount(ds.y[tr])).tolist()
    assert list(test.values()) == np.bincount(ds.y[te]).tolist()


def test_show_rerenders_the_same_report_as_run(cli, tiny_suite: Path, tmp_path: Path):
    out = tmp_path / "r.json"
    ran = cli("run", "--suite", str(tiny_suite), "--out", str(out))
    assert ran.code == 0, ran.err
    shown = cli("show", str(out))
    assert shown.code == 0
    assert shown.out == ran.out
    assert "per-class recall / F1" in ran.out and "learned gamma" in ran.out
    # Two datasets: the report ends with the verdict across them, saying what two cannot tell.
    verdict = ran.out[ran.out.index("Verdict across datasets"):]
    assert "Average rank, 2 datasets" in verdict and "Friedman p =" in verdict
    assert "With 2 datasets no Wilcoxon p can fall below 0.500" in verdict
    assert f"wrote {out}" in ran.err
    md = cli("show", str(out), "--format", "markdown")
    assert md.out.startswith("# dflbench: tiny") and "| Loss |" in md.out
    js = cli("show", str(out), "--format", "json")
    assert js.json()["suite"]["name"] == "tiny"


def test_same_suite_same_metrics(cli, tiny_suite: Path, tmp_path: Path):
    for name in ("a.json", "b.json"):
        assert cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path / name), "-q",
                   "--no-cache").code == 0
    a, b = load_result(tmp_path / "a.json"), load_result(tmp_path / "b.json")
    assert [r.metrics for r in a.runs] == [r.metrics for r in b.runs]


def test_run_json_format_prints_only_json(cli, tiny_suite: Path, tmp_path: Path):
    res = cli("run", "--suite", str(tiny_suite), "--out", str(tmp_path / "r.json"), "--format", "json",
              "--losses", "ce", "--datasets", "iris", "--seeds", "1", "--epochs", "1")
    assert res.code == 0
    data = res.json()
    assert [(r["dataset"], r["treatment"], r["seed"]) for r in data["runs"]] == [("iris", "ce", 0)]


def test_default_output_path(cli, tiny_suite: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("run", "--suite", str(tiny_suite), "-q", "--seeds", "1", "--epochs", "1").code == 0
    (written,) = (tmp_path / "results").glob("tiny-*.json")
    assert written.name.endswith("Z.json")


def _listed(what: str) -> list[str]:
    from dflbench.config import shipped_suites
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.metrics import METRICS
    from dflbench.models import MODELS
    from dflbench.samplers import SAMPLERS

    registries = {"losses": LOSSES, "datasets": SOURCES, "models": MODELS, "samplers": SAMPLERS}
    if what in registries:
        return registries[what].names()
    return list(shipped_suites() if what == "suites" else METRICS)


@pytest.mark.parametrize("what", ["losses", "datasets", "models", "samplers", "suites", "metrics"])
def test_list_shows_one_row_per_entry(cli, what: str):
    res = cli("list", what)
    assert res.code == 0 and res.err == ""
    first_cells = [line.split("│")[1].strip() for line in res.out.splitlines() if line.startswith("│")]
    assert first_cells == _listed(what)


def test_list_losses_names_each_loss_with_its_source(cli):
    from dflbench.losses import LOSSES

    out = cli("list", "losses").out
    for name in LOSSES.names():
        assert name in out
    assert "Hossain" in out and "Lin" in out


def test_version_and_help(cli):
    import dflbench

    assert cli("--version").out == f"dflbench {dflbench.__version__}\n"
    help_ = cli("--help")
    assert help_.code == 0 and help_.err == ""
    for command in ("run", "show", "compare", "list"):
        assert f"  {command} " in help_.out


def test_sampler_treatments_run_and_a_failing_one_is_recorded(cli, tmp_path: Path, monkeypatch):
    """A sampler that fails while training (what the counts cannot foretell; a k_neighbors too
    large for a class is refused before training, tests/integration/test_cli_hostile.py) fails
    its own runs only."""
    from imblearn.over_sampling import SMOTE

    from tests.conftest import write_suite

    def degenerate(self, X, y):
        raise ValueError("the samples are degenerate")

    monkeypatch.setattr(SMOTE, "fit_resample", degenerate)
    suite = write_suite(tmp_path / "s.yaml", losses=[
        "ce",
        {"name": "ce", "sampler": "random_over"},
        {"name": "focal", "sampler": {"name": "smote", "k_neighbors": 3}},
    ])
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(suite), "--out", str(out))
    assert res.code == 3, res.err  # some runs failed, the rest finished
    runs = json.loads(out.read_text())["runs"]
    by = {}
    for r in runs:
        by.setdefault(r["treatment"], []).append(r)
    assert set(by) == {"ce", "ce+random_over", "focal+smote"}
    assert all(r["status"] == "ok" for r in by["ce"] + by["ce+random_over"])
    over = by["ce+random_over"][0]
    assert (over["loss"], over["sampler"], over["sampler_params"]) == ("ce", "random_over", {})
    counts = over["train"]["resampled_counts"]
    assert len(set(counts.values())) == 1  # balanced by oversampling
    failed = by["focal+smote"]
    assert all(r["status"] == "failed" and "sampler 'smote' cannot apply" in r["error"] for r in failed)
    assert failed[0]["sampler_params"] == {"k_neighbors": 3}
    assert "the samples are degenerate" in failed[0]["error"]
    assert "ce+random_over" in res.out and "focal+smote" in res.out
    assert "failed" in res.err


def test_many_classes_are_listed_as_rows(cli, tmp_path: Path):
    from tests.conftest import write_suite

    suite = write_suite(tmp_path / "s.yaml", seeds=1, train={"epochs": 1, "batch_size": 64},
                        datasets=[{"name": "digits", "source": "sklearn"}], losses=["ce", "focal"])
    res = cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"), "--no-cache")
    assert res.code == 0
    table = res.out[res.out.index("per-class recall / F1"):]
    assert "Class (train/test)" in table
    for digit in range(10):
        assert f"│ {digit} (" in table


def test_folds_on_the_command_line_cross_validate_and_say_so(cli, tiny_suite: Path, tmp_path: Path):
    out = tmp_path / "cv.json"
    dry = cli("run", "--suite", str(tiny_suite), "--folds", "3", "--repeats", "2", "--seeds", "1",
              "--dry-run", "--no-cache")
    assert dry.code == 0 and "3-fold stratified cross-validation × 2 repeats; 1 seed(s)" in dry.out
    res = cli("run", "--suite", str(tiny_suite), "--folds", "3", "--repeats", "2", "--seeds", "1",
              "--epochs", "1", "--losses", "ce", "--out", str(out), "--no-cache")
    assert res.code == 0, res.err
    result = load_result(out)
    assert result.protocol == {"kind": "cv", "folds": 3, "repeats": 2, "split_seed": 0}
    assert {(r.dataset, r.repeat, r.fold) for r in result.runs} == {
        (d, r, f) for d in ("iris", "syn") for r in range(2) for f in range(3)}
    assert all(s.n_runs == 6 for s in result.summary)
    assert "protocol: 3-fold stratified cross-validation × 2 repeats" in res.out
    assert "mean ± std over 6 runs (2 repeats × 3 folds × 1 seed)" in res.out
