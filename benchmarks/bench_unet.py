"""How to run K stacked U-Nets on a CPU (issue 17), measured side by side in one run.

One training step (forward, and backward through autograd; no optimizer) of K = 12 U-Nets, depth 2,
width 8, on a batch of 32 images 3x32x32 per model, 4 classes, on one torch thread: what one engine
thread does for a sub-stack of the shipped segmentation suite. The approaches:

- how the K models run: one after the other ('loop': each model's own convolutions) or as one
  grouped convolution ('grouped': groups=K, models stacked as channel groups, as the cnn does, the
  skip concatenated within each model's group);
- the memory format: NCHW, or channels-last ('cl');
- one 3x3 convolution per level, or the paper's two ('2 convs');
- going up by a 2x2 transposed convolution halving the channels (the paper's up-convolution), or
  by nearest-neighbour upsampling ('nearest', the following convolution then reads more channels).

'shipped' is dflbench's StackedUNet (loop, channels-last, one convolution, up-convolution); the
approaches with its architecture start from its weights and so report its loss.

    python benchmarks/bench_unet.py [--steps N] [--repeats R]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _side_by_side import side_by_side
from torch import Tensor

from dflbench.models import build_model
from dflbench.settings import apply_process_settings

K, BATCH, SHAPE, CLASSES, DEPTH, WIDTH = 12, 32, (3, 32, 32), 4, 2, 8


def make_params(convs: int, up: str, shipped: torch.nn.Module) -> dict[str, Tensor]:
    """The weights of a U-Net variant: the shipped model's for its own architecture, else random
    (only the timing matters)."""
    if (convs, up) == (1, "transpose"):
        down, ups = list(shipped.down), list(shipped.up)
        p = {f"d{level}0{t}": down[2 * level + i] for level in range(DEPTH + 1)
             for i, t in enumerate("wb")}
        for j, level in enumerate(reversed(range(DEPTH))):
            p |= {f"t{level}w": ups[4 * j], f"t{level}b": ups[4 * j + 1],
                  f"u{level}0w": ups[4 * j + 2], f"u{level}0b": ups[4 * j + 3]}
        return p | {"hw": shipped.head_weight, "hb": shipped.head_bias}
    g = torch.Generator().manual_seed(0)
    p: dict[str, Tensor] = {}

    def add(name: str, *shape: int) -> None:
        p[name] = ((torch.rand(K, *shape, generator=g) - 0.5) * 0.4).requires_grad_()

    in_ch = SHAPE[0]
    for level in range(DEPTH + 1):
        out_ch = WIDTH * 2 ** level
        for i in range(convs):
            add(f"d{level}{i}w", out_ch, in_ch if i == 0 else out_ch, 3, 3)
            add(f"d{level}{i}b", out_ch)
        in_ch = out_ch
    for level in reversed(range(DEPTH)):
        out_ch = WIDTH * 2 ** level
        if up == "transpose":
            add(f"t{level}w", in_ch, out_ch, 2, 2)
            add(f"t{level}b", out_ch)
        cat = 2 * out_ch if up == "transpose" else in_ch + out_ch
        for i in range(convs):
            add(f"u{level}{i}w", out_ch, cat if i == 0 else out_ch, 3, 3)
            add(f"u{level}{i}b", out_ch)
        in_ch = out_ch
    add("hw", CLASSES, in_ch)
    add("hb", CLASSES)
    return p


def loop_forward(p: dict[str, Tensor], x: Tensor, convs: int, up: str, cl: bool) -> Tensor:
    """Each model's own convolutions, one model after the other."""
    out = []
    for k in range(x.shape[0]):
        h = x[k].contiguous(memory_format=torch.channels_last) if cl else x[k]
        skips = []
        for level in range(DEPTH + 1):
            if level:
                skips.append(h)
                h = F.max_pool2d(h, 2)
            for i in range(convs):
                h = F.conv2d(h, p[f"d{level}{i}w"][k], p[f"d{level}{i}b"][k], padding=1).relu_()
        for level in reversed(range(DEPTH)):
            h = F.conv_transpose2d(h, p[f"t{level}w"][k], p[f"t{level}b"][k], stride=2) \
                if up == "transpose" else F.interpolate(h, scale_factor=2, mode="nearest")
            h = torch.cat((skips.pop(), h), 1)
            for i in range(convs):
                h = F.conv2d(h, p[f"u{level}{i}w"][k], p[f"u{level}{i}b"][k], padding=1).relu_()
        out.append(F.linear(h.permute(0, 2, 3, 1), p["hw"][k], p["hb"][k]))
    return torch.stack(out)


