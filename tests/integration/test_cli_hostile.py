"""Hostile input through the CLI: every input a new user can get wrong is refused before any
training in one line (exit 2, under 300 characters, no traceback), and no result is ever wrong
(a stale cache) or lost (an output that cannot be written)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from dflbench.results import load_result
from tests.conftest import assert_one_line_error, write_suite
from tests.unit.test_compare import craft

REPO = Path(__file__).resolve().parents[2]
FAST = {"seeds": 1, "train": {"epochs": 2, "batch_size": 32, "lr": 0.01}, "losses": ["ce"]}


def refused(res, *needles: str) -> str:
    """The one error line (exit 2, no traceback), under 300 characters."""
    assert_one_line_error(res, *needles)
    line = res.err.strip()
    assert len(line) < 300, (len(line), line)
    return line


def write_csv(path: Path, labels: list[str], shift: float = 0.0) -> Path:
    rows = ["a,b,label"] + [f"{i % 7 + shift},{(i * 3) % 5},{y}" for i, y in enumerate(labels)]
    path.write_text("\n".join(rows) + "\n")
    return path


def csv_suite(path: Path, csv: str | Path, **overrides) -> Path:
    dataset = {"name": "patients", "source": "csv", "path": str(csv), "target": "label"}
    return write_suite(path, **{**FAST, "datasets": [dataset], **overrides})


def metrics(path: Path) -> list:
    return [(r.dataset, r.seed, r.metrics) for r in load_result(path).runs]


# --- the task cache knows the data ------------------------------------------------------------


def test_a_csv_edited_between_two_runs_is_trained_again(cli, tmp_path: Path):
    csv = write_csv(tmp_path / "patients.csv", ["a"] * 60 + ["b"] * 30)
    suite = csv_suite(tmp_path / "s.yaml", csv)
    cache = tmp_path / "cache"
    first = cli("run", "--suite", str(suite), "-q", "--out", str(tmp_path / "1.json"), "--cache-dir", str(cache))
    assert first.code == 0, first.err
    write_csv(csv, ["a"] * 45 + ["b"] * 45, shift=0.5)  # same path, same suite, other data
    second = cli("run", "--suite", str(suite), "-q", "--out", str(tmp_path / "2.json"), "--cache-dir", str(cache))
    assert second.code == 0, second.err
    assert load_result(tmp_path / "2.json").cache["reused"] == []
    assert load_result(tmp_path / "2.json").datasets[0].class_counts["train"] == {"a": 31, "b": 32}
    assert metrics(tmp_path / "1.json") != metrics(tmp_path / "2.json")
    # Unchanged data is reused, and the result says from which run.
    third = cli("run", "--suite", str(suite), "--out", str(tmp_path / "3.json"), "--cache-dir", str(cache))
    reused = load_result(tmp_path / "3.json")
    assert reused.cache["reused"] == ["patients"] and metrics(tmp_path / "3.json") == metrics(tmp_path / "2.json")
    assert reused.cache["origins"]["patients"]["result"] == str(tmp_path / "2.json")
    assert f"reused from the task cache: computed by the run of " \
           f"{load_result(tmp_path / '2.json').created}" in third.out


def test_the_same_suite_in_another_folder_reads_its_own_file(cli, tmp_path: Path, monkeypatch):
    """A relative path resolves against the suite's folder: two folders, two files, two tasks."""
    cache = tmp_path / "cache"
    outs = []
    for folder, labels in (("one", ["a"] * 60 + ["b"] * 30), ("two", ["a"] * 30 + ["b"] * 60)):
        (tmp_path / folder).mkdir()
        write_csv(tmp_path / folder / "patients.csv", labels)
        suite = csv_suite(tmp_path / folder / "s.yaml", "patients.csv")
        monkeypatch.chdir(tmp_path)  # neither folder
        outs.append(tmp_path / f"{folder}.json")
        res = cli("run", "--suite", str(suite), "-q", "--out", str(outs[-1]), "--cache-dir", str(cache))
        assert res.code == 0, res.err
    results = [load_result(p) for p in outs]
    assert results[1].cache["reused"] == []
    assert [r.datasets[0].class_counts["train"] for r in results] == [{"a": 42, "b": 21}, {"a": 21, "b": 42}]
    assert results[0].suite["config"]["datasets"][0]["path"] == str(tmp_path / "one" / "patients.csv")


