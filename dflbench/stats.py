"""Aggregation over seeds: mean, sample standard deviation and a Student-t 95% interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def describe(values: Sequence[float]) -> dict[str, Any]:
    """``{mean, std, ci95}`` of per-seed values; spread is null (with a note) below two seeds."""
    n = len(values)
    if n == 0:
        return {"mean": None, "std": None, "ci95": None, "note": "no successful runs"}
    mean = math.fsum(values) / n
    if n < 2:
        return {"mean": mean, "std": None, "ci95": None, "note": "one seed: no spread"}
    from scipy.stats import t

    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half]}


def summarize(runs: Sequence[dict[str, Any]], treatments: Sequence[str],
              datasets: Sequence[str]) -> list[dict[str, Any]]:
    """One summary row per (dataset, treatment) over its successful runs, in suite order."""
    rows = []
    for dataset in datasets:
        for treatment in treatments:
            group = [r for r in runs if r["dataset"] == dataset and r["treatment"] == treatment]
            if not group:
                continue
            ok = [r for r in group if r["status"] == "ok"]
            first = group[0]
            row: dict[str, Any] = {
                "dataset": dataset,
                "treatment": treatment,
                "loss": first["loss"],
                "loss_title": first.get("loss_title", first["loss"]),
                "loss_params": first["loss_params"],
                "sampler": first.get("sampler"),
                "sampler_params": first.get("sampler_params", {}),
                "n_seeds": len(ok),
                "n_runs": len(group),
                "metrics": {},
                "per_class": [],
            }
            if ok:
                for name in ok[0]["metrics"]:
                    row["metrics"][name] = describe([r["metrics"][name] for r in ok])
                for c, cls in enumerate(ok[0]["per_class"]):
                    row["per_class"].append({
                        "label": cls["label"],
                        "recall": _mean_std([r["per_class"][c]["recall"] for r in ok]),
                        "f1": _mean_std([r["per_class"][c]["f1"] for r in ok]),
                    })
                learned_names = ok[0].get("train", {}).get("learned", {})
                if learned_names:
                    row["learned"] = {
                        name: _mean_std([r["train"]["learned"][name]["value"] for r in ok])
                        for name in learned_names
                    }
            rows.append(row)
    return rows


def _mean_std(values: Sequence[float]) -> dict[str, Any]:
    d = describe(values)
    return {"mean": d["mean"], "std": d["std"]}
