"""Per-model training rows: models with different training sets (each seed's resampled set)
share one stack, and each equals the same model trained alone on its own rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from dflbench.config import TrainConfig
from tests.unit.engine.engine_fixtures import TREATMENTS, make_data, train


def test_each_model_trains_on_its_own_rows_as_if_alone():
    base = make_data()
    n = len(base.y_train)
    rng = np.random.default_rng(3)
    # Two seeds, each with its own "resampled" set of n rows drawn with replacement, stored one
    # after the other; the class counts differ a little, as they may after any resampling.
    own = {0: rng.integers(0, n, n), 1: rng.integers(0, n, n)}
    stacked_data = replace(base, X_train=np.concatenate([base.X_train[own[s]] for s in (0, 1)]),
                           y_train=np.concatenate([base.y_train[own[s]] for s in (0, 1)]),
                           rows={0: np.arange(n), 1: np.arange(n, 2 * n)})
    cfg = TrainConfig(epochs=4, batch_size=32, lr=0.05)
    stacked = train(stacked_data, TREATMENTS[:2], [0, 1], cfg)
    for out in stacked:
        t = next(t for t in TREATMENTS if t.label == out.treatment)
        alone_data = replace(base, X_train=base.X_train[own[out.seed]], y_train=base.y_train[own[out.seed]])
        (alone,) = train(alone_data, [t], [out.seed], cfg)
        torch.testing.assert_close(torch.as_tensor(out.proba), torch.as_tensor(alone.proba),
                                   atol=1e-5, rtol=1e-5)
    # The two seeds really trained on different rows: the same seed on the other set differs.
    (swapped,) = train(replace(base, X_train=base.X_train[own[1]], y_train=base.y_train[own[1]]),
                       [TREATMENTS[0]], [0], cfg)
    first = next(o for o in stacked if (o.treatment, o.seed) == ("ce", 0))
    assert not np.allclose(first.proba, swapped.proba, atol=1e-4)
