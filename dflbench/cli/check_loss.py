"""``dflbench check-loss``: the conformance checks built-in losses pass, run on any loss."""

from __future__ import annotations

from pathlib import Path

import typer

from dflbench.cli import app
from dflbench.cli._common import EXIT_OK, EXIT_REGRESSION


def _params(pairs: list[str] | None) -> dict[str, object]:
    """``k=v`` pairs, each value read as YAML (``gamma=2`` is a number, ``alpha=[1, 2]`` a list)."""
    import yaml

    from dflbench.errors import ConfigError

    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param: '{pair}' is not KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"--param {key}: '{value}' is not a YAML value") from None
    return out


@app.command("check-loss")
def check_loss(
    spec: str = typer.Argument(..., help="A registered loss name, FILE.py:Class or package.module:Class."),
    param: list[str] | None = typer.Option(None, "--param", "-p", metavar="KEY=VALUE",
                                           help="A loss parameter (repeatable); values are YAML."),
    classes: int = typer.Option(3, "--classes", min=2, help="Number of classes of the test batches."),
) -> int:
    """Run the conformance checks on a loss: exit 0 when all pass, 1 when any fails, 2 for a bad spec.

    Checks: per-sample losses of shape (N,) (one value per model for region losses such as
    soft_dice, computed over the whole batch); finite values and gradients at logits ±1e4 and with
    class counts down to 1; invariance to a constant added to every logit; determinism; a stacked
    (K, N, C) evaluation equal to K separate ones; samples scored independently; a few gradient
    steps lowering the loss on a separable toy batch.
    """
    from dflbench.conformance import run_checks
    from dflbench.errors import ConfigError
    from dflbench.losses import LOSSES
    from dflbench.plugins import is_spec

    if is_spec(spec):
        from dflbench.losses._plugin import register

        register(spec, Path.cwd())
    elif spec not in LOSSES:
        from dflbench.errors import unknown

        raise ConfigError(unknown("loss", spec, LOSSES.names()) + "; or give FILE.py:Class")
    results = run_checks(spec, _params(param), classes)
    for check in results:
        typer.echo(f"{'PASS' if check.passed else 'FAIL'}  {check.name:<13} {check.detail}")
    failed = [c.name for c in results if not c.passed]
    typer.echo(f"{spec}: {len(results) - len(failed)} of {len(results)} checks passed"
               + (f"; failed: {', '.join(failed)}" if failed else ""))
    return EXIT_REGRESSION if failed else EXIT_OK
