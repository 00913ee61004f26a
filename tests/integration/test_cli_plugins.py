"""Your own loss, model and data: plugin files outside the package, run end to end through the
CLI; every failure of user code is one line before training; installed packages' entry points
register entries that `dflbench list` shows with their origin; the parquet source."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dflbench.results import load_result
from tests.conftest import assert_one_line_error

PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "plugins" / "example_plugin.py"


pytestmark = pytest.mark.usefixtures("restored_registries")


def _suite(folder: Path, losses: str, extra: str = "") -> Path:
    path = folder / "suites" / "mine.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(f"""\
        name: mine
        seeds: 2
        plugins: [../plugin.py]
        train: {{epochs: 3, batch_size: 32, lr: 0.01}}
        {extra}
        datasets:
          - {{name: rings, source: rings, n: 300}}
        losses: {losses}
        """))
    return path


def test_a_plugin_loss_model_and_dataset_run_end_to_end(cli, tmp_path: Path):
    """The plugin file lives outside the package; paths are relative to the suite's folder."""
    shutil.copy(PLUGIN, tmp_path / "plugin.py")
    suite = _suite(tmp_path, '[ce, {name: "../plugin.py:AsymmetricFocal", label: asym, gamma_init: 1.5}]',
                   'model: {name: "../plugin.py:TinyNet", width: 8}')
    out = tmp_path / "r.json"
    res = cli("run", "--suite", str(suite), "--out", str(out), "--no-cache")
    assert res.code == 0, res.err
    result = load_result(out)
    assert {(r.label, r.status.value) for r in result.runs} == {("ce", "ok"), ("asym", "ok")}
    learned = [r.train.learned["g"] for r in result.runs if r.label == "asym"]
    assert len(learned) == 2 and all(len(g.trajectory) == 3 for g in learned)
    assert "rings" in res.out and "asym: AsymmetricFocal (gamma_init=1.5)" in res.out
    # An edited plugin is new code: the cache does not answer with the old numbers.
    cached = cli("run", "--suite", str(suite), "--out", str(tmp_path / "a.json"), "-q")
    again = cli("run", "--suite", str(suite), "--out", str(tmp_path / "b.json"), "-q")
    assert cached.code == again.code == 0 and load_result(tmp_path / "b.json").cache["reused"] == ["rings"]
    (tmp_path / "plugin.py").write_text((tmp_path / "plugin.py").read_text() + "\n# edited\n")
    edited = cli("run", "--suite", str(suite), "--out", str(tmp_path / "c.json"), "-q")
    assert edited.code == 0 and load_result(tmp_path / "c.json").cache["reused"] == []


@pytest.mark.parametrize(("loss", "needle"), [
    ('{name: "../plugin.py:NaNLoss"}', "forward returned a non-finite loss"),
    ('{name: "../plugin.py:Raises"}', "forward raised RuntimeError: boom"),
    ('{name: "../plugin.py:NotAModule"}', "not a torch.nn.Module"),
    ('{name: "../plugin.py:Strict", alpha: -1}', "the constructor raised ValueError: alpha must be >= 0"),
    ('{name: "../plugin.py:Strict", beta: 1}', "has no parameter 'beta'"),
    ('{name: "../plugin.py:Nope"}', "no class 'Nope'"),
    ('{name: "../missing.py:X"}', "no such file"),
    ('{name: "../broken.py:X"}', "broken.py: syntax error at line 1"),
])
def test_errors_in_user_code_are_one_line_before_training(cli, tmp_path: Path, loss: str, needle: str):
    shutil.copy(PLUGIN, tmp_path / "plugin.py")
    (tmp_path / "broken.py").write_text("def broken(:\n")
    suite = _suite(tmp_path, f"[{loss}]")
    assert_one_line_error(cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json")), needle)
    assert not (tmp_path / "r.json").exists()


def test_installed_entry_points_register_and_list_with_their_origin(cli, tmp_path: Path, monkeypatch):
    """A package declaring the `dflbench.plugins` entry-point group registers its entries with
    dflbench's decorators; `dflbench list` names the package they come from."""
    from dflbench import plugins

    (tmp_path / "acme_losses.py").write_text(textwrap.dedent("""\
        from dflbench.losses import LOSSES
        from dflbench.losses.ce import CrossEntropy

        @LOSSES.register("acme_ce")
        class AcmeCE(CrossEntropy):
            \"\"\"Cross-entropy, as ACME ships it.\"\"\"
            name = "acme_ce"
            title = "ACME cross-entropy"
            source = "ACME Inc."
        """))
    dist = tmp_path / "acme_losses-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-losses\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dflbench.plugins]\nacme = acme_losses\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_ENTRY_POINTS", {})
    res = cli("list", "losses")
    assert res.code == 0, res.err
    row = next(line for line in res.out.splitlines() if "acme_ce" in line)
    assert "ACME cross-entropy" in row and "acme_losses" in row
    assert "dflbench" in next(line for line in res.out.splitlines() if "│ dual_focal " in line)


def test_parquet_source_reads_like_csv(cli, tmp_path: Path):
    rng = np.random.default_rng(0)
    y = rng.choice(["no", "yes"], size=120, p=[0.8, 0.2])
    df = pd.DataFrame({"age": rng.normal(40, 10, 120), "colour": rng.choice(["r", "g"], 120),
                       "id": np.arange(120), "label": y})
    df.to_parquet(tmp_path / "people.parquet")
    suite = tmp_path / "s.yaml"
    suite.write_text("name: pq\nseeds: 1\ntrain: {epochs: 1}\n"
                     "datasets: [{name: people, source: parquet, path: people.parquet, target: label, drop: [id]}]\n"
                     "losses: [ce]\n")
    res = cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"), "-q", "--no-cache")
    assert res.code == 0, res.err
    info = json.loads((tmp_path / "r.json").read_text())["datasets"][0]
    assert info["class_names"] == ["no", "yes"] and info["n_samples"] == 120 and info["n_features"] == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(suite.read_text().replace("target: label", "target: lable"))
    assert_one_line_error(cli("run", "--suite", str(bad)), "parquet file", "no target column 'lable'",
                          "did you mean 'label'")
