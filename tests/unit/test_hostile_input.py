"""Hostile input: arbitrary YAML and JSON give a valid object or a dflbench error, nothing else."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dflbench import catalog
from dflbench.config import load_suite, parse_suite
from dflbench.errors import DflbenchError, ResultFileError
from dflbench.results import load_result, parse_result

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
keys = st.sampled_from(["name", "seeds", "datasets", "losses", "train", "model", "metrics", "source",
                        "imbalance", "epochs", "profile", "ratio", "gamma", "schema_version", "runs",
                        "summary", "suite", "dataset", "treatment", "status", "metrics", "mean"]) | st.text(max_size=8)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(keys, inner, max_size=6), max_leaves=30)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_result() -> dict:
    stat = {"mean": 0.5, "std": 0.1, "ci95": [0.4, 0.6]}
    return {
        "schema_version": 1, "dflbench_version": "0.1.0", "created": "2026-01-01T00:00:00Z",
        "complete": True, "cache": {"reused": [], "computed": ["d"]},
        "suite": {"name": "s", "sha256": "0" * 64, "config": {"metrics": ["macro_f1"]}},
        "environment": {"torch": "2", "device": "cpu"},
        "datasets": [{"name": "d", "source": "sklearn", "description": "x", "n_samples": 10,
                      "n_features": 2, "n_classes": 2, "class_names": ["a", "b"],
                      "class_counts": {"train": {"a": 5, "b": 2}, "test": {"a": 2, "b": 1}},
                      "imbalance": None, "imbalance_ratio": 2.5, "minority_class": "b"}],
        "runs": [{"dataset": "d", "treatment": "ce", "loss": "ce", "loss_params": {}, "seed": 0,
                  "status": "ok", "train": {}, "metrics": {"macro_f1": 0.5},
                  "per_class": [{"label": "a", "support": 2, "precision": 1.0, "recall": 1.0, "f1": 1.0}],
                  "class_counts": {"train": {"a": 5, "b": 2}, "test": {"a": 2, "b": 1}}}],
        "summary": [{"dataset": "d", "treatment": "ce", "loss": "ce", "loss_title": "CE",
                     "loss_params": {"gamma": 2}, "sampler": None, "n_seeds": 1, "n_runs": 1,
                     "metrics": {"macro_f1": stat},
                     "per_class": [{"label": "a", "recall": {"mean": 1.0, "std": None},
                                    "f1": {"mean": 1.0, "std": None}}]}],
    }



@SETTINGS
@given(documents)
@example({"name": "x", "datasets": [{"name": "iris", "source": "sklearn"}], "losses": ["ce"]})
def test_any_suite_mapping_is_valid_or_a_dflbench_error(doc):
    try:
        suite = parse_suite(doc, source="fuzz.yaml")
    except DflbenchError as exc:
        assert str(exc).startswith("fuzz.yaml: ") and "\n" not in str(exc)
    else:
        assert suite.datasets and suite.losses


@SETTINGS
@given(st.text(max_size=200))
def test_any_yaml_text_is_valid_or_a_dflbench_error(tmp_path: Path, text: str):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_suite(str(path))
    except DflbenchError:
        pass


@SETTINGS
@given(documents)
@example(_valid_result())
def test_any_json_document_is_a_valid_result_or_a_dflbench_error(doc):
    try:
        result = parse_result(doc, "fuzz.json")
    except DflbenchError as exc:
        assert str(exc).startswith("fuzz.json: ") and "\n" not in str(exc)
    else:
        assert result.runs and result.runs[0].dataset == "d"


@SETTINGS
@given(st.binary(max_size=200))
def test_any_bytes_are_a_valid_result_or_a_dflbench_error(tmp_path: Path, blob: bytes):
    path = tmp_path / "fuzz.json"
    path.write_bytes(blob)
    try:
        load_result(path)
    except DflbenchError:
        pass


def test_yaml_tags_are_never_constructed(tmp_path: Path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(DflbenchError, match="invalid YAML"):
        load_suite(str(path))
    assert not marker.exists()


def test_result_files_are_plain_json(tmp_path: Path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 1, "__class__": "os.system"}))
    with pytest.raises(ResultFileError, match="missing 'dflbench_version'"):
        load_result(path)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


PATHS = [p for p in _paths(_valid_result()) if p]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.booleans(), scalars | st.lists(scalars, max_size=2)
                          | st.dictionaries(keys, scalars, max_size=2)), min_size=1, max_size=3))
def test_a_damaged_result_renders_or_is_refused_with_one_line(mutations):
    """Delete or replace values anywhere in a valid result: `show` must render or refuse cleanly."""
    from rich.console import Console

    from dflbench.compare import compare_results, parse_allowance
    from dflbench.report import renderer

    doc = _valid_result()
    for path, delete, value in mutations:
        parent = doc
        try:
            for step in path[:-1]:
                parent = parent[step]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        result = parse_result(json.loads(json.dumps(doc)), "damaged.json")
    except DflbenchError:
        return
    console = Console(file=io.StringIO(), width=120)
    console.print(renderer("table").suite(result))
    assert "# dflbench: " in renderer("markdown").suite(result)
    # compare reads the same files: a damaged candidate against an intact baseline.
    comparison = compare_results(parse_result(_valid_result()), [("damaged.json", result)],
                                 ["macro_f1"], parse_allowance("0.02"), per_class=True)
    console.print(renderer("table").comparison(comparison))
    assert "## dflbench compare" in renderer("markdown").comparison(comparison)
    assert json.loads(renderer("json").comparison(comparison))["kind"] == "dflbench-compare"


# --- suites whose entries get random parameter values of every type ------------------------------


anything = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8) | st.sampled_from(["1e-3", "mean", "auto", "~", "", "../x.csv"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=6)


@st.composite
def entry_params(draw, kind: str, name: str, values=anything) -> dict:
    """Some of the entry's catalog parameters (now and then a misspelt one), each with a value of
    any type."""
    names = [p["name"] for p in catalog.kind(kind)._entries[name]["parameters"] if p["name"] != "name"]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=3)) if names else []
    if draw(st.integers(0, 9)) == 0:
        chosen.append(draw(st.sampled_from(["gama", "reduction", "k_neighbours", "n_models"])))
    return {key: draw(values) for key in chosen}


@st.composite
def entries(draw, kind: str, values=anything) -> tuple[str, dict]:
    name = draw(st.sampled_from(catalog.kind(kind).names()))
    return name, draw(entry_params(kind, name, values))


@st.composite
def suites(draw) -> dict:
    loss, loss_params = draw(entries("losses"))
    model, model_params = draw(entries("models"))
    source = draw(st.sampled_from(["sklearn", "synthetic", "csv", "idx", "openml", "keel"]))
    dataset = {"name": "iris", "source": source, **draw(entry_params("datasets", source))}
    losses: list = [{"name": loss, **loss_params}]
    if draw(st.booleans()):
        sampler, sampler_params = draw(entries("samplers"))
        losses.append({"name": "ce", "sampler": {"name": sampler, **sampler_params}})
    return {"name": "fuzz", "seeds": draw(anything | st.integers(1, 3)), "split_seed": draw(anything),
            "model": {"name": model, **model_params}, "train": {"lr": draw(anything)},
            "datasets": [dataset], "losses": losses}


@SETTINGS
@given(suites())
def test_any_parameter_value_of_any_entry_is_valid_or_one_line(tmp_path: Path, doc):
    try:
        suite = parse_suite(doc, source="fuzz.yaml", base=tmp_path)
    except DflbenchError as exc:
        assert str(exc).startswith("fuzz.yaml: ") and "\n" not in str(exc) and len(str(exc)) < 400
    else:
        assert suite.losses[0].name == doc["losses"][0]["name"]


@SETTINGS
@given(st.sampled_from(catalog.KINDS).flatmap(lambda kind: st.tuples(st.just(kind), entries(kind))))
def test_the_catalog_and_the_registry_check_parameters_alike(case):
    """Suites are checked against the catalog before torch is imported; the registries check
    again when entries are built: both must accept the same values and say the same thing."""
    from dflbench.datasets import SOURCES
    from dflbench.losses import LOSSES
    from dflbench.losses import RESERVED as LOSS_RESERVED
    from dflbench.models import MODELS
    from dflbench.models import RESERVED as MODEL_RESERVED
    from dflbench.registry import LOSS_TRAINER_OWNED
    from dflbench.samplers import RESERVED as SAMPLER_RESERVED
    from dflbench.samplers import SAMPLERS

    kind, (name, params) = case
    registry, reserved = {"losses": (LOSSES, (*LOSS_RESERVED, *LOSS_TRAINER_OWNED)),
                          "datasets": (SOURCES, ("name",)), "models": (MODELS, MODEL_RESERVED),
                          "samplers": (SAMPLERS, SAMPLER_RESERVED)}[kind]
    outcomes = []
    for check in (catalog.kind(kind).check_params, registry.check_params):
        try:
            outcomes.append(("ok", check(name, params, reserved=reserved)))
        except DflbenchError as exc:
            outcomes.append(("error", str(exc)))
    assert outcomes[0] == outcomes[1]


small = st.none() | st.booleans() | st.integers(-3, 40) | st.floats(-3, 40) | st.just(float("nan")) \
    | st.text(max_size=4) | st.lists(st.integers(-2, 12) | st.floats(-1, 2), max_size=4)


@SETTINGS
@given(entries("losses", small))
def test_a_loss_the_suite_accepts_is_built_or_refused_with_a_message(case):
    """What ``dflbench.prepare.check_losses`` turns into one line (DflbenchError, ValueError,
    TypeError) is all a loss may raise when built from a suite's values: anything else would be
    a traceback."""
    from dflbench.losses import get_loss

    name, params = case
    try:
        doc = {"name": "f", "datasets": [{"name": "iris", "source": "sklearn"}],
               "losses": [{"name": name, **params}]}
        suite = parse_suite(doc, source="fuzz.yaml")
    except DflbenchError:
        return
    try:
        get_loss(name, class_counts=[30, 5, 2], **suite.losses[0].params)
    except (DflbenchError, ValueError, TypeError) as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(entries("models", small))
def test_a_model_the_suite_accepts_is_built_or_refused_with_a_message(case):
    from dflbench.models import build_model

    name, params = case
    try:
        doc = {"name": "f", "datasets": [{"name": "iris", "source": "sklearn"}], "losses": ["ce"],
               "model": {"name": name, **params}}
        suite = parse_suite(doc, source="fuzz.yaml")
    except DflbenchError:
        return
    for shape in ((4,), (1, 8, 8)):
        try:
            build_model(name, suite.model.params, n_models=2, input_shape=shape, n_classes=3, seeds=[0, 1])
        except (DflbenchError, ValueError, TypeError) as exc:
            assert "\n" not in str(exc)
