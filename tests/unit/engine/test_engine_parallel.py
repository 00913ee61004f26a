"""Sub-stacks: a fixed split, trained one after the other or at once in threads, gives the same
models; a failing sub-stack stops the others."""

from __future__ import annotations

import numpy as np
import pytest

from dflbench.config import TrainConfig
from dflbench.engine.parallel import Stopped, run_stacks, split
from tests.unit.engine.engine_fixtures import TREATMENTS, make_data, train


def test_treatments_are_dealt_round_robin_and_a_single_treatment_is_split_by_seed():
    assert split(["a", "b", "c"], [0, 1], 2) == [(["a", "c"], [0, 1]), (["b"], [0, 1])]
    assert split(["a"], [0, 1, 2], 2) == [(["a"], [0, 2]), (["a"], [1])]
    assert split(["a"], [0], 2) == [(["a"], [0])]


def test_sub_stacks_trained_at_once_give_the_same_models_as_one_after_the_other():
    """The split into sub-stacks is fixed, so how many run at once (--jobs, the machine's cores)
    never changes a number."""
    data = make_data()
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.01)
    counted = []
    one, two = (train(data, TREATMENTS, [0, 1], cfg, workers=w, on_epoch=counted.append)
                for w in (1, 2))
    assert max(o.stack_size for o in one) < len(TREATMENTS) * 2  # split, even with one worker
    for a, b in zip(one, two):
        assert (a.treatment, a.seed) == (b.treatment, b.seed)
        np.testing.assert_array_equal(a.proba, b.proba)
        assert a.learned == b.learned
    # Every model-epoch is reported once per run, whichever thread trained it.
    assert sum(counted) == 2 * len(TREATMENTS) * 2 * cfg.epochs


class _FakeStack:
    def __init__(self, fail: bool) -> None:
        self.fail, self.saw_stop = fail, False

    def run(self, on_epoch, stop=None):
        if self.fail:
            raise ValueError("boom")
        self.saw_stop = stop.wait(timeout=10)
        raise Stopped


def test_a_failing_sub_stack_stops_the_others_and_its_error_propagates():
    stacks = [_FakeStack(fail=False), _FakeStack(fail=True)]
    with pytest.raises(ValueError, match="boom"):
        run_stacks(stacks, None, workers=2)
    assert stacks[0].saw_stop


@pytest.mark.parametrize(("cores", "concurrency", "expected"),
                         [(2, 1, 2), (2, 2, 1), (1, 1, 1), (16, 1, 2), (16, 4, 2), (3, 2, 1), (8, None, 1)])
def test_each_task_gets_its_share_of_the_cores_up_to_one_thread_per_sub_stack(
        monkeypatch, cores, concurrency, expected):
    import dflbench.runner as runner

    monkeypatch.setattr(runner, "available_cores", lambda: cores)
    assert runner.stack_workers(concurrency) == expected
