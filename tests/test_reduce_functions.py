"""nanmedian, nanquantile, scatter_reduce and linalg.lstsq against PyTorch (values and
gradients), plus the index checks and tie gradients that once differed from it. Literal
expected values are PyTorch 2.13's, so those tests need no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff.autograd import gradcheck

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]
NAN = float("nan")


@pytest.fixture(params=DEVICES)
def dev(request):
    return request.param


def _value_and_grads(lib, fn, arrays, weights, **kw):
    """fn(*tensors) (first field of a tuple result) and the gradients of sum(w * it)."""
    ts = [lib.tensor(a, requires_grad=a.dtype.kind == "f", **kw) for a in arrays]
    y = fn(*ts)
    y = y[0] if isinstance(y, tuple) else y
    if y.requires_grad:
        (y * lib.tensor(weights(tuple(y.shape)), **kw)).sum().backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in ts]
    return y.detach().numpy(), grads


def _check_like_torch(torch, fn_ad, fn_torch, *arrays, dev="numpy"):
    rng = np.random.default_rng(0)
    w = {}

    def weights(shape):
        return w.setdefault(shape, rng.random(shape))

    ya, ga = _value_and_grads(ad, fn_ad, arrays, weights, device=dev)
    yt, gt = _value_and_grads(torch, fn_torch, arrays, weights)
    np.testing.assert_allclose(ya, yt, rtol=1e-10, atol=1e-12, equal_nan=True)
    for a, t in zip(ga, gt):
        assert (a is None) == (t is None)
        if a is not None:
            np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-12)


ROWS = np.array([[1.0, NAN, 2.0, 2.0, 3.0], [NAN, 1.0, NAN, NAN, NAN], [5, 4, 3, 2, 1],
                 [0.5, NAN, -1.0, 7.0, 2.0]])
# no ties: which of two equal entries takes a quantile's gradient depends on the sort
QROWS = np.array([[1.0, NAN, 2.0, 2.2, 3.0], [NAN, 1.25, NAN, NAN, NAN], [5, 4, 3.5, 2.5, 1.5],
                  [0.5, NAN, -1.0, 7.0, 2.25]])


def test_nanmedian_values_indices_and_gradients(dev):
    r = ad.tensor(ROWS, device=dev).nanmedian(1)
    np.testing.assert_array_equal(r.values.numpy(), [2.0, 1.0, 3.0, 0.5])
    np.testing.assert_array_equal(r.indices.numpy(), [2, 1, 2, 0])
    x = ad.tensor([1.0, NAN, 2.0, 2.0, 3.0], device=dev, requires_grad=True)
    y = x.nanmedian()
    y.backward()
    assert float(y) == 2.0
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0.5, 0.5, 0])  # ties share it
    assert np.isnan(float(ad.tensor([NAN, NAN], device=dev).nanmedian()))
    assert np.isnan(ad.tensor([[NAN, NAN]], device=dev).nanmedian(1).values.numpy()).all()


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_nanquantile_like_torch(torch, dev, interpolation):
    q = [0.1, 0.5, 0.9]
    _check_like_torch(
        torch, lambda x: x.nanquantile(ad.tensor(q, dtype=ad.float64), 1,
                                             interpolation=interpolation),
        lambda x: x.nanquantile(torch.tensor(q, dtype=torch.float64), 1,
                                interpolation=interpolation), QROWS, dev=dev)
    _check_like_torch(
        torch, lambda x: x.nanquantile(0.3, interpolation=interpolation, keepdim=True),
        lambda x: x.nanquantile(0.3, interpolation=interpolation, keepdim=True), QROWS,
        dev=dev)


def test_nanquantile_literal(dev):
    x = ad.tensor([[3.0, NAN, 1.0, 2.0], [NAN] * 4], device=dev)
    np.testing.assert_allclose(x.nanquantile(0.25, 1).numpy(), [1.5, NAN])
    np.testing.assert_allclose(ad.nanquantile(x, 0.5).numpy(), 2.0)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_like_torch(torch, dev, reduce, include_self):
    rng = np.random.default_rng(1)
    # small integers, so there are ties, repeated targets and zeros (prod's special case)
    x = rng.integers(-2, 3, (4, 5)).astype(np.float64)
    src = rng.integers(-2, 3, (6, 5)).astype(np.float64)
    idx0, idx1 = rng.integers(0, 4, (6, 5)), rng.integers(0, 5, (4, 3))
    for d, idx, s in ((0, idx0, src), (1, idx1, src[:4, :3].copy())):
        _check_like_torch(
            torch, lambda a, b: a.scatter_reduce(d, ad.tensor(idx, device=dev), b, reduce,
                                                 include_self=include_self),
            lambda a, b: a.scatter_reduce(d, torch.tensor(idx), b, reduce,
                                          include_self=include_self), x, s, dev=dev)
    xi, si = rng.integers(-5, 5, (4, 5)), rng.integers(-5, 5, (6, 5))
    _check_like_torch(
        torch, lambda a, b: a.scatter_reduce(0, ad.tensor(idx0, device=dev), b, reduce,
                                             include_self=include_self),
        lambda a, b: a.scatter_reduce(0, torch.tensor(idx0), b, reduce,
                                      include_self=include_self), xi, si, dev=dev)


def test_scatter_reduce_literal_and_gradcheck(dev):
    x = ad.tensor([1, 5, 3, 2], device=dev)
    i, s = ad.tensor([0, 0, 1], device=dev), ad.tensor([4, 7, 9], device=dev)
    np.testing.assert_array_equal(x.scatter_reduce(0, i, s, "mean").numpy(), [4, 7, 3, 2])
    np.testing.assert_array_equal(
        x.scatter_reduce(0, i, s, "mean", include_self=False).numpy(), [5, 9, 3, 2])
    np.testing.assert_array_equal(x.scatter_reduce(0, i, s, "amax").numpy(), [7, 9, 3, 2])
    y = ad.zeros(4, device=dev)
    y.scatter_reduce_(0, i, s.double(), "sum")
    np.testing.assert_array_equal(y.numpy(), [11, 9, 0, 0])
    rng = np.random.default_rng(2)
    idx = ad.tensor(rng.integers(0, 3, (5, 2)), device=dev)
    for reduce in ("prod", "amax", "mean"):
        a = ad.tensor(rng.standard_normal((3, 2)), device=dev, requires_grad=True)
        b = ad.tensor(rng.standard_normal((5, 2)), device=dev, requires_grad=True)
        assert gradcheck(lambda a, b: a.scatter_reduce(0, idx, b, reduce), (a, b))


def test_scatter_reduce_errors():
    x, i = ad.zeros(3), ad.tensor([0, 1])
    with pytest.raises(ValueError, match="reduce argument must be one of"):
        x.scatter_reduce(0, i, ad.ones(2), "max")
    with pytest.raises(RuntimeError, match="index out of bounds"):
        x.scatter_reduce(0, ad.tensor([3]), ad.ones(1), "sum")
    with pytest.raises(ad.ShapeError, match="no larger than"):
        x.scatter_reduce(0, i, ad.ones(1), "sum")


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_like_torch(torch, dev, driver):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    ra = ad.linalg.lstsq(ad.tensor(a, device=dev), ad.tensor(b, device=dev), driver=driver)
    rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for field in ("solution", "residuals", "rank", "singular_values"):
        got, want = getattr(ra, field), getattr(rt, field)
        assert got.shape == tuple(want.shape), field
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    for shapes in (((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 4, 3), (2, 4, 2)), ((3, 5), (3, 2))):
        arrays = [rng.standard_normal(s) for s in shapes]
        _check_like_torch(torch, lambda a, b: ad.linalg.lstsq(a, b, driver="gelsd").solution,
                          lambda a, b: torch.linalg.lstsq(a, b, driver="gelsd").solution,
                          *arrays, dev=dev)


def test_negative_indices_raise_as_in_torch(dev):
    x = ad.ones(3, device=dev)
    with pytest.raises(RuntimeError, match=r"gather: index out of bounds for dim 0 of size 3"):
        ad.gather(x, 0, ad.tensor([-1], device=dev))
    with pytest.raises(IndexError, match=r"index_select: index out of range"):
        x.index_select(0, ad.tensor([-1], device=dev))
    with pytest.raises(RuntimeError, match=r"scatter_add: index out of bounds"):
        ad.zeros(3, device=dev).scatter_add(0, ad.tensor([-1], device=dev), ad.ones(1))
    with pytest.raises(RuntimeError, match=r"gather: index out of bounds"):
        ad.gather(x, 0, ad.tensor([3], device=dev))


def test_median_ties_share_the_gradient_and_copysign_gives_sign_a_zero_grad(dev):
    x = ad.tensor([1.0, 2.0, 2.0, 2.0, 3.0], device=dev, requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 1 / 3, 0])
    x = ad.tensor([1.0, float("inf"), float("inf")], device=dev, requires_grad=True)
    y = x.median()
    y.backward()
    assert float(y) == float("inf") and float(x.grad.sum()) == 1.0
    a = ad.tensor([1.0, -2.0], device=dev, requires_grad=True)
    b = ad.tensor([-1.0, 1.0], device=dev, requires_grad=True)
    ad.copysign(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [-1, -1])
    np.testing.assert_array_equal(b.grad.numpy(), [0, 0])
