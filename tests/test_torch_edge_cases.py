"""PyTorch behaviours at the edges, each once wrong here: diagonal() as a view, einsum gradients
of size-1 (broadcast) dims, zero-vector norms, clamp with tensor bounds, reductions over
empty batches, 0-d results sharing memory, retain_grad after hooks, and the in-place
operators. Expected values are PyTorch 2.13's, written out so the tests need no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


@pytest.fixture(params=DEVICES)
def dev(request):
    return request.param


def test_diagonal_is_a_writeable_view(dev):
    y = ad.arange(12.0, device=dev).reshape(3, 4)
    y.diagonal().fill_(0.0)
    y.diagonal(1)[...] = -1.0
    np.testing.assert_array_equal(
        y.numpy(), [[0, -1, 2, 3], [4, 0, -1, 7], [8, 9, 0, -1]])
    z = ad.arange(24.0, device=dev).reshape(2, 3, 4)
    assert z.diagonal(-1, 2, 1).shape == (2, 3) and z.diagonal(7).shape == (4, 0)
    assert ad.diag(y).numpy().base is None or not np.shares_memory(ad.diag(y).numpy(), y.numpy())


def test_diagonal_gradients_and_in_place_through_the_view(dev):
    x = ad.arange(12.0, device=dev).reshape(3, 4).requires_grad_()
    (x.diagonal(1) * ad.tensor([1.0, 2.0, 3.0], device=dev)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3]])
    w = ad.ones(3, 3, device=dev, requires_grad=True)
    z = w * 2
    z.diagonal().mul_(3)  # a non-leaf's diagonal scaled in place: its gradient follows
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 + 4 * np.eye(3))
    x64 = ad.randn(3, 4, dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(lambda a: a.diagonal(-1) ** 2, (x64,))
    assert ad.autograd.gradgradcheck(lambda a: a.diagonal(1) ** 3, (x64,))


def test_einsum_sums_gradients_of_broadcast_dims(dev):
    b = ad.ones(1, device=dev, requires_grad=True)
    ad.einsum("ij,j->ij", ad.ones(4, 3, device=dev), b).sum().backward()
    assert b.grad.shape == (1,) and b.grad.item() == 12.0
    y = ad.ones(1, 4, 5, device=dev, requires_grad=True)
    ad.einsum("bij,bjk->bik", ad.ones(2, 3, 4, device=dev), y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.full((1, 4, 5), 6.0))


@pytest.mark.parametrize("p", [0.5, 1.5, 3, 4])
def test_norm_gradient_is_zero_at_a_zero_vector(dev, p):
    x = ad.tensor([[0.0, 0.0], [3.0, -4.0], [0.0, 2.0]], dtype=ad.float64, device=dev,
                  requires_grad=True)
    n = x.norm(p, dim=1)
    n.sum().backward()
    ref = np.array([[0.0, 0.0], [3.0, -4.0], [0.0, 2.0]])
    norms = (np.abs(ref) ** p).sum(1) ** (1 / p)
    np.testing.assert_allclose(n.detach().numpy(), norms)
    expect = np.zeros_like(ref)
    nz = ref != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        expect[nz] = (np.sign(ref) * np.abs(ref) ** (p - 1) / norms[:, None] ** (p - 1))[nz]
    np.testing.assert_allclose(x.grad.numpy(), expect)
    x64 = ad.randn(3, 4, dtype=ad.float64, device=dev, requires_grad=True)
    assert ad.autograd.gradcheck(lambda a: a.norm(p, 1), (x64,))


def test_normalize_has_finite_gradients_at_a_zero_vector(dev):
    x = ad.tensor([[0.0, 0.0], [3.0, 4.0]], device=dev, requires_grad=True)
    F.normalize(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1e12, 1e12], [0.032, -0.024]], rtol=1e-5)


def test_clamp_with_tensor_bounds_gives_ties_to_the_input(dev):
    x = ad.tensor([0.0, 1.0, -2.0, 5.0, 3.0], device=dev, requires_grad=True)
    lo = ad.tensor([0.0, 1.0, -1.0, 4.0, 0.0], device=dev, requires_grad=True)
    hi = ad.tensor([1.0, 1.0, 0.0, 5.0, 2.0], device=dev, requires_grad=True)
    y = x.clamp(min=lo, max=hi)
    (y * ad.arange(1.0, 6.0, device=dev)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [0, 1, -1, 5, 2])
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 0, 4, 0])
    np.testing.assert_array_equal(lo.grad.numpy(), [0, 0, 3, 0, 0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0, 0, 0, 0, 5])
    assert x.clamp(min=ad.tensor(0.0, device=dev), max=0.5).tolist() == [0, 0.5, 0, 0.5, 0.5]


def test_reductions_over_an_empty_batch(dev):
    e = ad.zeros(0, 3, device=dev, requires_grad=True)
    assert e.max(1).values.shape == (0,) and e.min(1).indices.shape == (0,)
    assert e.argmax(1).shape == (0,) and e.softmax(0).shape == (0, 3)
    assert e.log_softmax(0).shape == (0, 3)
    e.softmax(0).sum().backward()
    assert e.grad.shape == (0, 3)
    with pytest.raises(IndexError, match="dim 0 to have non-zero size"):
        e.max(0)
    with pytest.raises(IndexError, match="amax.*dim 0"):
        e.amax(0)
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        ad.zeros(0, device=dev).max()
    assert ad.zeros(3, device=dev).max().item() == 0.0


def test_zero_dim_results_share_memory_with_their_views(dev):
    x = ad.tensor([1.0, 2.0], device=dev)
    s = x.sum()
    s.detach().add_(1)
    s.view(1).add_(1)
    s.numpy()[...] += 1
    assert s.item() == 6.0


def test_retained_grad_sees_hooks_registered_after_retain_grad(dev):
    x = ad.ones(2, device=dev, requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.register_hook(lambda g: g * 5)
    y.register_hook(lambda g: g + 1)
    y.sum().backward()
    assert y.grad.tolist() == [6.0, 6.0] and x.grad.tolist() == [6.0, 6.0]


def test_in_place_operators_modify_the_tensor(dev):
    x = ad.tensor([1.0, 2.0, 3.0], device=dev)
    alias = x
    x **= 2
    x //= 2
    x %= 3
    assert alias.tolist() == [0.0, 2.0, 1.0] and x is alias
    b = ad.tensor([True, False], device=dev)
    b |= ad.tensor([False, True], device=dev)
    b &= ad.tensor([True, True], device=dev)
    b ^= ad.tensor([True, False], device=dev)
    assert b.tolist() == [False, True]
    assert x.clamp_min_(0.5).clamp_max_(1.5).tolist() == [0.5, 1.5, 1.0]
    w = ad.ones(2, device=dev, requires_grad=True)
    z = w * 2
    z **= 2
    z.sum().backward()
    assert w.grad.tolist() == [8.0, 8.0]


def test_small_pytorch_conventions(dev):
    t = ad.tensor([1.0, 2.0], device=dev)
    assert (t == None) is False and (t != None) is True
    v = ad.tensor([-5.0, -4.0, -3.0, -2.0], device=dev)
    assert v.var(correction=1.5).item() == pytest.approx(2.0)
    assert ad.arange(ad.tensor(3)).tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ad.tensor([1, 2], device=dev) ** -1
    with pytest.raises(RuntimeError, match="chunks"):
        t.chunk(0)
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        ad.cat([ad.tensor(1.0), ad.tensor(2.0)])
    with pytest.raises(RuntimeError, match="step sign"):
        ad.arange(0, 5, -1)


def test_square_of_a_view_and_none_gradients_reach_shared_nodes(dev):
    base = ad.randn(3, 4, dtype=ad.float64, device=dev, requires_grad=True)
    xt = base.t()
    (xt * xt * ad.arange(12.0, device=dev, dtype=ad.float64).reshape(4, 3)).sum().backward()
    w = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(base.grad.numpy(), (2 * xt.detach().numpy() * w).T)

    class FirstOnly(ad.autograd.Function):  # a backward that gives None to an input
        @staticmethod
        def forward(ctx, a, b):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            return g, None

    x = ad.ones(3, device=dev, requires_grad=True)
    h = x * 2  # h feeds both inputs: the None must not leave h's backward waiting
    (FirstOnly.apply(h, h) + h).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


def test_atan2_at_the_origin_and_logit_at_0_and_1(dev):
    x = ad.tensor([0.0, 1.0], device=dev, requires_grad=True)
    y = ad.tensor([0.0, 1.0], device=dev, requires_grad=True)
    ad.atan2(y, x).sum().backward()
    assert x.grad.tolist() == [0.0, -0.5] and y.grad.tolist() == [0.0, 0.5]
    p = ad.tensor([0.0, 1.0, 0.5], dtype=ad.float64, device=dev, requires_grad=True)
    out = ad.logit(p)
    out.backward(ad.ones_like(out))  # (out.sum() is -inf + inf)
    assert out.tolist() == [-np.inf, np.inf, 0.0] and p.grad.tolist() == [np.inf, np.inf, 4.0]


def test_scatter_with_repeated_indices_keeps_one_write(dev):
    z = ad.zeros(3, device=dev)
    i = ad.tensor([1, 1], device=dev)
    assert z.scatter(0, i, 7.0).tolist() == [0, 7, 0]
    assert z.scatter(0, i, ad.tensor([1.0, 2.0], device=dev)).tolist() == [0, 2, 0]
    assert z.index_fill(0, i, 5.0).tolist() == [0, 5, 0]
    assert z.index_copy(0, i, ad.tensor([4.0, 4.0], device=dev)).tolist() == [0, 4, 0]
    assert z.scatter(0, i, 7.0, reduce="add").tolist() == [0, 14, 0]
    src = ad.arange(1.0, 4.0, device=dev, requires_grad=True)
    z.scatter(0, ad.tensor([2, 0, 2], device=dev), src).sum().backward()
    assert src.grad.tolist() == [0.0, 1.0, 1.0]  # only the kept writes get gradient
    with pytest.raises(IndexError, match="out of bounds"):
        z.scatter(0, ad.tensor([3], device=dev), 1.0)


def test_logcumsumexp_does_not_underflow(dev):
    x = ad.tensor([[-1000.0, 0.0, -800.0]], dtype=ad.float64, device=dev, requires_grad=True)
    y = ad.logcumsumexp(x, 1)
    np.testing.assert_allclose(y.detach().numpy(), [[-1000.0, 0.0, 0.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 2.0, 0.0]], atol=1e-300)
    x64 = ad.randn(4, 9, dtype=ad.float64, device=dev, requires_grad=True)
    assert ad.autograd.gradcheck(lambda a: ad.logcumsumexp(a * 50, 1), (x64,))


def test_nan_in_median_quantile_cummax(dev):
    nan = float("nan")
    x = ad.tensor([1.0, nan, 3.0], device=dev)
    assert np.isnan(ad.median(x).item()) and np.isnan(ad.quantile(x, 0.3).item())
    v, i = ad.median(x, 0)
    assert np.isnan(v.item()) and i.item() == 1
    r = ad.cummax(ad.tensor([1.0, nan, 3.0, 2.0], device=dev), 0)
    assert np.isnan(r.values.numpy()[1:]).all() and r.indices.tolist() == [0, 1, 1, 1]
    assert ad.cummin(ad.tensor([1.0, 2.0, nan, 0.0], device=dev), 0).indices.tolist() == [0, 0, 2, 2]


def test_xlogy_gradient_at_zero_x(dev):
    x = ad.tensor([0.0, 0.0, 2.0], dtype=ad.float64, device=dev, requires_grad=True)
    y = ad.tensor([2.0, -1.0, 3.0], dtype=ad.float64, device=dev, requires_grad=True)
    ad.xlogy(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.log(2.0), 0.0, np.log(3.0)])
    np.testing.assert_allclose(y.grad.numpy(), [0.0, -0.0, 2 / 3])


def test_linalg_named_results_and_batched_solve_gradients(dev):
    a = ad.randn(3, 3, dtype=ad.float64, device=dev)
    s = a @ a.T + 3 * ad.eye(3, dtype=ad.float64, device=dev)
    assert ad.linalg.eigh(s).eigenvalues.shape == (3,) and ad.linalg.svd(a).Vh.shape == (3, 3)
    assert ad.linalg.qr(a).R.shape == (3, 3) and ad.svd(a).V.shape == (3, 3)
    sign, logabs = ad.linalg.slogdet(s)
    assert sign.item() == 1.0 and ad.linalg.slogdet(s).logabsdet.item() == logabs.item()
    A = (ad.eye(3, dtype=ad.float64, device=dev) * 3 + 0.1).expand(2, 3, 3).clone()
    A.requires_grad_()
    b = ad.ones(3, dtype=ad.float64, device=dev, requires_grad=True)
    ad.linalg.solve(A, b).sum().backward()  # b broadcast over A's batch: its grad is summed
    assert b.grad.shape == (3,) and A.grad.shape == (2, 3, 3)
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 2 / 3.3))
    assert ad.norm(a, p="nuc").item() == pytest.approx(np.linalg.norm(a.numpy(), "nuc"))


def test_special_and_reduction_details(dev):
    d = ad.special.digamma(ad.tensor([float("nan"), 1.0, 0.0, -1.0], device=dev)).numpy()
    assert np.isnan(d[0]) and d[1] == pytest.approx(-0.5772157) and d[2] == -np.inf
    assert np.isnan(d[3])
    mm = ad.aminmax(ad.randn(2, 3, device=dev), keepdim=True)
    assert mm.min.shape == (1, 1) and mm.max.shape == (1, 1)
    counts = ad.bincount(ad.tensor([0, 1, 1], device=dev), weights=ad.tensor([1, 2, 3], device=dev))
    assert counts.dtype == ad.float64 and counts.tolist() == [1.0, 5.0]


@pytest.mark.parametrize("n", [64, 100, 8192])
def test_max_and_min_see_a_nan_at_the_start_of_a_row(dev, n):
    for dt in (np.float32, np.float64):
        for pos in (0, 3, 17, 31):
            x = np.arange(2 * n, dtype=dt).reshape(2, n)
            x[0, pos] = np.nan
            t = ad.tensor(x, device=dev)
            for got in (t.amax(1), t.amin(1), t.max(1).values, t.max().reshape(1)):
                assert np.isnan(got.numpy()[0]), (dt, pos)
            assert t.amax(1).numpy()[1] == 2 * n - 1


def test_small_dtype_and_empty_batch_cases(dev):
    assert ad.tensor(np.array([2, 3], np.uint8), device=dev).prod().item() == 6
    assert ad.tensor([True, True], device=dev).prod().dtype == ad.int64
    assert ad.tensor(1.5, device=dev).flip(0).item() == 1.5
    assert F.group_norm(ad.zeros(0, 4, 8, 8, device=dev), 2).shape == (0, 4, 8, 8)
    x = ad.zeros(0, 3, 8, 8, device=dev, requires_grad=True)
    w = ad.randn(4, 3, 3, 3, device=dev, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad.shape == (0, 3, 8, 8) and float(w.grad.abs().sum().item()) == 0.0
    weights = ad.randn(300, 4, device=dev, requires_grad=True)
    idx = ad.tensor(np.array([1, 255, 255], np.uint8), device=dev)
    F.embedding(idx, weights).sum().backward()
    assert weights.grad.numpy()[255].tolist() == [2.0] * 4


def test_hypot_does_not_overflow_and_has_pytorchs_gradients(dev):
    a = ad.tensor([3.0, 1e200, 0.0], dtype=ad.float64, device=dev, requires_grad=True)
    b = ad.tensor([4.0, 1e200, 0.0], dtype=ad.float64, device=dev, requires_grad=True)
    h = ad.hypot(a, b)
    h.sum().backward()
    np.testing.assert_allclose(h.detach().numpy(), [5.0, 2**0.5 * 1e200, 0.0])
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 2**-0.5, np.nan])  # 0/0 at the origin
    np.testing.assert_allclose(b.grad.numpy(), [0.8, 2**-0.5, np.nan])


def test_median_along_dim_with_nan_picks_the_first_nan(dev):
    nan = float("nan")
    x = ad.tensor([[1, nan, 2, nan], [3.0, 1, 2, 0], [nan, nan, 1, 2]], device=dev,
                  requires_grad=True)
    r = x.median(1)
    r.values.sum().backward()
    assert r.indices.tolist() == [1, 1, 0]  # PyTorch 2.13's
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]])
