"""Per-model training rows (issue 12): a sampler's seeds in one stack vs one stack per seed,
measured side by side in one run, models trained per second.

The grid: synthetic-5class of the default suite (4000 samples, 20 features, weights 0.6/0.2/0.1/
0.07/0.03; holdout 0.3), random oversampling to balance (each seed draws its own training set of
the same size), treatments ce, focal, dual_focal, dual_focal_learnable x 5 seeds, mlp [64, 64],
epochs 20, batch 128. 'per seed' trains each seed's resampled set in its own stack (what dflbench
did before); 'one stack' stores the five sets one after the other and gives each model its own
rows (TrainData.rows). Same inits, same batch orders: the same models.

    python benchmarks/bench_rows.py [--epochs N] [--repeats R] [--workers W]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch
from _side_by_side import side_by_side

from dflbench.config import ModelConfig, TrainConfig, parse_suite
from dflbench.engine import Treatment, train_models
from dflbench.metrics import compute_metrics
from dflbench.prepare import prepare
from dflbench.samplers import resample
from dflbench.settings import apply_process_settings

LOSSES = ["ce", "focal", "dual_focal", "dual_focal_learnable"]
SEEDS = [0, 1, 2, 3, 4]
DATASET = {"name": "synthetic-5class", "source": "synthetic", "n_samples": 4000, "n_features": 20,
           "n_informative": 8, "n_classes": 5, "weights": [0.6, 0.2, 0.1, 0.07, 0.03],
           "class_sep": 1.0, "random_state": 7}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    apply_process_settings()  # as `dflbench run` does: comparable figures
    suite = parse_suite({"name": "bench-rows", "datasets": [DATASET], "losses": LOSSES})
    (task,) = prepare(suite)
    fold = task.folds[0]
    model = ModelConfig("mlp", {"hidden": [64, 64]})
    cfg = TrainConfig(epochs=args.epochs, batch_size=128, lr=2e-3)
    treatments = [Treatment(name, name) for name in LOSSES]
    sets = {s: resample("random_over", {}, fold.data.X_train, fold.data.y_train, s) for s in SEEDS}
    counts = np.bincount(sets[0][1], minlength=5).tolist()
    n = len(sets[0][1])
    stacked = replace(fold.data, X_train=np.concatenate([X for X, _ in sets.values()]),
                      y_train=np.concatenate([y for _, y in sets.values()]),
                      rows={s: np.arange(i * n, (i + 1) * n) for i, s in enumerate(SEEDS)})
    device = torch.device("cpu")

    def per_seed() -> list:
        return [o for s in SEEDS for o in train_models(
            replace(fold.data, X_train=sets[s][0], y_train=sets[s][1]), treatments, [s], counts,
            model, cfg, device, workers=args.workers)]

    def one_stack() -> list:
        return train_models(stacked, treatments, SEEDS, counts, model, cfg, device,
                            workers=args.workers)

    def macro_f1(outcomes: list) -> float:
        return float(np.mean([compute_metrics(fold.y_test, o.proba, task.class_names,
                                              fold.minority)[0]["macro_f1"] for o in outcomes]))

    approaches = {"per seed": per_seed, "one stack": one_stack}
    walls, f1 = side_by_side(approaches, args.repeats, macro_f1)
    n_models = len(LOSSES) * len(SEEDS)
    print(f"random_over on synthetic-5class ({n} resampled rows per seed), {len(LOSSES)} losses x "
          f"{len(SEEDS)} seeds = {n_models} models, {args.epochs} epochs, {args.workers} thread(s); "
          f"median of {args.repeats}")
    print(f"{'approach':<12} {'wall (s)':>9} {'models/s':>9} {'vs per seed':>12} {'mean macro-F1':>14}")
    base = walls["per seed"]
    for name in approaches:
        t = walls[name]
        print(f"{name:<12} {t:>9.2f} {n_models / t:>9.2f} {base / t:>11.2f}x {f1[name]:>14.4f}")


if __name__ == "__main__":
    main()
