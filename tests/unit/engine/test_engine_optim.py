"""The flat parameter buffer and its optimizers: every optimizer a suite may name steps exactly as
``torch.optim`` does, bit for bit; frozen members never move."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dflbench.config import OPTIMIZERS, TrainConfig
from dflbench.engine import FlatOptimizer, FlatParameters

CPU = torch.device("cpu")


def _reference(optimizer: str, groups: list[dict], fused: bool) -> torch.optim.Optimizer:
    """The torch.optim equivalent of each name in config.OPTIMIZERS (a new name fails here until
    it has one)."""
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=0.05, momentum=0.9)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer]
    return cls(groups, lr=0.05, fused=fused)


def _flat_and_reference(optimizer: str, wd: float, fused):
    """A stack-like pair of tensors in a FlatOptimizer, and clones under torch.optim."""
    gen = torch.Generator().manual_seed(0)
    w = nn.Parameter(torch.randn(3, 4, 5, generator=gen))
    r = nn.Parameter(torch.randn(3, generator=gen))
    w_ref, r_ref = (nn.Parameter(p.detach().clone()) for p in (w, r))
    flat = FlatParameters([(w, 0, True), (r, 0, False)], 3, CPU)
    opt = FlatOptimizer(flat, TrainConfig(lr=0.05, weight_decay=wd, optimizer=optimizer), fused=fused)
    groups = [{"params": [w_ref], "weight_decay": wd}, {"params": [r_ref], "weight_decay": 0.0}]
    return (w, r), (w_ref, r_ref), flat, opt, _reference(optimizer, groups, bool(opt.fused))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("wd", [0.0, 0.01])
@pytest.mark.parametrize("fused", [None, False])
def test_flat_optimizer_equals_torch_optim_bit_for_bit(optimizer, wd, fused):
    (w, r), (w_ref, r_ref), flat, opt, ref = _flat_and_reference(optimizer, wd, fused)
    gen = torch.Generator().manual_seed(1)
    for _ in range(6):
        gw, gr = torch.randn(w.shape, generator=gen), torch.randn(r.shape, generator=gen)
        flat.zero_grad()
        w.grad.add_(gw)
        r.grad.add_(gr)
        opt.step()
        w_ref.grad, r_ref.grad = gw.clone(), gr.clone()
        ref.step()
    assert torch.equal(w, w_ref) and torch.equal(r, r_ref)
    assert not torch.equal(w, _flat_and_reference(optimizer, wd, fused)[0][0])  # it moved


def test_an_optimizer_config_does_not_declare_is_refused():
    w = nn.Parameter(torch.zeros(2, 3))
    flat = FlatParameters([(w, 0, True)], 2, CPU)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        FlatOptimizer(flat, TrainConfig(optimizer="rmsprop"))


def test_parameters_and_gradients_are_views_of_the_flat_buffers():
    (w, r), _, flat, _, _ = _flat_and_reference("adam", 0.0, None)
    assert w.data_ptr() == flat.data.data_ptr()
    assert r.grad.data_ptr() == flat.grad[w.numel():].data_ptr()
    (w.sum() * 2 + r.sum()).backward()  # autograd accumulates into the existing views
    flat.check_grads()
    assert torch.equal(flat.grad, torch.cat([torch.full((60,), 2.0), torch.ones(3)]))


def test_frozen_members_never_change_and_nan_stays_in_its_member():
    (w, _), _, flat, opt, _ = _flat_and_reference("adam", 0.01, None)
    opt.freeze(torch.tensor([False, True, False]))
    before = w.detach().clone()
    for _ in range(3):
        flat.zero_grad()
        w.grad.normal_()
        w.grad[2] = float("nan")  # member 2 diverges
        opt.step()
    assert torch.equal(w[1], before[1])
    assert not torch.equal(w[0], before[0]) and torch.isfinite(w[0]).all()
    assert torch.isnan(w[2]).all()


def test_shared_trainable_tensor_is_refused():
    p = nn.Parameter(torch.zeros(()))
    with pytest.raises(ValueError, match="leading model dimension"):
        FlatParameters([(p, 0, False)], 4, CPU)