def test_a_missing_relative_file_is_named_as_written_and_resolved(cli, tmp_path: Path):
    (tmp_path / "proj").mkdir()
    suite = csv_suite(tmp_path / "proj" / "s.yaml", "data/patients.csv")
    line = refused(cli("run", "--suite", str(suite)), "datasets[0] (patients): path: 'data/patients.csv' "
                   f"not found (resolved against the suite's folder: {tmp_path}/proj/data/patients.csv)")
    assert line


# --- output paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(("out", "needle"), [
    ("/proc/dflbench-nope/r.json", "cannot create files in '/proc'"),  # a virtual filesystem
    ("{tmp}", "is a folder; give a file path such as"),
    ("{tmp}/a-file/r.json", "a-file' is a file, not a folder"),
])
def test_an_output_that_cannot_be_written_is_refused_before_training(cli, tmp_path: Path, out, needle):
    (tmp_path / "a-file").write_text("x")
    suite = write_suite(tmp_path / "s.yaml", **FAST)
    refused(cli("run", "--suite", str(suite), "--out", out.format(tmp=tmp_path)), "--out: ", needle)
    assert not (tmp_path / "xdg-cache").exists()  # nothing was trained (nor cached)


def test_an_output_folder_without_permission_is_refused(cli, tmp_path: Path, monkeypatch):
    """Tests run as root, whom permissions never stop: the probe's file creation is made to fail
    as it would for another user."""
    import dflbench.fsio as fsio

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    suite = write_suite(tmp_path / "s.yaml", **FAST)
    monkeypatch.setattr(fsio.tempfile, "mkstemp", denied)
    refused(cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"), "--no-cache"),
            f"--out: cannot write {tmp_path}/r.json: cannot create files in '{tmp_path}' (Permission denied)")


def test_a_result_that_cannot_be_written_after_training_goes_beside_the_cache(cli, tmp_path: Path, monkeypatch):
    import dflbench.results as results

    real, out, cache = results.write_result, tmp_path / "r.json", tmp_path / "cache"

    def disk_full(result, path):
        if path == out:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(result, path)

    monkeypatch.setattr(results, "write_result", disk_full)
    res = cli("run", "--suite", str(write_suite(tmp_path / "s.yaml", **FAST)), "-q", "--out", str(out),
              "--cache-dir", str(cache))
    fallback = tmp_path / "unsaved-results" / "r.json"
    assert res.code == 3 and res.err.strip() == (f"dflbench: error: cannot write {out} (No space left "
                                                 f"on device); wrote the result to {fallback} instead")
    assert {r.dataset for r in load_result(fallback).runs} == {"iris", "syn"}


def test_when_beside_the_cache_fails_too_the_result_goes_to_the_temporary_folder(cli, tmp_path: Path,
                                                                                  monkeypatch):
    import dflbench.results as results

    real = results.write_result
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR

    def only_tmp(result, path):
        if not str(path).startswith(str(tmp_path / "tmp")):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(result, path)

    monkeypatch.setattr(results, "write_result", only_tmp)
    res = cli("run", "--suite", str(write_suite(tmp_path / "s.yaml", **FAST)), "-q", "--no-cache",
              "--out", str(tmp_path / "r.json"))
    fallback = tmp_path / "tmp" / "dflbench-unsaved" / "r.json"
    assert res.code == 3 and f"wrote the result to {fallback} instead" in res.err
    assert load_result(fallback).complete


