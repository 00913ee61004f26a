import torch

from dflbench.augment import Augment, augment_batch


def _batch(k=3, b=4, c=2, h=5, w=6):
    return torch.arange(k * b * c * h * w, dtype=torch.float32).reshape(k, b, c, h, w) + 1


def _gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_shift_moves_whole_images_by_at_most_shift_and_pads_with_zeros():
    x = _batch()
    out = augment_batch(x, _gens([0, 1, 2]), Augment(shift=1))
    assert out.shape == x.shape
    for k in range(3):
        for i in range(4):
            img, src = out[k, i], x[k, i]
            found = False
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ref = torch.zeros_like(src)
                    ys, xs = slice(max(0, -dy), 5 - max(0, dy)), slice(max(0, -dx), 6 - max(0, dx))
                    yd, xd = slice(max(0, dy), 5 - max(0, -dy)), slice(max(0, dx), 6 - max(0, -dx))
                    ref[:, ys, xs] = src[:, yd, xd]
                    found |= torch.equal(img, ref)
            assert found


def test_draws_are_per_model_so_a_model_alone_sees_the_same_augmentation():
    x = _batch()
    stacked = augment_batch(x, _gens([0, 1, 2]), Augment(shift=2, flip=True))
    alone = augment_batch(x[1:2], _gens([1]), Augment(shift=2, flip=True))
    assert torch.equal(stacked[1:2], alone)
    assert not torch.equal(stacked[0], stacked[2])


def test_flip_only_mirrors_and_no_augmentation_is_identity():
    x = _batch()
    out = augment_batch(x, _gens([0, 1, 2]), Augment(flip=True))
    for k in range(3):
        for i in range(4):
            assert torch.equal(out[k, i], x[k, i]) or torch.equal(out[k, i], x[k, i].flip(-1))
    assert not torch.equal(out, x)
    assert not Augment().active
    assert torch.equal(augment_batch(x, _gens([0, 1, 2]), Augment()), x)
