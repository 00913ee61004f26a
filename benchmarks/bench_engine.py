"""The batched engine against a plain per-model PyTorch loop with a DataLoader, in one run.

The grid: a synthetic 5-class set (make_classification, weights 0.6/0.2/0.1/0.07/0.03), 20,000
training rows × 32 features (and 5,000 test rows), an MLP 32→64→64→5, 30 epochs at batch 256,
Adam (lr 1e-3), the six losses of the DFL paper × 5 seeds: 30 models.

- **plain loop**: one model at a time, ``nn.Linear`` layers, ``DataLoader`` over a
  ``TensorDataset``, ``torch.optim.Adam``; each model starts from the engine's initialisation for
  its seed and draws the same minibatch order (``SubsetRandomSampler`` with the seed's generator), so
  the two approaches train the same 30 models and their test macro-F1 can be compared pairwise.
- **engine**: ``dflbench.engine.train_models``, all 30 models in one stack.

Prints both wall times, the ratio, each approach's mean test macro-F1 (and per loss), and the
engine's achieved GFLOP/s against a measured float32 matmul peak at the same thread count.
``--profile`` prints the torch profiler's top operators for two engine epochs.

    PYTHONPATH=. python benchmarks/bench_engine.py              # the full grid (~3 minutes)
    PYTHONPATH=. python benchmarks/bench_engine.py --quick      # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOSSES = ["ce", "weighted_ce", "dual_ce", "focal", "dual_focal", "dual_focal_learnable"]
WEIGHTS = [0.6, 0.2, 0.1, 0.07, 0.03]


def make_data(n_train: int, n_test: int, n_features: int, seed: int = 0):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=n_train + n_test, n_features=n_features,
                               n_informative=n_features // 2, n_redundant=4, n_classes=len(WEIGHTS),
                               weights=WEIGHTS, class_sep=1.0, random_state=seed)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=n_test, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return (scaler.transform(X_tr).astype(np.float32), y_tr.astype(np.int64),
            scaler.transform(X_te).astype(np.float32), y_te.astype(np.int64))


def macro_f1(y_true: np.ndarray, proba: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, proba.argmax(axis=1), labels=range(len(WEIGHTS)),
                          average="macro", zero_division=0))


def plain_loop(X, y, X_test, seeds, hidden, epochs, batch, lr) -> dict[tuple[str, int], np.ndarray]:
    """Every (loss, seed) model trained alone: the loop a PyTorch user would write."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset

    from dflbench.losses import get_loss
    from dflbench.models import StackedMLP

    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    counts = np.bincount(y, minlength=len(WEIGHTS)).tolist()
    out = {}
    for name in LOSSES:
        for seed in seeds:
            init = StackedMLP(n_models=1, n_features=X.shape[1], n_classes=len(WEIGHTS),
                              seeds=[seed], hidden=list(hidden)).layers(0)
            layers: list[nn.Module] = []
            for i, (w, b) in enumerate(init):
                lin = nn.Linear(w.shape[1], w.shape[0])
                with torch.no_grad():
                    lin.weight.copy_(w)
                    lin.bias.copy_(b)
                layers += [lin] if i == len(init) - 1 else [lin, nn.ReLU()]
            model = nn.Sequential(*layers)
            loss = get_loss(name, class_counts=counts)
            groups = [{"params": list(model.parameters())}]
            if list(loss.parameters()):
                groups.append({"params": list(loss.parameters()), "weight_decay": 0.0})
            opt = torch.optim.Adam(groups, lr=lr)
            # One randperm per epoch from the seed's generator, as the engine draws it
            # (RandomSampler would draw a second, unused one at the end of every epoch).
            sampler = SubsetRandomSampler(range(len(dataset)),
                                          generator=torch.Generator().manual_seed(seed))
            loader = DataLoader(dataset, batch_size=batch, sampler=sampler)
            model.train()
            for _ in range(epochs):
                for xb, yb in loader:
                    opt.zero_grad()
                    loss(model(xb), yb).backward()
                    opt.step()
            model.eval()
            with torch.no_grad():
                out[(name, seed)] = loss.probabilities(model(torch.as_tensor(X_test))).numpy()
    return out


def engine(X, y, X_test, seeds, hidden, epochs, batch, lr, workers=1) -> dict[tuple[str, int], np.ndarray]:
    import torch

    from dflbench.config import ModelConfig, TrainConfig
    from dflbench.engine import TrainData, Treatment, train_models

    data = TrainData(X, y, None, None, X_test, len(WEIGHTS))
    outcomes = train_models(data, [Treatment(n, n) for n in LOSSES], seeds,
                            np.bincount(y, minlength=len(WEIGHTS)).tolist(),
                            ModelConfig("mlp", {"hidden": list(hidden)}),
                            TrainConfig(epochs=epochs, batch_size=batch, lr=lr),
                            torch.device("cpu"), workers=workers)
    return {(o.treatment, o.seed): o.proba for o in outcomes}