def test_when_nothing_can_be_written_the_loss_is_one_line(cli, tmp_path: Path, monkeypatch):
    import dflbench.results as results

    def read_only(result, path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(results, "write_result", read_only)
    res = cli("run", "--suite", str(write_suite(tmp_path / "s.yaml", **FAST)), "-q", "--out",
              str(tmp_path / "r.json"), "--cache-dir", str(tmp_path / "cache"))
    assert res.code == 3 and "Traceback" not in res.err
    assert res.err.strip() == (f"dflbench: error: cannot write {tmp_path}/r.json (Read-only file system), nor "
                               "beside the cache or in the temporary folder: the result is lost (the finished "
                               "datasets stay in the task cache)")
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


# --- the data cannot support the suite ----------------------------------------------------------


def test_a_class_without_test_samples_is_refused_with_what_would_work(cli, tmp_path: Path):
    csv = write_csv(tmp_path / "d.csv", ["a"] * 180 + ["b"] * 60 + ["c"] * 3)
    suite = csv_suite(tmp_path / "s.yaml", csv, test_size=0.1)
    line = refused(cli("run", "--suite", str(suite)),
                   "class 'c' has 3 samples and none falls in the test split (test_size 0.1)",
                   "set test_size >= 0.34")
    assert "Warning" not in line
    # What the message says works does: every class is tested, nothing warns.
    ok = csv_suite(tmp_path / "s.yaml", csv, test_size=0.34)
    res = cli("run", "--suite", str(ok), "-q", "--no-cache", "--out", str(tmp_path / "r.json"))
    assert res.code == 0 and res.err == ""
    assert min(load_result(tmp_path / "r.json").datasets[0].class_counts["test"].values()) >= 1


def test_a_sampler_needing_more_neighbours_than_a_class_has_is_refused(cli, tmp_path: Path):
    csv = write_csv(tmp_path / "d.csv", ["a"] * 200 + ["b"] * 12)
    smote = {"name": "smote", "k_neighbors": 10}
    suite = csv_suite(tmp_path / "s.yaml", csv, losses=[{"name": "ce", "sampler": smote}])
    refused(cli("run", "--suite", str(suite)), "losses[0] (ce+smote) on dataset 'patients': sampler 'smote': "
            "k_neighbors=10 needs more than 10 training samples in each class it oversamples; class 'b' has 8 "
            "(set k_neighbors <= 7)")


def test_a_model_too_large_for_memory_is_refused_with_the_figure(cli, tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", **FAST, model={"name": "mlp", "hidden": [200_000, 200_000]})
    line = refused(cli("run", "--suite", str(suite)), "model 'mlp' on dataset 'iris': 1 stacked models need "
                   "about", "GiB", "40,001,800,003 parameters", "is free on cpu")
    assert "use a smaller model, or fewer losses or seeds" in line


def test_an_imbalance_profile_that_flips_a_binary_dataset_warns(cli, tmp_path: Path):
    csv = write_csv(tmp_path / "d.csv", ["a"] * 100 + ["b"] * 300)
    suite = write_suite(tmp_path / "s.yaml", **FAST, datasets=[
        {"name": "bin", "source": "csv", "path": str(csv), "target": "label",
         "imbalance": {"profile": "exponential", "ratio": 10}}])
    res = cli("run", "--suite", str(suite), "--dry-run")
    assert res.code == 0
    assert res.err.strip() == ("dflbench: warning: dataset 'bin': imbalance exponential ratio 10 gives a "
                               "training ratio of 3.3 (a 70, b 21): 'b', the majority, became the minority; "
                               "for ratio 10 give imbalance: {counts: {a: 21}}")
    fixed = write_suite(tmp_path / "s.yaml", **FAST, datasets=[
        {"name": "bin", "source": "csv", "path": str(csv), "target": "label", "imbalance": {"counts": {"a": 21}}}])
    res = cli("run", "--suite", str(fixed), "--dry-run")
    assert res.code == 0 and res.err == ""


def test_an_openml_dataset_not_in_the_cache_fails_offline(cli, tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", **FAST, datasets=[
        {"name": "credit", "source": "openml", "data_id": 31, "cache_dir": str(tmp_path / "skl")}])
    refused(cli("run", "--suite", str(suite)), f"not in the OpenML cache at {tmp_path}/skl/openml "
            "(downloads are off): add download: true")


# --- the suite file and the options -------------------------------------------------------------


@pytest.mark.parametrize(("suite", "needles"), [
    ({"losses": [{"name": "focal", "reduction": "none"}]},
     ["losses[0].reduction: a suite cannot set reduction: the trainer always averages each minibatch"]),
    ({"losses": [{"name": "ce", "sampler": {"name": "smote", "k_neighbors": 0}}]}, ["k_neighbors", ">= 1"]),
    ({"metrics": [{"macro_f1": 1}]}, ["metrics[0]"]),
    ({"metrics": "macro_f1"}, ["metrics: 'macro_f1' is invalid (expected a non-empty list"]),
    ({"split_seed": -1}, ["split_seed: -1 is invalid (expected an integer >= 0)"]),
    ({"seeds": [1, -2]}, ["seeds[1]: -2 is invalid"]),
    ({"datasets": [{"name": "iris", "source": "sklearn", "imbalance": {"profile": "exponentail"}}]},
     ["datasets[0] (iris): unknown imbalance profile 'exponentail'; did you mean 'exponential'?"]),
    ({"model": {"name": "mlp", "hidden": [8, "wide"]}},
     ["model: model 'mlp': parameter 'hidden'[1]: 'wide' is invalid"]),
])
def test_a_bad_suite_value_is_one_line(cli, tmp_path: Path, suite, needles):
    path = write_suite(tmp_path / "s.yaml", **{**FAST, **suite})
    refused(cli("run", "--suite", str(path), "--out", str(tmp_path / "r.json")), *needles)
    assert not (tmp_path / "r.json").exists()


def test_a_number_yaml_reads_as_a_string_is_the_number(cli, tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**FAST, "name": "s", "datasets": [{"name": "iris", "source": "sklearn"}]})
                    .replace("lr: 0.01", "lr: 1e-3"))
    assert "lr: 1e-3" in path.read_text()
    res = cli("run", "--suite", str(path), "--dry-run")
    assert res.code == 0, res.err


