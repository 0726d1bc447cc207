"""Reductions with dim=None|int|tuple and keepdim: forward against NumPy (float32/float64) and
gradcheck in float64, with non-contiguous and zero-size inputs, on every device."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    Case,
    op_table_tests,
)

import autodiff as ad


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _norm(x, p=2, axis=None, keepdims=False):
    a = np.abs(x)
    if p == np.inf:
        return a.max(axis=axis, keepdims=keepdims)
    return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


CASES = [
    Case("sum", lambda x: x.sum(), np.sum, (3, 4)),
    Case("sum_dim0", lambda x: x.sum(0), lambda x: x.sum(0), (3, 4)),
    Case("sum_dim_neg_keep", lambda x: x.sum(-1, keepdim=True),
         lambda x: x.sum(-1, keepdims=True), (2, 3, 4)),
    Case("sum_dims", lambda x: x.sum((0, 2)), lambda x: x.sum((0, 2)), (2, 3, 4)),
    Case("sum_dims_keep", lambda x: ad.sum(x, (0, -1), keepdim=True),
         lambda x: x.sum((0, 2), keepdims=True), (2, 3, 4)),
    Case("sum_0d", lambda x: x.sum(), np.sum, ()),
    Case("sum_empty_dims", lambda x: x.sum(()), np.sum, (3, 4)),
    Case("mean_empty_dims", lambda x: x.mean(dim=[]), np.mean, (3, 4)),
    Case("mean", lambda x: x.mean(), np.mean, (3, 4)),
    Case("mean_dim", lambda x: x.mean(1), lambda x: x.mean(1), (2, 3, 4)),
    Case("mean_dims_keep", lambda x: x.mean((1, 2), keepdim=True),
         lambda x: x.mean((1, 2), keepdims=True), (2, 3, 4)),
    Case("var", lambda x: x.var(), lambda x: x.var(ddof=1), (3, 4)),
    Case("var_dim_biased", lambda x: x.var(1, unbiased=False), lambda x: x.var(1), (3, 4)),
    Case("var_dim_keep", lambda x: x.var(0, keepdim=True),
         lambda x: x.var(0, ddof=1, keepdims=True), (3, 4)),
    Case("var_correction0", lambda x: x.var((0, 1), correction=0), lambda x: x.var((0, 1)),
         (2, 3, 4)),
    Case("std", lambda x: x.std(), lambda x: x.std(ddof=1), (3, 4)),
    Case("std_dim", lambda x: x.std(-1, keepdim=True), lambda x: x.std(-1, ddof=1,
                                                                       keepdims=True), (3, 4)),
    Case("max_all", lambda x: x.max(), np.max, (3, 4)),
    Case("max_dim", lambda x: tuple(x.max(1)), lambda x: (x.max(1), x.argmax(1)), (3, 4)),
    Case("max_dim_keep", lambda x: tuple(x.max(0, keepdim=True)),
         lambda x: (x.max(0, keepdims=True), x.argmax(0, keepdims=True)), (3, 4)),
    Case("min_all", lambda x: x.min(), np.min, (3, 4)),
    Case("min_dim", lambda x: tuple(ad.min(x, -1)), lambda x: (x.min(-1), x.argmin(-1)),
         (2, 3, 4)),
    Case("amax_dims", lambda x: x.amax((0, 2)), lambda x: x.max((0, 2)), (2, 3, 4)),
    Case("amin_keep", lambda x: x.amin(1, keepdim=True), lambda x: x.min(1, keepdims=True),
         (2, 3, 4)),
    Case("prod", lambda x: x.prod(), np.prod, (2, 3), low=0.5, high=1.5),
    Case("prod_dim", lambda x: x.prod(1), lambda x: x.prod(1), (3, 4)),
    Case("prod_keep", lambda x: x.prod(0, keepdim=True), lambda x: x.prod(0, keepdims=True),
         (3, 4)),
    Case("logsumexp", lambda x: x.logsumexp(), _lse, (3, 4)),
    Case("logsumexp_dim", lambda x: x.logsumexp(1), lambda x: _lse(x, 1), (2, 3, 4)),
    Case("logsumexp_keep", lambda x: x.logsumexp(-1, keepdim=True),
         lambda x: _lse(x, -1, True), (3, 4)),
    Case("norm", lambda x: x.norm(), lambda x: np.sqrt((x * x).sum()), (3, 4)),
    Case("norm_dim", lambda x: x.norm(dim=1), lambda x: _norm(x, 2, 1), (3, 4)),
    Case("norm_p1", lambda x: x.norm(1), lambda x: _norm(x, 1), (3, 4)),
    Case("norm_p3_keep", lambda x: x.norm(3, dim=0, keepdim=True),
         lambda x: _norm(x, 3, 0, True), (3, 4)),
    Case("norm_inf", lambda x: x.norm(float("inf"), dim=-1), lambda x: _norm(x, np.inf, -1),
         (3, 4)),
    # zero-size
    Case("sum_empty", lambda x: x.sum(0), lambda x: x.sum(0), (0, 3), layouts=("contig",)),
    Case("sum_empty_all", lambda x: x.sum(), np.sum, (2, 0), layouts=("contig",)),
    Case("mean_empty_rows", lambda x: x.mean(1), lambda x: x.mean(1), (0, 3),
         layouts=("contig",)),
    Case("amax_empty_batch", lambda x: x.amax(1), lambda x: x.max(1), (0, 3),
         layouts=("contig",)),
    # not differentiable
    Case("argmax", lambda x: x.argmax(), np.argmax, (3, 4), grad=False),
    Case("argmax_dim", lambda x: x.argmax(1, keepdim=True),
         lambda x: x.argmax(1, keepdims=True), (3, 4), grad=False),
    Case("argmin_dim", lambda x: x.argmin(0), lambda x: x.argmin(0), (3, 4), grad=False),
    Case("any", lambda x: x.any(), np.any, (3, 4), bools=(0,), grad=False),
    Case("all_dim", lambda x: x.all(1), lambda x: x.all(1), (3, 4), bools=(0,), grad=False),
    Case("any_dims_keep", lambda x: x.any((0, 1), keepdim=True),
         lambda x: x.any((0, 1), keepdims=True), (2, 3, 4), bools=(0,), grad=False),
    Case("sum_int", lambda x: x.sum(1), lambda x: x.sum(1), (3, 4), ints=(0,), high=5,
         grad=False),
    Case("sum_bool", lambda x: x.sum(), np.sum, (3, 4), bools=(0,), grad=False),
]


test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)


def test_sum_dtypes(device):
    assert ad.tensor([True, True, False], device=device).sum().dtype == ad.int64
    assert ad.tensor([1, 2], dtype=ad.int32, device=device).sum().dtype == ad.int64
    assert ad.tensor([1, 2], device=device).sum(dtype=ad.float64).dtype == ad.float64


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0]])
def test_prod_grad_with_zeros(values, device):
    x = ad.tensor(values, dtype=ad.float64, device=device, requires_grad=True)
    assert ad.autograd.gradcheck(lambda t: t.prod(), (x,))
    assert ad.autograd.gradcheck(lambda t: t.reshape(1, 3).prod(1), (x,))


def test_max_grad_splits_ties(device):
    x = ad.tensor([1.0, 3.0, 3.0], device=device, requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_max_dim_returns_named_values_and_indices(device):
    x = ad.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]], device=device)
    out = x.max(dim=1)
    assert out.values.tolist() == [5.0, 7.0] and out.indices.tolist() == [1, 0]
    assert out.indices.dtype == ad.int64
    values, indices = x.min(0)
    assert values.tolist() == [1.0, 0.0, 1.0] and indices.tolist() == [0, 1, 1]


def test_logsumexp_is_stable(device):
    x = ad.tensor([1000.0, 1000.0], device=device)
    np.testing.assert_allclose(x.logsumexp().item(), 1000.0 + np.log(2.0), rtol=1e-6)


def test_mean_of_int_raises(device):
    with pytest.raises(TypeError, match="int64"):
        ad.tensor([1, 2], device=device).mean()


def test_logsumexp_of_empty_dim_is_minus_inf(device):
    out = ad.logsumexp(ad.zeros(0, 3, device=device), 0)
    assert out.shape == (3,) and np.all(np.isneginf(out.cpu().numpy()))
