"""The functional pieces behind the extra layers (F.pad's modes, adaptive max / LP / unpool
pooling, local_response_norm, conv_transpose1d; F.interpolate's extra modes are checked through
nn.Upsample) against torch.nn.functional on every device (values, dtypes, gradients),
gradchecked and gradgradchecked in float64, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

R = np.random.default_rng(0)


def rn(*shape):
    return R.standard_normal(shape)


def _F(m):
    return F if m is ad else m.nn.functional


def _idx(m, x, *pool_args, nsp=2):
    """max_pool's indices of x (no gradient through them)."""
    return getattr(_F(m), f"max_pool{nsp}d")(x.detach(), *pool_args, return_indices=True)[1]


X4 = rn(2, 3, 5, 7)
NAN4 = rn(1, 2, 4, 5)
NAN4[0, 1, 2, 3] = np.nan

# (name, fn(module, *tensors), arrays): module is autodiff or torch
CASES = [
    ("pad_reflect_1d", lambda m, a: _F(m).pad(a, (3, 1), mode="reflect"), rn(2, 3, 4)),
    ("pad_reflect_2d_unbatched", lambda m, a: _F(m).pad(a, (2, 2, 1, 3), mode="reflect"),
     rn(2, 4, 5)),
    ("pad_reflect_3d", lambda m, a: _F(m).pad(a, (1, 1, 2, 0, 1, 2), mode="reflect"),
     rn(1, 1, 3, 3, 4)),
    ("pad_replicate_2d", lambda m, a: _F(m).pad(a, (0, 3, 2, 1), mode="replicate"), X4),
    ("pad_replicate_crop", lambda m, a: _F(m).pad(a, (-1, 3), mode="replicate"), rn(2, 5)),
    ("pad_circular_2d", lambda m, a: _F(m).pad(a, (3, 1, 2, 5), mode="circular"), X4),
    ("pad_circular_crop", lambda m, a: _F(m).pad(a, (2, -1, -2, 1), mode="circular"), X4),
    ("pad_circular_full_wrap", lambda m, a: _F(m).pad(a, (4, 4), mode="circular"), rn(3, 4)),
    ("pad_constant_crop", lambda m, a: _F(m).pad(a, (-2, 1, 0, 2), value=1.5), X4),
    ("adaptive_max_pool2d", lambda m, a: _F(m).adaptive_max_pool2d(a, (2, 3)), X4),
    ("adaptive_max_pool2d_indices", lambda m, a: _F(m).adaptive_max_pool2d(a, 3, True), X4),
    ("adaptive_max_pool2d_with_indices",
     lambda m, a: _F(m).adaptive_max_pool2d_with_indices(a, (4, 2)), X4),
    ("adaptive_max_pool2d_nan", lambda m, a: _F(m).adaptive_max_pool2d(a, (3, 2), True), NAN4),
    ("adaptive_max_pool1d", lambda m, a: _F(m).adaptive_max_pool1d(a, 3), rn(2, 3, 8)),
    ("adaptive_max_pool1d_with_indices",
     lambda m, a: _F(m).adaptive_max_pool1d_with_indices(a, 5), rn(3, 7)),
    ("max_pool2d_with_indices", lambda m, a: _F(m).max_pool2d_with_indices(
        a, 3, 2, 1, 1, True), X4),
    ("max_pool2d_indices_dilated", lambda m, a: _F(m).max_pool2d(
        a, (2, 3), (1, 2), (1, 1), 2, False, True), X4),
    ("max_pool1d_with_indices", lambda m, a: _F(m).max_pool1d_with_indices(a, 3, 2, 1),
     rn(2, 3, 8)),
    ("lp_pool2d", lambda m, a: _F(m).lp_pool2d(a, 2, (2, 3), 2), X4),
    ("lp_pool2d_ceil", lambda m, a: _F(m).lp_pool2d(a.abs() + 0.1, 1.5, 2, ceil_mode=True), X4),
    ("lp_pool2d_zero_window", lambda m, a: _F(m).lp_pool2d(a * (a > 0), 2, 2),
     np.concatenate([-np.abs(rn(1, 1, 2, 4)), rn(1, 1, 2, 4)], axis=2)),
    ("lp_pool2d_neg_inf", lambda m, a: _F(m).lp_pool2d(a, -float("inf"), 2), X4),
    ("lp_pool1d", lambda m, a: _F(m).lp_pool1d(a, 3, 2, 1), np.abs(rn(2, 3, 7)) + 0.1),
    ("max_unpool2d", lambda m, a: _F(m).max_unpool2d(
        _F(m).max_pool2d(a, 2), _idx(m, a, 2), 2, output_size=(5, 7)), X4),
    ("max_unpool2d_overlap", lambda m, a: _F(m).max_unpool2d(
        _F(m).max_pool2d(a, 3, 1), _idx(m, a, 3, 1), 3, 1), X4),
    ("max_unpool2d_unbatched", lambda m, a: _F(m).max_unpool2d(
        _F(m).max_pool2d(a, 2, 2, 1), _idx(m, a, 2, 2, 1), 2, 2, 1), rn(3, 4, 4)),
    ("max_unpool1d", lambda m, a: _F(m).max_unpool1d(
        _F(m).max_pool1d(a, 2), _idx(m, a, 2, nsp=1), 2, output_size=[1, 3, 9]), rn(1, 3, 9)),
    ("local_response_norm", lambda m, a: _F(m).local_response_norm(a, 3, 0.1, 0.6, 1.5), X4),
    ("local_response_norm_3d", lambda m, a: _F(m).local_response_norm(a, 4), rn(2, 5, 3)),
    ("conv_transpose1d", lambda m, a, w, b: _F(m).conv_transpose1d(a, w, b, 2, 1, 1),
     rn(2, 4, 5), rn(4, 3, 3), rn(3)),
    ("conv_transpose1d_groups", lambda m, a, w: _F(m).conv_transpose1d(
        a, w, None, 1, 2, 0, 2, 3), rn(1, 4, 6), rn(4, 1, 3)),
    ("conv_transpose1d_unbatched", lambda m, a, w: _F(m).conv_transpose1d(a, w, stride=3),
     rn(2, 5), rn(2, 2, 2)),
]


