"""Start-up stays light: ``dflbench --help``, ``dflbench list`` and a suite's error import neither
torch nor scikit-learn (checked in sys.modules of a fresh interpreter, not by timing); the catalog
they read instead of the registries is tested in test_catalog.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dflbench.cli import list_cmd

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "sklearn", "imblearn", "scipy", "pandas", "matplotlib")

_PROBE = """
import contextlib, io, json, sys
argv = json.loads(sys.argv[1])
if argv is not None:
    from dflbench.cli import main
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    assert code in (0, None), (code, out.getvalue())
    assert out.getvalue().strip(), "nothing printed"
else:
    import dflbench.cli  # noqa: F401
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


def _heavy_modules(argv: list[str] | None) -> list[str]:
    code = _PROBE.replace("{heavy}", repr(set(HEAVY)))
    res = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "", "NO_COLOR": "1"})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [None, ["--help"], ["run", "--help"],
                                  *(["list", w.value] for w in list_cmd.Listing)],
                         ids=lambda a: "import" if a is None else " ".join(a))
def test_no_torch_or_sklearn_is_imported(argv):
    assert _heavy_modules(argv) == []


def test_static_suite_rows_equal_the_loaded_suites():
    static = list_cmd.static_suite_rows()
    assert static is not None and static == list_cmd.loaded_suite_rows()


_BAD_SUITE = """
import contextlib, io, json, sys
from dflbench.cli import main
with contextlib.redirect_stderr(io.StringIO()) as err:
    try:
        main(["run", "--suite", sys.argv[1]])
    except SystemExit as exc:
        code = exc.code
assert code == 2 and err.getvalue().startswith("dflbench: error: "), (code, err.getvalue())
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy})))
"""


@pytest.mark.parametrize("mistake", [
    "losses: [focall]", "losses: [{name: focal, gama: 2}]", "losses: [{name: focal, gamma: -1}]",
    "losses: [{name: ce, sampler: {name: smote, k_neighbors: 0}}]", "losses: [ce]\nmodel: {name: mlp, hidden: [0]}",
    "losses: [ce]\ntrain: {lr: fast}"])
def test_a_suite_error_comes_before_torch_or_sklearn_is_imported(tmp_path, mistake):
    """A suite is checked against the plain-data catalog: its error is one line within a moment
    (``import torch`` alone takes seconds), whatever entry or parameter it names."""
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\ndatasets: [{{name: iris, source: sklearn}}]\n{mistake}\n")
    code = _BAD_SUITE.replace("{heavy}", repr(set(HEAVY)))
    res = subprocess.run([sys.executable, "-c", code, str(path)], check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "", "NO_COLOR": "1"})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []
