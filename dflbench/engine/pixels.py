"""Segmentation in the engine: every labelled pixel is a sample (Hossain, Betts and Paplinski,
"Dual focal loss to address class imbalance in semantic segmentation", Neurocomputing 2021,
apply their loss per pixel).

A segmentation model returns per-pixel logits (K, B, H, W, C) for masks (K, B, H, W); the losses
see them as (K, B·H·W, C) rows and (K, B·H·W) targets. An ignored pixel (a negative value in a
prepared mask: ``dflbench.datasets.IGNORE``, as metrics and counts read it too) counts nowhere: the
losses get a mask that drops it (its target replaced by class 0, a placeholder every loss can
index) and scoring leaves it out.
"""

from __future__ import annotations

from torch import Tensor


def as_rows(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
    """Logits (K, B, [H, W,] C) and targets (K, B[, H, W]) as (K, N, C) rows and (K, N) targets,
    with the mask of counted rows (None when every row counts, as for classification)."""
    k, n_classes = logits.shape[0], logits.shape[-1]
    if targets.dim() == 2:
        return logits, targets, None
    rows, flat = logits.reshape(k, -1, n_classes), targets.reshape(k, -1)
    keep = flat >= 0
    if bool(keep.all()):
        return rows, flat, None
    return rows, flat.clamp(min=0), keep


def scored_pixels(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """Logits (K, N, [H, W,] C) of every model on shared targets (N[, H, W]) as (K, M, C) and
    (M,) over the M counted pixels (rows unchanged for classification)."""
    if targets.dim() == 1:
        return logits, targets
    flat = targets.reshape(-1)
    keep = flat >= 0
    return logits.reshape(logits.shape[0], -1, logits.shape[-1])[:, keep], flat[keep]