def grouped_forward(p: dict[str, Tensor], x: Tensor, convs: int, up: str, cl: bool) -> Tensor:
    """All K models as one grouped convolution per layer (models as channel groups)."""
    k, b = x.shape[:2]
    h = x.transpose(0, 1).reshape(b, -1, *x.shape[3:])  # (B, K·C, H, W)
    if cl:
        h = h.contiguous(memory_format=torch.channels_last)

    def conv(h: Tensor, name: str) -> Tensor:
        w = p[name + "w"]
        return F.conv2d(h, w.reshape(-1, *w.shape[2:]), p[name + "b"].reshape(-1), padding=1,
                        groups=k).relu_()

    skips = []
    for level in range(DEPTH + 1):
        if level:
            skips.append(h)
            h = F.max_pool2d(h, 2)
        for i in range(convs):
            h = conv(h, f"d{level}{i}")
    for level in reversed(range(DEPTH)):
        if up == "transpose":
            w = p[f"t{level}w"]
            h = F.conv_transpose2d(h, w.reshape(-1, *w.shape[2:]), p[f"t{level}b"].reshape(-1),
                                   stride=2, groups=k)
        else:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
        skip = skips.pop()
        size = skip.shape[2:]
        # Concatenated within each model's channel group.
        h = torch.cat((skip.reshape(b, k, -1, *size), h.reshape(b, k, -1, *size)), 2)
        h = h.reshape(b, -1, *size)
        if cl:
            h = h.contiguous(memory_format=torch.channels_last)
        for i in range(convs):
            h = conv(h, f"u{level}{i}")
    h = h.reshape(b, k, WIDTH, *SHAPE[1:]).permute(1, 0, 3, 4, 2)  # (K, B, H, W, width)
    return torch.baddbmm(p["hb"][:, None], h.reshape(k, -1, WIDTH), p["hw"].transpose(1, 2)
                         ).reshape(k, b, *SHAPE[1:], CLASSES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="training steps per timing")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    apply_process_settings()  # as `dflbench run` does: comparable figures
    g = torch.Generator().manual_seed(0)
    x = torch.randn(K, BATCH, *SHAPE, generator=g)
    y = torch.randint(0, CLASSES, (K, BATCH * SHAPE[1] * SHAPE[2]), generator=g)
    shipped = build_model("unet", {"depth": DEPTH, "width": WIDTH}, n_models=K, input_shape=SHAPE,
                          n_classes=CLASSES, seeds=list(range(K)))

    def train(forward, params) -> float:
        for _ in range(args.steps):
            for t in params:
                t.grad = None
            logits = forward(x).flatten(1, -2)  # (K, B·H·W, classes): every pixel a sample
            loss = F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(1).sum()
            loss.backward()
        return float(loss.detach()) / K

    approaches = {"shipped": lambda: train(shipped, list(shipped.parameters()))}
    variants = {"loop": (loop_forward, 1, "transpose", False),
                "grouped": (grouped_forward, 1, "transpose", False),
                "grouped, cl": (grouped_forward, 1, "transpose", True),
                "loop, cl, nearest": (loop_forward, 1, "nearest", True),
                "grouped, nearest": (grouped_forward, 1, "nearest", False),
                "loop, cl, 2 convs": (loop_forward, 2, "transpose", True),
                "grouped, 2 convs": (grouped_forward, 2, "transpose", False),
                "grouped, 2 convs, nearest": (grouped_forward, 2, "nearest", False)}
    for name, (forward, convs, up, cl) in variants.items():
        params = make_params(convs, up, shipped)
        approaches[name] = (lambda forward=forward, params=params, convs=convs, up=up, cl=cl:
                            train(lambda x: forward(params, x, convs, up, cl), list(params.values())))
    walls, losses = side_by_side(approaches, args.repeats, lambda loss: loss)
    print(f"U-Net depth {DEPTH} width {WIDTH}: one training step (forward + autograd backward) of "
          f"K={K} models, batch {BATCH}, {'x'.join(map(str, SHAPE))} images, {CLASSES} classes, "
          f"1 torch thread; median of {args.repeats} x {args.steps} steps")
    print(f"{'approach':<26} {'ms / step':>10} {'x shipped':>10} {'loss':>8}")
    base = walls["shipped"]
    for name in approaches:
        wall = walls[name]
        print(f"{name:<26} {1000 * wall / args.steps:10.1f} {wall / base:9.2f}x {losses[name]:8.4f}")


if __name__ == "__main__":
    main()
