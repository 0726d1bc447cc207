"""Regressions found by the cross audit of ``ad.distributions`` and ``ad.func`` against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.distributions as D


@pytest.mark.parametrize("expand", [True, False])
def test_one_hot_categorical_enumerate_support(torch, expand):
    probs = np.random.default_rng(1).uniform(0.1, 1.0, (3, 4))
    ours = D.OneHotCategorical(probs=ad.tensor(probs))
    ref = torch.distributions.OneHotCategorical(probs=torch.tensor(probs))
    support = ours.enumerate_support(expand)
    expected = ref.enumerate_support(expand)
    assert tuple(support.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(support.numpy(), expected.numpy())
    if expand:
        np.testing.assert_allclose(
            ours.log_prob(support).numpy(), ref.log_prob(expected).numpy(), rtol=1e-12
        )


@pytest.mark.parametrize("validate_args", [None, True])
def test_one_hot_categorical_validates_values_by_default(validate_args):
    d = D.OneHotCategorical(ad.tensor([0.5, 0.5]), validate_args=validate_args)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(ad.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="support"):
        d.expand((3,)).log_prob(ad.tensor([1.0, 1.0]))


def test_one_hot_categorical_validate_args_false_skips_check():
    d = D.OneHotCategorical(ad.tensor([0.5, 0.5]), validate_args=False)
    assert d.log_prob(ad.tensor([1.0, 1.0])).shape == ()
