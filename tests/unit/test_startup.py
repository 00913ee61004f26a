"""Start-up stays light: ``dflbench --help`` and ``dflbench list`` import neither torch nor
scikit-learn (checked in sys.modules of a fresh interpreter, not by timing); the catalog ``list``
reads instead of the registries is tested in test_catalog.py."""

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