@pytest.mark.parametrize(("text", "needle"), [
    ("name: s\nseeds: 1\nseeds: 3\ndatasets: [{name: iris, source: sklearn}]\nlosses: [ce]\n",
     "s.yaml:3:1: invalid YAML: key 'seeds' appears twice in one mapping (first on line 2)"),
    ("name: s\ndatasets: [{name: iris, source: sklearn, source: keel}]\nlosses: [ce]\n",
     "s.yaml:2:42: invalid YAML: key 'source' appears twice"),
    ("name: s\nseeds: [&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
     "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
     "&e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e], "
     "&g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f], &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]]\n"
     "datasets: [{name: iris, source: sklearn}]\nlosses: [ce]\n",
     "invalid YAML: its aliases (*name) expand to more than 100000 values; write the values out"),
    ("name: s\nlosses: &l [*l]\n", "expand to more than 100000 values"),
])
def test_yaml_that_would_silently_mislead_is_refused(cli, tmp_path: Path, text, needle):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    refused(cli("run", "--suite", str(path)), needle)


def test_an_alias_bomb_in_a_loader_parameter_is_never_expanded(cli, tmp_path: Path):
    """Once a value a loader echoes (csv's drop list): refused at once, the message short."""
    bomb = ["&a [x,x,x,x,x,x,x,x,x,x]"] + [f"&{c} [{','.join(['*' + p] * 10)}]"
                                        for p, c in zip("abcdefgh", "bcdefghi")]
    path = tmp_path / "s.yaml"
    dataset = f"{{name: p, source: csv, path: x.csv, target: y, drop: [{', '.join(bomb)}]}}"
    path.write_text(f"name: s\ndatasets: [{dataset}]\nlosses: [ce]\n")
    refused(cli("run", "--suite", str(path)), "expand to more than 100000 values")


def test_a_folder_or_nothing_as_suite(cli, tmp_path: Path):
    refused(cli("run", "--suite", str(tmp_path)), f"--suite: '{tmp_path}' is a folder; give a suite YAML file")
    refused(cli("run", "--suite", ""), "--suite: give a suite YAML file or a shipped suite (")


def test_a_pipe_as_suite_is_read_like_a_file(cli, tmp_path: Path):
    """``--suite <(generate)`` hands dflbench a pipe; relative paths then resolve against the
    current folder."""
    fifo = tmp_path / "suite.fifo"
    os.mkfifo(fifo)
    text = yaml.safe_dump({**FAST, "name": "piped", "datasets": [{"name": "iris", "source": "sklearn"}]})

    def writer() -> None:
        with open(fifo, "w") as fh:
            fh.write(text)

    thread = threading.Thread(target=writer)
    thread.start()
    res = cli("run", "--suite", str(fifo), "--dry-run")
    thread.join(timeout=10)
    assert res.code == 0, res.err
    assert "iris" in res.out


