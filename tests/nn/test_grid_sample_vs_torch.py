"""grid_sample / affine_grid against PyTorch (every mode, padding mode and align_corners, 4-D
and 5-D; outputs and input and grid gradients), gradchecked in float64; gumbel_softmax's
shapes, normalization, straight-through gradient and seeded reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

R = np.random.default_rng(0)


def _run(lib, fn, arrays, kwargs, device, seed):
    make = (lambda a: ad.tensor(a, device=device, requires_grad=True)) if lib is ad else \
        (lambda a: lib.tensor(a, requires_grad=True))
    xs = [make(a) for a in arrays]
    y = fn(*xs, **kwargs)
    w = np.random.default_rng(seed).standard_normal(tuple(y.shape))
    wt = ad.tensor(w, device=device) if lib is ad else lib.tensor(w)
    (y * wt).sum().backward()
    grads = [None if x.grad is None else x.grad.cpu().numpy() if lib is ad else x.grad.numpy()
             for x in xs]
    return y.detach().cpu().numpy() if lib is ad else y.detach().numpy(), grads


def _compare(fn_name, arrays, kwargs, device, torch, args=()):
    ours = getattr(F, fn_name)
    theirs = getattr(torch.nn.functional, fn_name)
    ya, ga = _run(ad, lambda *x, **k: ours(*x, *args, **k), arrays, kwargs, device, 1)
    yt, gt = _run(torch, lambda *x, **k: theirs(*x, *args, **k), arrays, kwargs, device, 1)
    assert ya.shape == yt.shape
    np.testing.assert_allclose(ya, yt, atol=1e-10)
    for a, t in zip(ga, gt):
        if a is None:  # constant in autodiff: zero in PyTorch
            assert t is None or not np.any(t)
        else:
            np.testing.assert_allclose(a, t, atol=1e-10)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("ndim", [4, 5])
def test_grid_sample_matches_torch(ndim, mode, padding_mode, align_corners, device, torch):
    if ndim == 4:
        x, g = R.standard_normal((2, 3, 5, 6)), R.uniform(-1.4, 1.4, (2, 4, 7, 2))
    else:
        x, g = R.standard_normal((2, 2, 4, 5, 3)), R.uniform(-1.4, 1.4, (2, 3, 4, 2, 3))
    _compare("grid_sample", [x, g], {"mode": mode, "padding_mode": padding_mode,
                                         "align_corners": align_corners}, device, torch)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")  # PyTorch's, unit size
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 5), (2, 3, 3, 4, 5)])
def test_affine_grid_matches_torch(size, align_corners, device, torch):
    theta = R.standard_normal((2, len(size) - 2, len(size) - 1))
    _compare("affine_grid", [theta], {"align_corners": align_corners}, device, torch,
             args=(size,))


def test_affine_grid_then_grid_sample_identity():
    x = ad.randn(2, 3, 4, 5)
    theta = ad.tensor(np.tile(np.eye(2, 3), (2, 1, 1)), dtype=ad.float32)
    y = F.grid_sample(x, F.affine_grid(theta, (2, 3, 4, 5), align_corners=False),
                      align_corners=False)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-5)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(padding_mode, cpu_device):
    x = ad.tensor(R.standard_normal((1, 2, 3, 4)), device=cpu_device, requires_grad=True)
    # keep samples off the pixel lattice and the clip bounds, where the derivative jumps
    g = ad.tensor(R.uniform(-1.3, 1.3, (1, 3, 2, 2)) + 0.013, device=cpu_device,
                  requires_grad=True)
    fn = lambda x, g: F.grid_sample(x, g, padding_mode=padding_mode,
                                    align_corners=padding_mode == "border")
    assert ad.autograd.gradcheck(fn, (x, g))


def test_grid_sample_gradgradcheck():
    x = ad.tensor(R.standard_normal((1, 1, 3, 3)), requires_grad=True)
    g = ad.tensor(R.uniform(-0.9, 0.9, (1, 2, 2, 2)) + 0.013, requires_grad=True)
    assert ad.autograd.gradgradcheck(lambda x, g: F.grid_sample(x, g, align_corners=False),
                                     (x, g))
    theta = ad.tensor(R.standard_normal((1, 2, 3)), requires_grad=True)
    assert ad.autograd.gradcheck(lambda t: F.affine_grid(t, (1, 1, 3, 4), False), (theta,))


def test_grid_sample_errors():
    with pytest.raises(ValueError, match="mode"):
        F.grid_sample(ad.randn(1, 1, 2, 2), ad.randn(1, 2, 2, 2), mode="cubic")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(ad.randn(1, 1, 2, 2), ad.randn(1, 2, 2, 2), padding_mode="wrap")
    with pytest.raises(ad.errors.ShapeError):
        F.grid_sample(ad.randn(1, 1, 2, 2), ad.randn(1, 2, 2, 3))
    with pytest.raises(ad.errors.ShapeError):
        F.affine_grid(ad.randn(1, 2, 3), (1, 1, 2, 2, 2))


# ----------------------------------------------------------------------------- gumbel softmax
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_gumbel_softmax_soft(dim, device):
    logits = ad.tensor(R.standard_normal((3, 4, 5)), device=device)
    y = F.gumbel_softmax(logits, tau=0.7, dim=dim)
    assert y.shape == (3, 4, 5) and y.dtype == ad.float64
    np.testing.assert_allclose(y.sum(dim).cpu().numpy(), 1.0, atol=1e-12)
    assert (y.cpu().numpy() > 0).all()


@pytest.mark.parametrize("dim", [-1, 1])
def test_gumbel_softmax_hard_straight_through(dim, device):
    data = R.standard_normal((4, 6))
    w = ad.tensor(R.standard_normal((4, 6)), device=device)
    grads, outs = [], []
    for hard in (False, True):
        ad.manual_seed(7)
        x = ad.tensor(data, device=device, requires_grad=True)
        y = F.gumbel_softmax(x, tau=0.5, hard=hard, dim=dim)
        (y * w).sum().backward()
        grads.append(x.grad.cpu().numpy())
        outs.append(y.detach().cpu().numpy())
    soft, hard_y = outs
    assert set(np.unique(hard_y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard_y.sum(dim), 1.0)
    np.testing.assert_array_equal(hard_y.argmax(dim), soft.argmax(dim))  # same noise
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)


def test_gumbel_softmax_seeded():
    logits = ad.randn(5, 7)
    ad.manual_seed(123)
    a = F.gumbel_softmax(logits).numpy()
    ad.manual_seed(123)
    b = F.gumbel_softmax(logits).numpy()
    c = F.gumbel_softmax(logits).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_gumbel_softmax_distribution():
    """Argmax of logits + Gumbel noise is a draw from softmax(logits)."""
    logits = ad.tensor(np.log([[0.1, 0.2, 0.7]]).repeat(4000, 0))
    y = F.gumbel_softmax(logits, tau=1.0, hard=True).numpy()
    np.testing.assert_allclose(y.mean(0), [0.1, 0.2, 0.7], atol=0.03)
