"""The stacked U-Net against the same network written with ordinary torch layers, its seeded
initialisation against torch's own, and its refusals. (The registry's contract tests check the
rest: stacked equals alone, models never mix, cosine head, footprint.)"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dflbench.errors import ConfigError
from dflbench.models import MODELS, StackedUNet


def _unet(seeds, shape=(3, 16, 16), classes=3, head="linear", **params) -> StackedUNet:
    return MODELS.build("unet", params, reserved=dict(
        n_models=len(seeds), n_features=math.prod(shape), input_shape=shape, n_classes=classes,
        seeds=list(seeds), head=head))


class Reference(nn.Module):
    """A U-Net of ``depth`` levels, one 3×3 convolution each, in plain torch layers."""

    def __init__(self, in_ch: int, classes: int, depth: int, width: int) -> None:
        super().__init__()
        chans = [width * 2 ** level for level in range(depth + 1)]
        self.down = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1)
                                  for a, b in zip([in_ch, *chans], chans))
        self.up = nn.ModuleList()
        for level in reversed(range(depth)):
            self.up.append(nn.ConvTranspose2d(chans[level + 1], chans[level], 2, stride=2))
            self.up.append(nn.Conv2d(2 * chans[level], chans[level], 3, padding=1))
        self.head = nn.Conv2d(width, classes, 1)

    def layers(self) -> list[nn.Module]:
        """In the order the stacked model draws (and stores) them."""
        return [*self.down, *self.up, self.head]

    def forward(self, x):
        skips = []
        for i, conv in enumerate(self.down):
            if i:
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = conv(x).relu()
        for up, conv in zip(self.up[::2], self.up[1::2]):
            x = conv(torch.cat([skips.pop(), up(x)], 1)).relu()
        return self.head(x).permute(0, 2, 3, 1)  # (B, H, W, classes)


def _stacked_tensors(model: StackedUNet) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) of each layer, in the reference's order."""
    params = [*model.down, *model.up]
    pairs = list(zip(params[::2], params[1::2]))
    return [*pairs, (model.head_weight[..., None, None], model.head_bias)]


@pytest.mark.parametrize(("depth", "width", "shape"), [(2, 4, (3, 16, 16)), (1, 3, (2, 6, 10)),
                                                       (3, 2, (1, 8, 16))])
def test_each_stacked_unet_is_the_unet_of_torch_layers(depth, width, shape):
    seeds = [3, 1, 4]
    stack = _unet(seeds, shape, depth=depth, width=width)
    x = torch.randn(3, 5, *shape)
    out = stack(x)
    assert out.shape == (3, 5, shape[1], shape[2], 3)
    for k in range(len(seeds)):
        ref = Reference(shape[0], 3, depth, width)
        for layer, (w, b) in zip(ref.layers(), _stacked_tensors(stack), strict=True):
            layer.weight.data.copy_(w[k])
            layer.bias.data.copy_(b[k])
        torch.testing.assert_close(out[k], ref(x[k]), rtol=1e-5, atol=1e-5)


def test_each_model_starts_as_torch_initialises_its_layers_from_its_seed():
    """nn.Conv2d and nn.ConvTranspose2d's reset_parameters (kaiming_uniform_ with a=√5, then
    a uniform bias within 1/√fan_in, fan_in as torch reads it off the weight), drawn layer after
    layer from the model's own generator."""
    stack = _unet([11, 12], depth=2, width=4)
    for k, seed in enumerate([11, 12]):
        g = torch.Generator().manual_seed(seed)
        ref = Reference(3, 3, 2, 4)
        for layer, (w, b) in zip(ref.layers(), _stacked_tensors(stack), strict=True):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=g)
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
            nn.init.uniform_(layer.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=g)
            torch.testing.assert_close(w[k], layer.weight.data.reshape(w[k].shape))
            torch.testing.assert_close(b[k], layer.bias.data)


def test_the_cosine_head_gives_each_pixel_its_cosines_with_the_classes():
    stack = _unet([0, 1], classes=4, head="cosine", width=4)
    assert stack.head_bias is None
    x = torch.randn(2, 4, 3, 16, 16)
    out = stack(x)
    assert out.shape == (2, 4, 16, 16, 4) and out.abs().max() <= 1 + 1e-6
    # The same network with an identity linear head gives each pixel's features.
    probe = _unet([0, 1], classes=4, width=4)
    probe.load_state_dict(stack.state_dict(), strict=False)
    with torch.no_grad():
        probe.head_weight.copy_(torch.eye(4).expand(2, 4, 4))
        probe.head_bias.zero_()
        features = probe(x)
    cosines = torch.einsum("kbhwc,kjc->kbhwj", nn.functional.normalize(features, dim=-1),
                           nn.functional.normalize(stack.head_weight, dim=-1))
    torch.testing.assert_close(out, cosines, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("params", "shape", "message"), [
    ({}, (12,), r"model 'unet' needs image data \(N, channels, H, W\); this dataset is tabular"),
    ({}, (3, 30, 32), "H and W must be divisible by 4; got 30×32"),
    ({"depth": 3}, (3, 32, 20), "depth 3 halves the image 3 times, so H and W must be divisible by 8"),
    ({"depth": 0}, (3, 32, 32), r"parameter 'depth': 0 is invalid \(expected an integer >= 1\)"),
    ({"width": 0}, (3, 32, 32), r"parameter 'width': 0 is invalid \(expected an integer >= 1\)"),
    ({"width": 2.5}, (3, 32, 32), r"parameter 'width': 2.5 is invalid"),
])
def test_bad_configurations_are_clear_one_line_errors(params, shape, message):
    with pytest.raises(ConfigError, match=message) as refused:
        _unet([0], shape, **params)
    assert "\n" not in str(refused.value)


def test_defaults_are_small_and_the_footprint_says_so():
    model = _unet([0], (3, 32, 32), classes=4)
    assert model.depth == 2 and [w.shape[1] for w in model.down[::2]] == [8, 16, 32]
    size = StackedUNet.footprint(input_shape=(3, 32, 32), n_classes=4)
    assert size.parameters == sum(p.numel() for p in model.parameters()) == 14_436
    assert size.activations == 76_800  # about 300 KB of float32 per image
    assert StackedUNet.footprint(input_shape=(12,), n_classes=4).parameters == 0  # refused when built


def test_the_same_images_for_every_model_may_come_as_an_expanded_view():
    """The engine predicts with the same images for all K models (an expanded, stride-0 view)."""
    stack = _unet([0, 1, 2], width=4)
    x = torch.randn(6, 3, 16, 16)
    with torch.no_grad():
        out = stack(x.unsqueeze(0).expand(3, *x.shape))
        for k in range(3):
            torch.testing.assert_close(out[k], stack(x.unsqueeze(0).repeat(3, 1, 1, 1, 1))[k])