def matmul_peak() -> float:
    """Best float32 GFLOP/s of large square matmuls at the current thread count."""
    import torch

    best = 0.0
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        reps = max(2, int(4e9 / (2 * n**3)))
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - t) / 1e9)
    return best


def train_flop(n_features, hidden, n_classes, n_rows, epochs, n_models) -> float:
    """FLOPs of the matmuls of training: forward, weight gradients, and input gradients of every
    layer but the first (ReLU, bias, loss and optimizer work are not counted)."""
    dims = [n_features, *hidden, n_classes]
    macs = sum(a * b for a, b in pairwise(dims))  # forward, per row
    macs_dx = sum(a * b for a, b in pairwise(dims[1:]))
    return 2.0 * (2 * macs + macs_dx) * n_rows * epochs * n_models


def profile_engine(X, y, X_test, seeds, hidden, batch, lr) -> None:
    from torch.profiler import ProfilerActivity, profile

    engine(X, y, X_test, seeds, hidden, 1, batch, lr)  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        engine(X, y, X_test, seeds, hidden, 2, batch, lr)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="training rows")
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of the plain loop [1: its fastest on the 2-core machine]")
    parser.add_argument("--engine-threads", type=int, default=1,
                        help="torch threads of the engine [1, as dflbench run uses]")
    parser.add_argument("--workers", type=int, default=None,
                        help="engine sub-stacks trained at once [the available cores, as dflbench run]")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--skip-plain", action="store_true", help="time the engine only")
    parser.add_argument("--profile", action="store_true", help="profile two engine epochs")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.seeds, args.epochs = 3_000, 2, 3

    import torch

    from dflbench.runner import available_cores
    from dflbench.settings import apply_process_settings

    workers = args.workers or available_cores()
    torch.set_num_threads(args.threads)
    apply_process_settings()  # as `dflbench run` does: comparable figures
    hidden = (64, 64)
    X, y, X_test, y_test = make_data(args.rows, args.rows // 4, args.features)
    seeds = list(range(args.seeds))
    common = (X, y, X_test, seeds, hidden, args.epochs, args.batch, args.lr)
    n_models = len(LOSSES) * len(seeds)
    print(f"grid: {len(X)}x{X.shape[1]} train, {len(X_test)} test, MLP {X.shape[1]}-64-64-5, "
          f"{args.epochs} epochs, batch {args.batch}, {len(LOSSES)} losses x {len(seeds)} seeds "
          f"= {n_models} models; torch {torch.__version__}; plain loop: {args.threads} torch "
          f"thread(s); engine: {workers} sub-stack(s) at once, {args.engine_threads} torch thread(s) each")
    if args.profile:
        profile_engine(X, y, X_test, seeds, hidden, args.batch, args.lr)
        return

    results, seconds = {}, {}
    runs = [("engine", engine)] if args.skip_plain else [("plain loop", plain_loop), ("engine", engine)]
    for label, fn in runs:
        torch.set_num_threads(args.engine_threads if label == "engine" else args.threads)
        t = time.perf_counter()
        results[label] = fn(*common, **({"workers": workers} if label == "engine" else {}))
        seconds[label] = time.perf_counter() - t
    cores = workers * args.engine_threads
    torch.set_num_threads(cores)
    peak = matmul_peak()  # on as many cores as the engine used
    f1 = {label: {key: macro_f1(y_test, p) for key, p in res.items()} for label, res in results.items()}

    print(f"\n{'approach':<12}{'wall s':>9}{'vs loop':>9}{'mean macro-F1':>15}{'sd':>8}")
    base = seconds.get("plain loop")
    for label in results:
        values = list(f1[label].values())
        ratio = f"{base / seconds[label]:.1f}x" if base else "-"
        print(f"{label:<12}{seconds[label]:>9.1f}{ratio:>9}{statistics.mean(values):>15.4f}"
              f"{statistics.stdev(values) if len(values) > 1 else 0.0:>8.4f}")
    print(f"\n{'loss':<22}" + "".join(f"{label:>14}" for label in results))
    for name in LOSSES:
        cells = [statistics.mean(f1[label][(name, s)] for s in seeds) for label in results]
        print(f"{name:<22}" + "".join(f"{c:>14.4f}" for c in cells))
    if base:
        diffs = [abs(f1["engine"][k] - f1["plain loop"][k]) for k in f1["engine"]]
        print(f"\nper-model |macro-F1 engine - plain loop|: mean {statistics.mean(diffs):.4f}, "
              f"max {max(diffs):.4f} (same init and minibatch order; float summation order only)")
    flop = train_flop(X.shape[1], hidden, len(WEIGHTS), len(X), args.epochs, n_models)
    rate = flop / seconds["engine"] / 1e9
    print(f"\nengine: {rate:.1f} GFLOP/s of model matmuls, against a measured float32 matmul peak "
          f"of {peak:.1f} GFLOP/s on {cores} core(s): {100 * rate / peak:.0f}%")

if __name__ == "__main__":
    main()
