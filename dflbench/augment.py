"""Light, seeded image augmentation for the batched trainer: random shifts (zero padding) and
horizontal flips, drawn per model from that model's own generator so a model trained inside a
stack sees exactly the augmentations it would see trained alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config imports Augment; torch loads only when a batch is augmented
    import torch
    from torch import Tensor


@dataclass(frozen=True)
class Augment:
    """``shift``: largest shift in pixels along each axis; ``flip``: random horizontal flips."""

    shift: int = 0
    flip: bool = False

    @property
    def active(self) -> bool:
        return self.shift > 0 or self.flip


def augment_batch(x: Tensor, generators: Sequence[torch.Generator], aug: Augment) -> Tensor:
    """Augment a (K, B, C, H, W) batch; model k's draws come from ``generators[k]`` (on the CPU)."""
    import torch
    import torch.nn.functional as F

    k, b, c, h, w = x.shape
    out = x
    if aug.shift > 0:
        s = aug.shift
        offsets = torch.stack([torch.randint(0, 2 * s + 1, (b, 2), generator=g) for g in generators])
        offsets = offsets.reshape(k * b, 2).to(x.device)
        padded = F.pad(x.reshape(k * b, c, h, w), (s, s, s, s))
        rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # (KB, H)
        cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # (KB, W)
        index = torch.arange(k * b, device=x.device)[:, None, None, None]
        channel = torch.arange(c, device=x.device)[None, :, None, None]
        out = padded[index, channel, rows[:, None, :, None], cols[:, None, None, :]].reshape(x.shape)
    if aug.flip:
        flips = torch.stack([torch.rand(b, generator=g) < 0.5 for g in generators]).to(x.device)
        out = torch.where(flips[:, :, None, None, None], out.flip(-1), out)
    return out