def _tensors(m, arrays, device):
    rg = [a.dtype.kind == "f" for a in arrays]
    if m is ad:
        return [ad.tensor(a, device=device, requires_grad=g) for a, g in zip(arrays, rg)]
    return [m.tensor(a, requires_grad=g) for a, g in zip(arrays, rg)]


def _flat(y):
    return [v for item in y for v in _flat(item)] if isinstance(y, (tuple, list)) else [y]


@pytest.mark.parametrize("fn,arrays", [pytest.param(c[1], c[2:], id=c[0]) for c in CASES])
def test_matches_torch(fn, arrays, device, torch):
    ours, theirs = _tensors(ad, arrays, device), _tensors(torch, arrays, None)
    ys, ts = _flat(fn(ad, *ours)), _flat(fn(torch, *theirs))
    assert len(ys) == len(ts)
    for y, t in zip(ys, ts):
        assert (tuple(y.shape), y.dtype.name) == (tuple(t.shape), str(t.dtype).split(".")[-1])
        np.testing.assert_allclose(y.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-7,
                                   atol=1e-9)
    rng = np.random.default_rng(1)
    pairs = [(y, t) for y, t in zip(ys, ts) if t.requires_grad]
    seeds = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    sum(((y * ad.tensor(g, device=device)).sum() for (y, _), g in zip(pairs, seeds))).backward()
    sum(((t * torch.tensor(g)).sum() for (_, t), g in zip(pairs, seeds))).backward()
    for a, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_allclose(a.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-7,
                                       atol=1e-9)


def _pooled(x, k=2, stride=None, padding=0):
    y, idx = F.max_pool2d(x.detach(), k, stride, padding, return_indices=True)
    return y.detach().requires_grad_(), idx


