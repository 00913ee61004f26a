"""Batched vs sequential training of the small CNN (issue 6), measured side by side in one run.

The grid: digits-LT-10 (scikit-learn's 8x8 digits, exponential imbalance ratio 10 on the train
split), cnn channels [16, 32], the six losses of the DFL paper x 5 seeds, 20 epochs, batch 64.
'batched' trains all 30 models as one stack (grouped convolutions; two sub-stacks, one after the
other on one thread, or at once on two when the machine has two cores: 'batched, 2 threads');
'sequential' trains the same 30 models one at a time through the same engine (a stack of one).
Same inits, same batch orders, so all give the same models up to float summation order.

    python benchmarks/bench_cnn.py [--epochs N] [--repeats R]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _side_by_side import side_by_side

from dflbench.config import ModelConfig, TrainConfig, parse_suite
from dflbench.engine import Treatment, train_models
from dflbench.metrics import compute_metrics
from dflbench.runner import available_cores, prepare
from dflbench.settings import apply_process_settings

LOSSES = ["ce", "weighted_ce", "dual_ce", "focal", "dual_focal", "dual_focal_learnable"]
SEEDS = [0, 1, 2, 3, 4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    apply_process_settings()  # as `dflbench run` does: comparable figures
    suite = parse_suite({
        "name": "bench-cnn", "seeds": 5, "model": {"name": "cnn", "channels": [16, 32]},
        "train": {"epochs": args.epochs, "batch_size": 64, "lr": 2e-3},
        "datasets": [{"name": "digits-LT-10", "source": "digits",
                      "imbalance": {"profile": "exponential", "ratio": 10}}],
        "losses": LOSSES,
    })
    (task,) = prepare(suite)
    fold = task.folds[0]  # the suite's single holdout split
    model = ModelConfig("cnn", {"channels": [16, 32]})
    cfg = TrainConfig(epochs=args.epochs, batch_size=64, lr=2e-3)
    treatments = [Treatment(name, name) for name in LOSSES]
    device = torch.device("cpu")

    def batched(workers: int = 1) -> list:
        return train_models(fold.data, treatments, SEEDS, fold.fit_counts, model, cfg, device,
                            workers=workers)

    def sequential() -> list:
        return [out for t in treatments for s in SEEDS
                for out in train_models(fold.data, [t], [s], fold.fit_counts, model, cfg, device)]

    def macro_f1(outcomes: list) -> float:
        return float(np.mean([compute_metrics(fold.y_test, o.proba, task.class_names,
                                              fold.minority)[0]["macro_f1"] for o in outcomes]))

    approaches = {"sequential": sequential, "batched": batched}
    if available_cores() >= 2:
        approaches["batched, 2 threads"] = lambda: batched(workers=2)
    walls, f1 = side_by_side(approaches, args.repeats, macro_f1)
    n_train = len(fold.data.y_train)
    print(f"CNN [16, 32] on digits-LT-10 ({n_train} training images 1x8x8), {len(LOSSES)} losses x "
          f"{len(SEEDS)} seeds = {len(LOSSES) * len(SEEDS)} models, {args.epochs} epochs, batch 64, "
          f"1 torch thread per engine thread; median of {args.repeats}")
    print(f"{'approach':<20} {'wall (s)':>9} {'vs sequential':>14} {'mean macro-F1':>14}")
    base = walls["sequential"]
    for name in approaches:
        wall = walls[name]
        print(f"{name:<20} {wall:9.2f} {base / wall:13.2f}x {f1[name]:14.4f}")


if __name__ == "__main__":
    main()
