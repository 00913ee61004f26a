"""The shipped segmentation suite (issue 17) as a user runs it, and its inner loop, side by side.

1. The whole command, imports included: ``dflbench run --suite segmentation --no-cache`` in a
   fresh process (3 datasets x 8 losses x 3 seeds of a U-Net, 30 epochs), its wall time against
   the 5-minute budget on 2 cores.
2. The inner loop, one dataset: its 24 (loss x seed) U-Nets trained as the engine trains them
   (one stack per loss head, split into sub-stacks) against one stack per loss (8 stacks of 3
   seeds), measured side by side in one run; the same models either way.

    python benchmarks/bench_segmentation.py [--epochs N] [--repeats R] [--device cpu|cuda]
        [--skip-command]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import replace

from _side_by_side import side_by_side

BUDGET_S = 300.0


def whole_command(device: str) -> float:
    """Wall seconds of the shipped suite's run command in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dflbench", "run", "--suite", "segmentation", "--no-cache",
                    "-q", "--device", device, "--out", "/dev/null"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def inner_loop(epochs: int, repeats: int, device: str) -> None:
    import numpy as np
    import torch

    from dflbench.config import load_suite
    from dflbench.engine import Treatment, resolve_device, train_models
    from dflbench.prepare import prepare_task

    suite = load_suite("segmentation")
    fold = prepare_task(suite.datasets[0], suite).folds[0]
    train = replace(suite.train, epochs=epochs)
    treatments = [Treatment(lo.label, lo.name, dict(lo.params)) for lo in suite.losses]
    dev = resolve_device(device)
    torch.set_num_threads(1)

    def engine() -> list:
        return train_models(fold.data, treatments, suite.seeds, fold.fit_counts, suite.model, train,
                            dev, workers=2)

    def per_loss() -> list:
        return [o for t in treatments for o in train_models(
            fold.data, [t], suite.seeds, fold.fit_counts, suite.model, train, dev, workers=2)]

    def score(outcomes: list) -> float:
        return float(np.mean([o.proba.argmax(-1).mean() for o in outcomes if o.proba is not None]))

    times, scores = side_by_side({"engine (one stack)": engine, "one stack per loss": per_loss},
                                 repeats, score)
    base = times["engine (one stack)"]
    print(f"\ninner loop: {len(treatments)} losses x {len(suite.seeds)} seeds on "
          f"{suite.datasets[0].name} ({len(fold.data.X_train)} training images), {epochs} epochs, "
          f"median of {repeats}")
    for name, seconds in times.items():
        print(f"  {name:22s} {seconds:7.2f} s   {seconds / base:5.2f}x   "
              f"(mean predicted class {scores[name]:.4f})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the inner-loop runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--skip-command", action="store_true", help="time the inner loop only")
    args = parser.parse_args(argv)
    if not args.skip_command:
        seconds = whole_command(args.device)
        print(f"dflbench run --suite segmentation (whole command, imports included): "
              f"{seconds:.1f} s = {seconds / BUDGET_S:.2f} x the {BUDGET_S:.0f} s budget")
    inner_loop(args.epochs, args.repeats, args.device)


if __name__ == "__main__":
    main()