def test_a_tilde_in_the_suite_path_is_home(cli, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_suite(tmp_path / "mine.yaml", **FAST)
    assert cli("run", "--suite", "~/mine.yaml", "--dry-run").code == 0
    refused(cli("run", "--suite", "~/nope.yaml"), f"suite file not found: ~/nope.yaml ({tmp_path}/nope.yaml)")


def test_a_cache_dir_that_is_a_file(cli, tmp_path: Path):
    (tmp_path / "cache").write_text("not a folder")
    suite = write_suite(tmp_path / "s.yaml", **FAST)
    refused(cli("run", "--suite", str(suite), "--cache-dir", str(tmp_path / "cache")),
            f"--cache-dir: cannot keep the task cache in {tmp_path}/cache: '{tmp_path}/cache' is a file")


def test_an_unusable_default_cache_is_a_warning_and_the_run_goes_on(cli, tmp_path: Path, monkeypatch):
    (tmp_path / "xdg").write_text("a file where the cache's folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    suite = write_suite(tmp_path / "s.yaml", **FAST)
    res = cli("run", "--suite", str(suite), "-q", "--out", str(tmp_path / "r.json"))
    assert res.code == 0
    assert res.err.startswith(f"dflbench: warning: cannot keep the task cache in {tmp_path}/xdg/dflbench/tasks")
    assert "running without it" in res.err and load_result(tmp_path / "r.json").complete


@pytest.mark.parametrize(("args", "needle"), [
    (["--backend", "dask", "--scheduler", "foo://127.0.0.1:1"],
     "--scheduler foo://127.0.0.1:1: unknown address scheme 'foo://' for --backend dask (valid: tcp://"),
    (["--backend", "dask", "--scheduler", "tcp://"], "no host after 'tcp://'"),
    (["--backend", "ray", "--scheduler", "tcp://127.0.0.1:1"], "unknown address scheme 'tcp://' for --backend ray"),
])
def test_a_scheduler_address_of_an_unknown_scheme(cli, tmp_path: Path, args, needle):
    suite = write_suite(tmp_path / "s.yaml", **FAST)
    refused(cli("run", "--suite", str(suite), "--out", str(tmp_path / "r.json"), *args), needle)


# --- the CI gate ---------------------------------------------------------------------------------


def _json(path: Path, data: dict) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_the_gate_does_not_pass_on_nothing(cli, tmp_path: Path):
    base = _json(tmp_path / "base.json", craft())
    other = _json(tmp_path / "other.json", craft(datasets={"iris": ["a", "b", "c"]}))
    refused(cli("compare", base, other, "--max-drop", "0.02"),
            f"--max-drop: nothing to gate: no (dataset, treatment) pair of {other} is in the baseline "
            "(baseline: wine/ce, wine/focal and 4 more; this file: iris/ce, iris/focal and 1 more)")
    assert cli("compare", base, other).code == 0  # without a gate, a report of what did not align


def test_the_gate_needs_a_finite_baseline_value(cli, tmp_path: Path):
    failed = {("wine", "focal", s): "failed" for s in (0, 1, 2)}
    base = _json(tmp_path / "base.json", craft(status=failed))
    cand = _json(tmp_path / "cand.json", craft())
    refused(cli("compare", base, cand, "--max-drop", "0.02"),
            f"--max-drop: the baseline {base} has no finite macro_f1 for wine / focal")
    doc = craft()
    for run in doc["runs"]:
        run["metrics"]["macro_f1"] = None  # a non-finite value, as result files store it
    nulls = _json(tmp_path / "nulls.json", doc)
    refused(cli("compare", nulls, cand, "--max-drop", "0.02"), "has no finite macro_f1 for wine / ce")
    assert cli("compare", nulls, cand, "--max-drop", "0.02", "--metric", "mcc").code == 0


def test_compare_names_what_differs_between_the_configurations(cli, tmp_path: Path):
    a, b = craft(), craft()
    a["suite"]["config"] = {"train": {"epochs": 30, "lr": 0.001}, "losses": [{"name": "focal", "gamma": 2.0}]}
    b["suite"]["config"] = {"train": {"epochs": 10, "lr": 0.001}, "losses": [{"name": "focal", "gamma": 2.0}]}
    b["suite"]["sha256"] = "1" * 64
    res = cli("compare", _json(tmp_path / "a.json", a), _json(tmp_path / "b.json", b))
    assert res.code == 0
    assert "was run with a different configuration than the baseline: train.epochs 30 → 10" in res.out


# --- Ctrl-C with several jobs --------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_with_jobs_stops_workers_at_once_and_keeps_finished_tasks(tmp_path: Path):
    suite = write_suite(tmp_path / "s.yaml", seeds=1, train={"epochs": 400, "batch_size": 32, "lr": 0.01},
                        datasets=[{"name": "iris", "source": "sklearn"},
                                  {"name": "big", "source": "synthetic", "n_samples": 8000, "n_features": 20},
                                  {"name": "big2", "source": "synthetic", "n_samples": 8000, "n_features": 20,
                                   "random_state": 3}], losses=["ce"])
    out = tmp_path / "r.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    proc = subprocess.Popen([sys.executable, "-m", "dflbench", "run", "--suite", str(suite), "--out", str(out),
                             "--jobs", "2"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env, start_new_session=True)
    deadline, line = time.monotonic() + 240, ""
    while "iris" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
    assert "[1/3] iris done" in line
    time.sleep(1.0)  # both big datasets are training (each takes far longer than a minute)
    proc.send_signal(signal.SIGINT)  # the parent alone, as `kill -INT` or a job scheduler would
    sent = time.monotonic()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, err
    assert time.monotonic() - sent < 30, "the workers were waited for instead of stopped"
    assert "Traceback" not in err and "interrupted" in err
    partial = json.loads(out.read_text())
    assert partial["complete"] is False and [d["name"] for d in partial["datasets"]] == ["iris"]
