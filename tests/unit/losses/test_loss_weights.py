"""The shared class-weighting strategy (dflbench.losses._weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from dflbench.errors import ConfigError
from dflbench.losses import get_loss
from dflbench.losses._weights import ClassWeighting, as_class_counts, class_weights

COUNTS = [1000, 100, 10]


def test_inverse_is_proportional_to_one_over_n_and_sums_to_c():
    w = class_weights("inverse", COUNTS)
    assert w.dtype == np.float64
    assert w.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(w / w[0], [1.0, 10.0, 100.0])


def test_effective_follows_cui_et_al_and_sums_to_c():
    beta = 0.999
    w = class_weights("effective", COUNTS, beta=beta)
    raw = (1 - beta) / (1 - beta ** np.array(COUNTS, dtype=np.float64))
    np.testing.assert_allclose(w, raw * 3 / raw.sum())


def test_effective_with_beta_zero_is_uniform():
    np.testing.assert_allclose(class_weights("effective", COUNTS, beta=0.0), [1.0, 1.0, 1.0])


def test_balanced_matches_scikit_learn():
    y = np.repeat([0, 1, 2], COUNTS)
    expected = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)
    np.testing.assert_allclose(class_weights("balanced", COUNTS), expected)


def test_explicit_list_is_used_as_given():
    np.testing.assert_array_equal(class_weights([0.5, 2, 0], COUNTS), [0.5, 2.0, 0.0])
    np.testing.assert_array_equal(class_weights(np.array([1.0, 2.0]), None), [1.0, 2.0])


def test_counts_accept_tensors_and_arrays():
    for counts in (torch.tensor(COUNTS), np.array(COUNTS), tuple(COUNTS)):
        np.testing.assert_array_equal(as_class_counts(counts), COUNTS)


def test_unknown_scheme_lists_valid_ones_with_a_did_you_mean():
    with pytest.raises(ConfigError) as err:
        class_weights("inverce", COUNTS)
    message = str(err.value)
    assert "did you mean 'inverse'" in message
    for scheme in ("inverse", "effective", "balanced"):
        assert scheme in message


@pytest.mark.parametrize(
    ("spec", "counts", "match"),
    [
        ([1.0, 2.0], COUNTS, "2 weights but there are 3 classes"),
        ([1.0, -2.0, 1.0], COUNTS, r"weights\[1\].*>= 0"),
        ([0.0, 0.0, 0.0], COUNTS, "not all zero"),
        ([1.0, float("nan"), 1.0], COUNTS, r"weights\[1\]': nan is invalid \(expected a number >= 0"),
        (["a", 1.0, 1.0], COUNTS, r"weights\[0\]': 'a' is invalid \(expected a number >= 0"),
        ("inverse", [10, 0, 5], "positive"),
        ("inverse", [10, -3, 5], "positive"),
        ("inverse", [], "non-empty"),
        ("inverse", [[1, 2], [3, 4]], "1-D"),
        ("inverse", "abc", "sequence"),
        ("inverse", None, "needs class_counts"),
        (3.0, COUNTS, "must be one of inverse, effective, balanced"),
    ],
)
def test_invalid_weightings_raise_config_error(spec, counts, match):
    with pytest.raises(ConfigError, match=match):
        class_weights(spec, counts)


@pytest.mark.parametrize("beta", [1.0, -0.1, 2.0])
def test_effective_beta_must_be_in_zero_one(beta):
    with pytest.raises(ConfigError, match=r"beta.*\[0, 1\)"):
        class_weights("effective", COUNTS, beta=beta)


def test_needs_counts_only_for_schemes():
    assert ClassWeighting.parse("balanced").needs_counts
    assert not ClassWeighting.parse([1, 2, 3]).needs_counts


def test_errors_name_the_loss_and_parameter():
    with pytest.raises(ConfigError, match="loss 'focal': parameter 'alpha'.*did you mean"):
        get_loss("focal", alpha="efective", class_counts=COUNTS)
    with pytest.raises(ConfigError, match="loss 'weighted_ce': parameter 'weights'"):
        get_loss("weighted_ce", weights="uniform", class_counts=COUNTS)


def test_focal_scheme_alpha_needs_counts_but_a_list_does_not():
    with pytest.raises(ConfigError, match="class_counts"):
        get_loss("focal", alpha="effective")
    assert get_loss("focal", alpha=[1.0, 2.0, 3.0]).alpha.tolist() == [1.0, 2.0, 3.0]


def test_focal_rejects_a_scalar_alpha():
    with pytest.raises(ConfigError, match="alpha"):
        get_loss("focal", alpha=0.25)


@pytest.mark.parametrize("name", ["weighted_ce", "focal"])
def test_weight_vector_must_match_the_logits(name):
    param = "weights" if name == "weighted_ce" else "alpha"
    loss = get_loss(name, class_counts=COUNTS, **{param: [1.0, 2.0, 3.0]})
    with pytest.raises(ConfigError, match="3 classes but the logits have 4"):
        loss(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))