@pytest.mark.parametrize("fn", [
    lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
    lambda x: F.pad(x, (3, 0, 0, 4), mode="replicate"),
    lambda x: F.pad(x, (2, -1, 3, 3), mode="circular"),
    lambda x: F.adaptive_max_pool2d(x, (2, 3)),
    lambda x: F.adaptive_max_pool1d(x.flatten(2), 4),
    lambda x: F.lp_pool2d(x, 2, 2, 1),
    lambda x: F.lp_pool1d(x.flatten(2).abs() + 0.5, 1.5, 3),
    lambda x: F.local_response_norm(x, 2, alpha=0.3),
    lambda x: F.conv_transpose1d(x.flatten(2), x[0, :, :2, 0].reshape(2, 2, 1).repeat(1, 1, 3),
                                 stride=2, padding=1),
    lambda x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bicubic"),
    lambda x: F.interpolate(x, size=(3, 2), mode="area"),
    lambda x: F.interpolate(x.unsqueeze(2), size=(2, 3, 7), mode="trilinear"),
], ids=["reflect", "replicate", "circular", "adaptive_max2d", "adaptive_max1d", "lp2d", "lp1d",
        "lrn", "conv_transpose1d", "bicubic", "area", "trilinear"])
def test_gradcheck_and_gradgradcheck(fn, cpu_device):
    x = ad.tensor(R.standard_normal((2, 2, 4, 5)), device=cpu_device, requires_grad=True)
    assert ad.autograd.gradcheck(fn, (x,))
    assert ad.autograd.gradgradcheck(fn, (x,))


def test_max_unpool_gradcheck_and_gradgradcheck(cpu_device):
    x = ad.tensor(R.standard_normal((2, 2, 5, 6)), device=cpu_device)
    y, idx = _pooled(x, 2)
    fn = lambda y: F.max_unpool2d(y, idx, 2, output_size=(5, 6)) ** 2
    assert ad.autograd.gradcheck(fn, (y,))
    assert ad.autograd.gradgradcheck(fn, (y,))


def test_max_unpool_inverts_max_pool_on_the_maxima(cpu_device):
    x = ad.tensor(np.abs(R.standard_normal((2, 3, 6, 8))) + 0.1, device=cpu_device)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(y, idx, 2)
    kept = back.numpy() != 0
    assert kept.sum() == y.numel()
    np.testing.assert_array_equal(back.numpy()[kept], x.numpy()[kept])
    np.testing.assert_array_equal(F.max_pool2d(back, 2).numpy(), y.numpy())


def test_max_unpool_repeated_index_keeps_one_value():
    x = ad.tensor([[[1.0, 5.0, 2.0, 0.0]]])  # windows (0..2) and (1..3) both pick 5
    y, idx = F.max_pool1d(x, 3, 1, return_indices=True)
    assert idx.tolist() == [[[1, 1]]]
    assert F.max_unpool1d(y, idx, 3, 1).tolist() == [[[0.0, 5.0, 0.0, 0.0]]]


def test_adaptive_max_pool_runs_the_max_pool_kernel_for_equal_windows():
    x = ad.randn(1, 2, 6, 4, requires_grad=True)
    assert type(F.adaptive_max_pool2d(x, (3, 2)).grad_fn).__name__ == "MaxPool2d"


def test_errors_name_the_problem():
    x = ad.randn(1, 2, 4, 4)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(y, idx, 2, output_size=(7, 4))
    with pytest.raises(ValueError, match="2 or 4 elements"):
        F.max_unpool2d(y, idx, 2, output_size=(4, 4, 4))
    with pytest.raises(RuntimeError, match="invalid max index 16"):
        F.max_unpool2d(y, idx * 0 + 16, 2)
    with pytest.raises(ValueError, match="indices of the input's shape"):
        F.max_unpool2d(y, idx[..., :1], 2)
    with pytest.raises(TypeError, match="integer indices"):
        F.max_unpool2d(y, y, 2)
    with pytest.raises(ValueError, match="3-D or 4-D"):
        F.adaptive_max_pool2d(ad.randn(4, 4), 2)
    with pytest.raises(ValueError, match="output_size must not be negative"):
        F.adaptive_max_pool1d(ad.randn(1, 4), -1)
    assert F.adaptive_max_pool1d(ad.randn(1, 4), 0).shape == (1, 0)  # empty, as PyTorch
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose1d(ad.randn(1, 2, 3), ad.randn(2, 2, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="matching C_in"):
        F.conv_transpose1d(ad.randn(1, 3, 3), ad.randn(2, 2, 3))
