"""Suite validation: every problem is one ConfigError naming the file, key and what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from dflbench.config import load_suite, override, parse_suite, shipped_suites
from dflbench.errors import ConfigError
from tests.conftest import write_suite


def test_shipped_suites_are_valid_and_default_suite_meets_the_brief():
    names = shipped_suites()
    assert {"imbalanced-tabular", "smoke"} <= set(names)
    suite = load_suite("imbalanced-tabular")
    assert len(suite.datasets) >= 6 and len(suite.seeds) == 5
    assert {lo.name for lo in suite.losses} == {
        "ce", "weighted_ce", "dual_ce", "focal", "dual_focal", "dual_focal_learnable"}
    assert sum(d.source == "keel" for d in suite.datasets) >= 3


def test_same_config_same_hash_and_any_change_changes_it(tmp_path: Path):
    a = load_suite(str(write_suite(tmp_path / "a.yaml")))
    b = load_suite(str(write_suite(tmp_path / "b.yaml")))
    c = load_suite(str(write_suite(tmp_path / "c.yaml", seeds=3)))
    assert a.sha256() == b.sha256() != c.sha256()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seeds": 0}, "seeds: 0 is invalid (expected an integer >= 1)"),
        ({"seeds": [0, -1]}, "seeds[1]: -1 is invalid (expected an integer >= 0)"),
        ({"split_seed": -1}, "split_seed: -1 is invalid (expected an integer >= 0)"),
        ({"test_size": 1.5}, "test_size: 1.5 is invalid (expected a number in (0, 1))"),
        ({"train": {"epcohs": 3}}, "train.epcohs: unknown key; did you mean 'epochs'?"),
        ({"train": {"epochs": "many"}}, "train.epochs: 'many' is invalid (expected an integer >= 1)"),
        ({"train": {"optimizer": "adma"}}, "train.optimizer: 'adma' is invalid (expected one of adam, adamw, sgd); "
                                               "did you mean 'adam'?"),
        ({"losses": ["dual_focall"]}, "unknown loss 'dual_focall'; did you mean 'dual_focal'?"),
        ({"losses": [{"name": "focal", "gama": 2}]}, "loss 'focal' has no parameter 'gama'; did you mean 'gamma'?"),
        ({"losses": ["ce", "ce"]}, "label 'ce' appears twice; give repeated losses distinct 'label:'"),
        ({"datasets": [{"name": "iris", "source": "sklearnn"}]}, "unknown dataset source 'sklearnn'"),
        ({"datasets": ["iris"]}, "give a mapping with name and source"),
        ({"datasets": []}, "datasets: [] is invalid (expected a non-empty list)"),
        ({"metrics": ["macro_f2"]}, "metrics[0]: 'macro_f2' is invalid (expected one of accuracy, "),
        ({"model": {"name": "mlpp"}}, "unknown model 'mlpp'; did you mean 'mlp'?"),
        ({"model": {"name": "mlp", "hiden": [4]}}, "model 'mlp' has no parameter 'hiden'; did you mean 'hidden'?"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"metrics": []}, "metrics: [] is invalid (expected a non-empty list, each one of accuracy, "),
        ({"train": {"early_stopping": {"monitor": "los"}}},
         "train.early_stopping.monitor: 'los' is invalid (expected one of macro_f1, loss); did you mean 'loss'?"),
        ({"model": {"name": "mlp", "hidden": [8, 0]}}, "model: model 'mlp': parameter 'hidden'[1]: 0 is invalid"),
        ({"losses": [{"name": "focal", "gamma": -2}]},
         "loss 'focal': parameter 'gamma': -2 is invalid (expected a number >= 0)"),
        ({"losses": [{"name": "ce", "sampler": {"name": "smote", "k_neighbors": 0}}]},
         "sampler 'smote': parameter 'k_neighbors': 0 is invalid (expected an integer >= 1)"),
    ],
)
def test_invalid_suites_name_the_problem(tmp_path: Path, overrides, message):
    path = write_suite(tmp_path / "bad.yaml", **overrides)
    with pytest.raises(ConfigError) as err:
        load_suite(str(path))
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nlosses: [ce,\n  datasets: {\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+:\d+: invalid YAML"):
        load_suite(str(path))


def test_unknown_suite_name_lists_shipped_ones():
    with pytest.raises(ConfigError, match="unknown suite 'smok'; did you mean 'smoke'.*imbalanced-tabular"):
        load_suite("smok")


def test_empty_and_non_mapping_files(tmp_path: Path):
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="suite file is empty"):
        load_suite(str(tmp_path / "empty.yaml"))
    with pytest.raises(ConfigError, match="suite must be a mapping, got list"):
        load_suite(str(tmp_path / "list.yaml"))


def test_yaml_is_read_with_the_safe_loader(tmp_path: Path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_suite(str(path))


def test_override_filters_and_validates(tmp_path: Path):
    suite = load_suite(str(write_suite(tmp_path / "s.yaml")))
    narrowed = override(suite, losses=["ce"], datasets=["syn"], seeds=1, epochs=2)
    assert [lo.label for lo in narrowed.losses] == ["ce"]
    assert [d.name for d in narrowed.datasets] == ["syn"]
    assert narrowed.seeds == (0,) and narrowed.train.epochs == 2
    with pytest.raises(ConfigError, match="--losses: unknown loss in this suite 'focl'; did you mean 'focal'"):
        override(suite, losses=["focl"])


def test_parse_suite_requires_name():
    with pytest.raises(ConfigError, match="name: required key is missing"):
        parse_suite({"datasets": [], "losses": []})


def test_a_number_yaml_1_1_reads_as_a_string_is_the_number_the_user_typed(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ntrain: {lr: 1e-3}\ndatasets: [{name: iris, source: sklearn}]\nlosses: [ce]\n")
    assert load_suite(str(path)).train.lr == 0.001


@pytest.mark.parametrize("name", ["smoke", "imbalanced-tabular", "imbalanced-image", "loss-zoo"])
def test_round_trip_suite_to_dict_to_suite(name: str):
    """The resolved configuration a result stores reads back as the same suite."""
    suite = load_suite(name)
    again = parse_suite(suite.to_dict(), source=suite.source)
    assert again == suite and again.sha256() == suite.sha256()


def test_paths_resolve_against_the_suite_s_folder_or_their_base(tmp_path: Path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    for name in ("imgs", "labs"):
        (tmp_path / "mnist" / name).write_bytes(b"")
    (tmp_path / "d.csv").write_text("a,y\n1,0\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    suite = parse_suite({"name": "p", "losses": ["ce"], "datasets": [
        {"name": "c", "source": "csv", "path": "d.csv", "target": "y"},
        {"name": "i", "source": "idx", "path": "mnist", "images": "imgs", "labels": "labs"},
        {"name": "h", "source": "csv", "path": "~/d.csv", "target": "y"},
        {"name": "o", "source": "openml", "data_id": 1, "cache_dir": "skl"}]}, base=tmp_path)
    params = {d.name: d.params for d in suite.datasets}
    assert params["c"]["path"] == params["h"]["path"] == str(tmp_path / "d.csv")
    assert params["i"]["images"] == str(tmp_path / "mnist" / "imgs")  # relative to path, its base
    assert params["o"]["cache_dir"] == str(tmp_path / "skl")  # a cache folder need not exist yet


@pytest.mark.parametrize(("dataset", "message"), [
    ({"source": "csv", "path": "nope.csv", "target": "y"},
     "datasets[0] (d): path: 'nope.csv' not found (resolved against the suite's folder: {tmp}/nope.csv)"),
    ({"source": "csv", "path": ".", "target": "y"},
     "path: '.' is a folder (resolved against the suite's folder: {tmp}); give a file"),
    ({"source": "image_folder", "path": "f.txt"}, "path: 'f.txt' is a file (resolved against the suite's "
                                                  "folder: {tmp}/f.txt); give a folder"),
    ({"source": "openml", "data_id": 1, "cache_dir": "f.txt"}, "cache_dir: 'f.txt' is a file"),
    ({"source": "csv", "path": "", "target": "y"}, "parameter 'path': '' is invalid (expected a file path)"),
])
def test_a_path_that_cannot_be_read_is_refused_naming_it_as_written_and_resolved(tmp_path: Path, dataset, message):
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ConfigError) as err:
        parse_suite({"name": "p", "losses": ["ce"], "datasets": [{"name": "d", **dataset}]},
                    source="p.yaml", base=tmp_path)
    assert message.format(tmp=tmp_path) in str(err.value)


def test_a_loss_parameter_the_trainer_owns_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"p.yaml: losses\[0\].reduction: a suite cannot set reduction"):
        parse_suite({"name": "p", "datasets": [{"name": "iris", "source": "sklearn"}],
                     "losses": [{"name": "ce", "reduction": "sum"}]}, source="p.yaml")
