"""cdist against PyTorch: every p (ties and zero differences included, where the gradient
is a subgradient choice), each compute mode, broadcast batch dims, zero-size inputs, blocks
of rows (the differences are never held all at once), gradchecks and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import compare_with_torch

import autodiff as ad
from autodiff import distance

R = np.random.default_rng(3)
PS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]
MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist"]
SHAPES = [((5, 3), (6, 3)), ((2, 30, 4), (27, 4)), ((1, 7, 3), (3, 1, 6, 3)),
          ((40, 2), (3, 2))]


def _ints(shape):  # small integers: many ties for the maximum and zero differences
    return R.integers(-2, 3, shape).astype(np.float64)


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_matches_torch_with_ties(p, mode, shapes, device, torch):
    a, b = _ints(shapes[0]), _ints(shapes[1])
    compare_with_torch("cdist", lambda m, x, y: m.cdist(x, y, p, compute_mode=mode), (a, b),
                       device, torch, tol=1e-9)


@pytest.mark.parametrize("p", [1.0, 2.0, math.inf])
def test_blocks_of_rows_give_the_unblocked_result(p, monkeypatch, torch):
    a, b = R.standard_normal((2, 9, 5)), R.standard_normal((2, 7, 5))
    monkeypatch.setattr(distance, "_BLOCK_ELEMENTS", 40)  # one or a few rows a block
    compare_with_torch("cdist", lambda m, x, y: m.cdist(x, y, p, compute_mode=MODES[2]),
                       (a, b), "cpu", torch, tol=1e-9)


@pytest.mark.parametrize("shapes", [((0, 3), (4, 3)), ((2, 3), (0, 3)), ((2, 0), (3, 0)),
                                    ((0, 2, 3), (1, 4, 3)), ((30, 3), (0, 3))], ids=str)
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, math.inf])
def test_zero_size(shapes, p, torch):
    a, b = np.ones(shapes[0]), np.zeros(shapes[1])
    compare_with_torch("cdist", lambda m, x, y: m.cdist(x, y, p), (a, b), "cpu", torch)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("mode", MODES[1:])
def test_gradcheck_and_gradgradcheck(p, mode):
    a = ad.tensor(R.standard_normal((4, 3)), requires_grad=True)
    b = ad.tensor(R.standard_normal((2, 5, 3)), requires_grad=True)
    fn = lambda x, y: ad.cdist(x, y, p, compute_mode=mode)
    assert ad.autograd.gradcheck(fn, (a, b))
    assert ad.autograd.gradgradcheck(fn, (a, b))


def test_float32_euclidean_by_matmul_is_close_to_exact():
    a, b = R.standard_normal((60, 16)).astype(np.float32), R.standard_normal((50, 16))
    d = ad.cdist(ad.tensor(a), ad.tensor(b.astype(np.float32)))
    want = np.sqrt(((a[:, None].astype(np.float64) - b[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d.numpy(), want, rtol=1e-4, atol=1e-4)


def test_errors_name_the_shapes():
    with pytest.raises(ad.ShapeError, match=r"batch dims .*\(2, 3, 4\).*\(5, 4, 4\)"):
        ad.cdist(ad.ones(2, 3, 4), ad.ones(5, 4, 4))
    with pytest.raises(ad.ShapeError, match="at least 2 dims"):
        ad.cdist(ad.ones(3), ad.ones(3))
    with pytest.raises(ad.ShapeError, match="same number of columns"):
        ad.cdist(ad.ones(2, 3), ad.ones(2, 4))
