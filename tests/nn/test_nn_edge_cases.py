"""nn behaviours at PyTorch's edges, each once wrong here: saturated BCE, fully masked attention
rows, softmax's implicit dim, embedding's negative indices and scale_grad_by_freq, antialiased
resizing, all-ignored targets, clip_grad_norm_ orders, Sequential editing and optimizers over
named_parameters(). Expected values are PyTorch 2.13's; where an oracle is needed it is the
installed PyTorch (skipped without it)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn as nn
import autodiff.nn.functional as F
from autodiff import optim

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


@pytest.fixture(params=DEVICES)
def dev(request):
    return request.param


def test_bce_gradient_is_finite_at_saturated_predictions(dev):
    p = ad.tensor([20.0, -20.0, 0.3], device=dev, requires_grad=True)
    t = ad.tensor([1.0, 0.0, 1.0], device=dev)
    F.binary_cross_entropy(ad.sigmoid(p), t).backward()  # sigmoid(20) is exactly 1 in float32
    g = p.grad.numpy()
    assert np.isfinite(g).all() and g[0] == 0.0
    np.testing.assert_allclose(g[2], (1 / (1 + np.exp(-0.3)) - 1) / 3, rtol=1e-6)
    x = ad.rand(5, dtype=ad.float64, device=dev, requires_grad=True)
    y = ad.rand(5, dtype=ad.float64, device=dev, requires_grad=True)
    fn = lambda a, b: F.binary_cross_entropy(a * 0.8 + 0.1, b)
    assert ad.autograd.gradcheck(fn, (x, y)) and ad.autograd.gradgradcheck(fn, (x, y))


@pytest.mark.parametrize("as_float", [False, True])
def test_attention_row_with_nothing_to_attend_gives_zeros(dev, as_float):
    rng = np.random.default_rng(0)
    q, k, v = (ad.tensor(rng.standard_normal((2, 3, 4)), device=dev, requires_grad=True)
               for _ in range(3))
    keep = np.ones((3, 3), bool)
    keep[1] = False
    mask = ad.tensor(np.where(keep, 0.0, -np.inf) if as_float else keep, device=dev)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out.sum().backward()
    assert (out.detach().numpy()[:, 1] == 0).all()
    for t in (q, k, v):
        assert np.isfinite(t.grad.numpy()).all()


def test_softmax_without_dim_takes_pytorchs_implicit_dim():
    x = ad.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.sum(0).numpy(), 1.0, rtol=1e-6)  # 3-D: dim 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(F.log_softmax(ad.randn(2, 3, 4, 5)).exp().sum(1).numpy(),
                                   1.0, rtol=1e-5)  # 4-D: dim 1


def test_embedding_rejects_negative_indices_and_scales_by_frequency(dev):
    emb = nn.Embedding(4, 2, scale_grad_by_freq=True, padding_idx=1).to(dev)
    with ad.no_grad():
        emb.weight.copy_(ad.arange(8.0, device=dev).reshape(4, 2))
    out = emb(ad.tensor([[0, 2, 2], [2, 1, 0]], device=dev))
    (out * ad.arange(12.0, device=dev).reshape(2, 3, 2)).sum().backward()
    assert out.sum().item() == 34.0
    np.testing.assert_array_equal(emb.weight.grad.numpy(), [[5, 6], [0, 0], [4, 5], [0, 0]])
    with pytest.raises(IndexError, match="out of range"):
        emb(ad.tensor([-1], device=dev))


def test_antialiased_resize_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape, size, sf, mode, corners in [
            ((1, 2, 8, 8), (4, 4), None, "bilinear", False),
            ((2, 1, 13, 9), (5, 7), None, "bicubic", False),
            ((1, 1, 10, 10), None, 0.3, "bilinear", False),
            ((1, 1, 6, 6), (12, 4), None, "bicubic", False),
            ((1, 1, 9, 9), (4, 5), None, "bicubic", True)]:
        x = rng.standard_normal(shape)
        ours = F.interpolate(ad.tensor(x), size=size, scale_factor=sf, mode=mode,
                             align_corners=corners, antialias=True).numpy()
        ref = torch.nn.functional.interpolate(torch.tensor(x), size=size, scale_factor=sf,
                                              mode=mode, align_corners=corners, antialias=True)
        np.testing.assert_allclose(ours, ref.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="antialias"):
        F.interpolate(ad.randn(1, 1, 8), size=4, mode="linear", antialias=True)


def test_antialiased_resize_gradcheck():
    x = ad.randn(1, 1, 8, 8, dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(
        lambda a: F.interpolate(a, size=(3, 5), mode="bicubic", antialias=True), (x,))


def test_all_ignored_targets_give_nan_loss_and_zero_gradients(dev):
    x = ad.randn(2, 3, dtype=ad.float64, device=dev, requires_grad=True)
    t = ad.tensor([1, 1], device=dev)
    for loss_fn in (lambda: F.nll_loss(x, t, ignore_index=1),
                    lambda: F.cross_entropy(x, t, ignore_index=1, label_smoothing=0.1),
                    lambda: F.cross_entropy(x, t, ignore_index=1,
                                            weight=ad.tensor([1.0, 2.0, 3.0], device=dev,
                                                             dtype=ad.float64))):
        x.grad = None
        loss = loss_fn()
        loss.backward()
        assert np.isnan(loss.item()) and (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.0, float("inf"), 3.0, 0.5])
def test_clip_grad_norm_orders(norm_type):
    g1, g2 = np.array([[3.0, 0.0], [-4.0, 1.0]]), np.array([0.0, 2.0, -2.0])
    ps = [ad.zeros(2, 2, dtype=ad.float64, requires_grad=True),
          ad.zeros(3, dtype=ad.float64, requires_grad=True)]
    ps[0].grad, ps[1].grad = ad.tensor(g1), ad.tensor(g2)

    def norm(v):
        v = np.abs(v.ravel())
        if norm_type == 0:
            return float((v != 0).sum())
        return v.max() if norm_type == float("inf") else (v ** norm_type).sum() ** (1 / norm_type)

    expect = norm(np.array([norm(g1), norm(g2)]))
    total = nn.utils.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    assert total.item() == pytest.approx(expect)
    np.testing.assert_allclose(ps[0].grad.numpy(), g1 * min(1.0, 1.0 / (expect + 1e-6)))


def test_sequential_editing_keeps_numbering():
    s = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    del s[0]
    s.append(nn.ELU())  # once overwrote the Sigmoid (key "2" reused after a deletion)
    s.insert(1, nn.GELU())
    s.insert(-1, nn.SiLU())
    popped = s.pop(0)
    s.extend([nn.Identity()])
    joined = s + nn.Sequential(nn.ReLU())
    assert isinstance(popped, nn.Tanh) and len(joined) == 6
    assert [type(m).__name__ for m in s] == ["GELU", "Sigmoid", "SiLU", "ELU", "Identity"]
    assert list(s._modules) == ["0", "1", "2", "3", "4"]
    with pytest.raises(ValueError, match="Sequential"):
        s + nn.ReLU()


def test_optimizer_over_named_parameters():
    model = nn.Linear(2, 3)
    opt = optim.Adam(model.named_parameters(), lr=0.1)
    model(ad.randn(4, 2)).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert state["param_groups"][0]["param_names"] == ["weight", "bias"]
    again = optim.Adam(model.named_parameters(), lr=0.1)
    again.load_state_dict(state)
    assert again.param_groups[0]["params"][0] is model.weight
