"""Losses and functional entries against PyTorch (values and input gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn as nn
import autodiff.nn.functional as F

R = np.random.default_rng(0)
X = R.standard_normal((4, 3))
X4 = R.standard_normal((2, 3, 2, 2))
Y = R.standard_normal((4, 3))
P = 1 / (1 + np.exp(-X))
T01 = (R.random((4, 3)) > 0.5).astype(np.float64)
IDX = np.array([0, 2, 1, 2])
IDX_IGN = np.array([0, -100, 1, 2])
IDX4 = R.integers(0, 3, (2, 2, 2))
W3 = np.array([0.2, 1.0, 3.0])
PROBS = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)

# (id, name of the function in both F namespaces, args, kwargs); the first arg gets the grad
CASES = [
    ("mse", "mse_loss", (X, Y), {}),
    ("mse_sum", "mse_loss", (X, Y), {"reduction": "sum"}),
    ("l1_none", "l1_loss", (X, Y), {"reduction": "none"}),
    ("smooth_l1", "smooth_l1_loss", (X, Y), {"beta": 0.5}),
    ("huber", "huber_loss", (X, Y), {"delta": 0.7}),
    ("bce", "binary_cross_entropy", (P, T01), {}),
    ("bce_weight", "binary_cross_entropy", (P, T01), {"weight": W3}),
    ("bce_logits", "binary_cross_entropy_with_logits", (X * 30, T01), {}),
    ("bce_logits_pw", "binary_cross_entropy_with_logits", (X, T01),
     {"pos_weight": W3, "reduction": "sum"}),
    ("nll", "nll_loss", (np.log(PROBS), IDX), {}),
    ("nll_weight_ignore", "nll_loss", (np.log(PROBS), IDX_IGN), {"weight": W3}),
    ("ce", "cross_entropy", (X, IDX), {}),
    ("ce_none", "cross_entropy", (X, IDX), {"reduction": "none"}),
    ("ce_ignore_smooth", "cross_entropy", (X, IDX_IGN), {"label_smoothing": 0.2}),
    ("ce_weight_smooth", "cross_entropy", (X, IDX_IGN),
     {"label_smoothing": 0.1, "weight": W3}),
    ("ce_weight_smooth_sum", "cross_entropy", (X, IDX), {"label_smoothing": 0.1,
                                                         "weight": W3, "reduction": "sum"}),
    ("ce_spatial", "cross_entropy", (X4, IDX4), {"weight": W3}),
    ("ce_probs", "cross_entropy", (X, PROBS), {"label_smoothing": 0.1}),
    ("ce_unbatched", "cross_entropy", (X[0], np.array(IDX[1])), {}),
    ("kl", "kl_div", (np.log(PROBS), PROBS[::-1].copy()), {"reduction": "batchmean"}),
    ("kl_log_target", "kl_div", (np.log(PROBS), np.log(PROBS[::-1].copy())),
     {"reduction": "sum", "log_target": True}),
    ("gelu", "gelu", (X,), {}),
    ("softplus", "softplus", (X * 10,), {"beta": 0.5}),
    ("pad_reflect", "pad", (X4, (1, 1, 1, 0)), {"mode": "reflect"}),
    ("pad_replicate", "pad", (X4, (2, 1, 0, 1)), {"mode": "replicate"}),
    ("pad_circular", "pad", (X4, (1, 1, 0, 1)), {"mode": "circular"}),
    ("interp_nearest", "interpolate", (X4,), {"scale_factor": 2}),
    ("interp_nearest_size", "interpolate", (X4,), {"size": (3, 5)}),
    ("interp_bilinear", "interpolate", (X4,), {"size": (3, 5), "mode": "bilinear",
                                               "align_corners": False}),
    ("interp_bilinear_ac", "interpolate", (X4,), {"scale_factor": 2, "mode": "bilinear",
                                                  "align_corners": True}),
    ("unfold", "unfold", (X4, 2), {"padding": 1}),
    ("fold", "fold", (R.standard_normal((1, 4, 9)), (4, 4), 2), {"stride": 1, "padding": 0}),
    ("channel_shuffle", "channel_shuffle", (R.standard_normal((1, 4, 2)), 2), {}),
    ("group_norm", "group_norm", (X4, 3), {}),
    ("normalize", "normalize", (X,), {}),
]


def _conv(v, mod, dev=None, grad=False):
    if isinstance(v, np.ndarray):
        if mod == "ad":
            return ad.tensor(v, device=dev, requires_grad=grad and v.dtype.kind == "f")
        import torch

        return torch.tensor(v, requires_grad=grad and v.dtype.kind == "f")
    return v


@pytest.mark.parametrize("fname,args,kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_functional_matches_torch(fname, args, kwargs, cpu_device, torch):
    a_args = [_conv(a, "ad", cpu_device, i == 0) for i, a in enumerate(args)]
    t_args = [_conv(a, "torch", None, i == 0) for i, a in enumerate(args)]
    a_kw = {k: _conv(v, "ad", cpu_device) for k, v in kwargs.items()}
    t_kw = {k: _conv(v, "torch") for k, v in kwargs.items()}
    if fname == "channel_shuffle":
        ours, theirs = F.channel_shuffle(*a_args), torch.nn.functional.channel_shuffle(*t_args)
    else:
        ours = getattr(F, fname)(*a_args, **a_kw)
        theirs = getattr(torch.nn.functional, fname)(*t_args, **t_kw)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), atol=1e-8, rtol=1e-6)
    g = R.standard_normal(tuple(theirs.shape))
    (ours * ad.tensor(g, device=cpu_device)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a_args[0].grad.numpy(), t_args[0].grad.numpy(), atol=1e-8,
                               rtol=1e-6)


def test_one_hot_and_embedding_padding_grad(cpu_device):
    idx = ad.tensor([0, 2, 2], device=cpu_device)
    assert F.one_hot(idx).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
    emb = nn.Embedding(3, 2, padding_idx=2).to(cpu_device)
    emb(idx).sum().backward()
    assert emb.weight.grad.tolist() == [[1, 1], [0, 0], [0, 0]]


def test_cross_entropy_is_stable_for_huge_logits(cpu_device):
    x = ad.tensor([[1000.0, -1000.0, 0.0]], device=cpu_device, requires_grad=True)
    loss = F.cross_entropy(x, ad.tensor([1], device=cpu_device))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 2000.0) < 1e-3
    assert np.isfinite(x.grad.numpy()).all()


def test_loss_gradcheck(cpu_device):
    x = ad.randn(3, 4, dtype=ad.float64, device=cpu_device, requires_grad=True)
    t = ad.tensor([0, 3, -100], device=cpu_device)
    assert ad.autograd.gradcheck(
        lambda x: F.cross_entropy(x, t, label_smoothing=0.1, ignore_index=-100), (x,))
    y = ad.rand(3, 4, dtype=ad.float64, device=cpu_device)
    assert ad.autograd.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y), (x,))
    for reduction in ("mean", "sum"):  # the fused sum of squares, both inputs, 2nd order
        assert ad.autograd.gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction),
                                     (x, y.requires_grad_()))
        assert ad.autograd.gradgradcheck(lambda x: F.mse_loss(x, y, reduction=reduction), (x,))
        y.requires_grad_(False)


def test_loss_errors_name_the_op():
    with pytest.raises(ValueError, match="cross_entropy: expected target of shape"):
        F.cross_entropy(ad.randn(3, 4), ad.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(ad.randn(2), ad.randn(2), reduction="avg")


def test_dropout_is_reproducible_and_scaled(cpu_device):
    x = ad.ones(1000, device=cpu_device)
    ad.manual_seed(3)
    a = F.dropout(x, 0.25)
    ad.manual_seed(3)
    b = F.dropout(x, 0.25)
    assert a.tolist() == b.tolist()
    kept = a.numpy()[a.numpy() != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert 0.15 < float((a == 0).float().mean().item()) < 0.35
    d2 = nn.Dropout2d(0.5)
    y = d2(ad.ones(4, 6, 3, 3, device=cpu_device))
    per_channel = y.reshape(4, 6, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all().item()
    d2.eval()
    assert d2(x) is x
