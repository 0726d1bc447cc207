"""fractional_max_pool2d/3d, lp_pool3d, max_unpool3d, triplet_margin_with_distance_loss,
alpha_dropout and feature_alpha_dropout: values, indices and gradients against PyTorch (with
the same _random_samples, the pooling regions match exactly), and alpha dropout's moments."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


@pytest.fixture(params=DEVICES)
def dev(request):
    return request.param


def _like_torch(torch, fn_ad, fn_torch, *arrays, dev="numpy"):
    """Values and input gradients of sum(w * fn(...)) agree with PyTorch's (float64)."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    xs = [ad.tensor(a, requires_grad=True, device=dev) for a in arrays]
    yt, ya = fn_torch(*ts), fn_ad(*xs)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    w = np.random.default_rng(5).random(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    (ya * ad.tensor(w, device=dev)).sum().backward()
    for t, x in zip(ts, xs):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [dict(kernel_size=2, output_size=(5, 4)),
                                dict(kernel_size=(3, 2), output_ratio=(0.5, 0.7)),
                                dict(kernel_size=2, output_size=1)])
def test_fractional_max_pool2d_regions_match(torch, dev, dtype, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 11, 9)).astype(dtype)
    s = rng.random((2, 3, 2)).astype(dtype)
    yt, it = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), return_indices=True, _random_samples=torch.tensor(s), **kw)
    ya, ia = F.fractional_max_pool2d(ad.tensor(x, device=dev), return_indices=True,
                                     _random_samples=ad.tensor(s), **kw)
    np.testing.assert_array_equal(ya.numpy(), yt.numpy())
    np.testing.assert_array_equal(ia.numpy(), it.numpy())


def test_fractional_max_pool_gradients_and_3d(torch, dev):
    rng = np.random.default_rng(1)
    s2 = rng.random((2, 3, 2))
    x2 = rng.standard_normal((2, 3, 11, 9))
    _like_torch(torch, lambda a: F.fractional_max_pool2d(
        a, 3, output_size=(4, 4), _random_samples=ad.tensor(s2)),
        lambda a: torch.nn.functional.fractional_max_pool2d(
        a, 3, output_size=(4, 4), _random_samples=torch.tensor(s2)), x2, dev=dev)
    _like_torch(torch, lambda a: F.fractional_max_pool2d(
        a, 3, output_size=(4, 4), _random_samples=ad.tensor(s2[:1])),
        lambda a: torch.nn.functional.fractional_max_pool2d(
        a, 3, output_size=(4, 4), _random_samples=torch.tensor(s2[:1])), x2[0], dev=dev)
    x3, s3 = rng.standard_normal((2, 3, 7, 8, 9)), rng.random((2, 3, 3))
    yt, it = torch.nn.functional.fractional_max_pool3d(
        torch.tensor(x3), 2, output_size=(4, 5, 3), return_indices=True,
        _random_samples=torch.tensor(s3))
    ya, ia = F.fractional_max_pool3d(ad.tensor(x3, device=dev), 2, output_size=(4, 5, 3),
                                     return_indices=True, _random_samples=ad.tensor(s3))
    np.testing.assert_array_equal(ya.numpy(), yt.numpy())
    np.testing.assert_array_equal(ia.numpy(), it.numpy())
    y = F.fractional_max_pool2d(ad.randn(1, 2, 10, 10), 2, output_ratio=0.5)  # random regions
    assert y.shape == (1, 2, 5, 5)
    with pytest.raises(ValueError, match="too large relative to input size"):
        F.fractional_max_pool2d(ad.randn(1, 1, 5, 5), 3, output_size=4)
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(ad.randn(1, 1, 5, 5), 2)


def test_lp_pool3d_and_max_unpool3d(torch, dev):
    rng = np.random.default_rng(2)
    x = np.abs(rng.standard_normal((2, 2, 6, 6, 6)))
    for p in (2, 1.5, float("inf")):
        _like_torch(torch, lambda a: F.lp_pool3d(a, p, 2),
                    lambda a: torch.nn.functional.lp_pool3d(a, p, 2), x, dev=dev)
    _like_torch(torch, lambda a: F.lp_pool3d(a, 2, (2, 3, 2), stride=1, ceil_mode=True),
                lambda a: torch.nn.functional.lp_pool3d(a, 2, (2, 3, 2), stride=1,
                                                        ceil_mode=True), x, dev=dev)
    y, i = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    _like_torch(torch, lambda a: F.max_unpool3d(a, ad.tensor(i.numpy(), device=dev), 2),
                lambda a: torch.nn.functional.max_unpool3d(a, i, 2), y.numpy(), dev=dev)


@pytest.mark.parametrize("kw", [{}, dict(swap=True, margin=0.5), dict(reduction="none")])
def test_triplet_margin_with_distance_loss(torch, dev, kw):
    a, p, n = np.random.default_rng(3).standard_normal((3, 4, 5))
    _like_torch(torch, lambda *t: F.triplet_margin_with_distance_loss(*t, **kw),
                lambda *t: torch.nn.functional.triplet_margin_with_distance_loss(*t, **kw),
                a, p, n, dev=dev)
    _like_torch(torch, lambda *t: F.triplet_margin_with_distance_loss(
        *t, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), **kw),
        lambda *t: torch.nn.functional.triplet_margin_with_distance_loss(
        *t, distance_function=lambda u, v: 1 - torch.nn.functional.cosine_similarity(u, v),
        **kw), a, p, n, dev=dev)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_zero_mean_unit_variance(dev, p):
    sat = 1.7580993408473766
    a = 1 / np.sqrt((sat**2 * p + 1) * (1 - p))
    kept, dropped = lambda z: z * a + sat * a * p, -sat * a + sat * a * p
    ad.manual_seed(0)
    z = ad.randn(100, 40, 100, device=dev)  # (N, C, L)
    zn = z.numpy()
    for fn in (F.alpha_dropout, F.feature_alpha_dropout):
        out = fn(z, p, training=True).numpy()
        tol = 0.01 if fn is F.alpha_dropout else 0.05  # 4000 draws for the channel form
        assert abs(out.mean()) < tol and abs(out.std() - 1) < tol, fn.__name__
        was_kept = np.isclose(out, kept(zn), rtol=1e-5, atol=1e-6)
        assert (was_kept | np.isclose(out, dropped)).all(), fn.__name__
        assert abs(1 - was_kept.mean() - p) < 2 * tol, fn.__name__
        if fn is F.feature_alpha_dropout:  # one draw per (n, c): whole rows kept or dropped
            assert (was_kept.all(-1) | ~was_kept.any(-1)).all()
    np.testing.assert_array_equal(F.alpha_dropout(z, 0.5).numpy(), zn)  # eval: identity
    np.testing.assert_array_equal(F.alpha_dropout(z, 1.0, training=True).numpy(), 0)
    with pytest.raises(ValueError, match="dropout probability"):
        F.alpha_dropout(z, 1.5, training=True)
