"""Eighteenth session's PyTorch-parity fixes: ``Tensor.shape`` is an ``autodiff.Size``, as
``torch.Size``; the array-level activations and pow by a constant give PyTorch's values and
gradients."""

import math

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")


def test_shape_is_a_size_like_torch(device):
    x = ad.randn(2, 3, 4, device=device)
    t = torch.randn(2, 3, 4)
    s = x.shape
    assert isinstance(s, ad.Size) and isinstance(s, tuple)
    assert s == t.shape == (2, 3, 4) and hash(s) == hash((2, 3, 4))
    assert s.numel() == t.shape.numel() == 24
    for got, want in [(s[1:], t.shape[1:]), (s[::-1], t.shape[::-1]), (s + (5,), t.shape + (5,)),
                      ((1,) + s, (1,) + t.shape), (s * 2, t.shape * 2), (2 * s, 2 * t.shape)]:
        assert isinstance(got, ad.Size) and type(want) is torch.Size and tuple(got) == tuple(want)
    assert s[0] == 2 and type(s[0]) is int and s[-1] == 4
    assert repr(s) == "autodiff.Size([2, 3, 4])" and repr(t.shape) == "torch.Size([2, 3, 4])"
    assert x.size() == s and x.size(1) == 3


def test_a_tensor_of_a_shape_is_uninitialized_of_that_shape(device):
    # torch.Tensor(x.shape) allocates that shape (a Size is sizes, a plain tuple is data)
    x = ad.zeros(2, 5, device=device)
    assert ad.Tensor(x.shape).shape == tuple(torch.Tensor(torch.zeros(2, 5).shape).shape) == (2, 5)
    assert ad.zeros(x.shape).shape == (2, 5) and ad.ones(x.shape[1:]).shape == (5,)


# (then 49 more elements: PyTorch's vectorised kernels, not its scalar tails, see the first 15;
# they differ at NaN for hardtanh, hardswish and the shrinks' gradients, at -0 for softshrink)
_SPECIAL = [-4.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 3.0, 4.0, 7.0, 25.0, float("nan"), -0.0,
            float("inf"), -float("inf")] + np.linspace(-5, 5, 49).tolist()
_ACTIVATIONS = {
    "hardswish": lambda F, x: F.hardswish(x),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "hardtanh": lambda F, x: F.hardtanh(x, -2.0, 3.0),
    "relu6": lambda F, x: F.relu6(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.1),
    "leaky_relu_steep": lambda F, x: F.leaky_relu(x, 2.0),
    "elu": lambda F, x: F.elu(x, 0.5),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 2.0),
    "softplus": lambda F, x: F.softplus(x),
    "softplus_beta": lambda F, x: F.softplus(x, 2.0, 4.9),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "mish": lambda F, x: F.mish(x),
    "hardshrink": lambda F, x: F.hardshrink(x),
    "hardshrink_1": lambda F, x: F.hardshrink(x, 1.0),
    "softshrink": lambda F, x: F.softshrink(x, 1.0),
    "threshold": lambda F, x: F.threshold(x, 1.0, -7.0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(_ACTIVATIONS))
def test_activation_values_grads_and_double_grads_match_torch(device, dtype, name):
    """The array-level activations (backends/activation_kernels.py) against PyTorch at its
    boundaries, +-0, NaN and infinities: values, gradients and (create_graph) second ones."""
    f = _ACTIVATIONS[name]
    xt = torch.tensor(_SPECIAL, dtype=getattr(torch, dtype), requires_grad=True)
    yt = f(torch.nn.functional, xt)
    (gt,) = torch.autograd.grad(yt.sum(), xt, create_graph=True)
    try:
        (g2t,) = torch.autograd.grad(gt.sum(), xt)
    except RuntimeError:  # PyTorch has no double backward for hardsigmoid's
        g2t = None
    xa = ad.tensor(_SPECIAL, dtype=getattr(ad, dtype), device=device, requires_grad=True)
    ya = f(ad.nn.functional, xa)
    (ga,) = ad.autograd.grad(ya.sum(), xa, create_graph=True)
    # (a gradient that does not depend on x at all, as leaky ReLU's, has no graph here)
    g2a = ad.autograd.grad(ga.sum(), xa, allow_unused=True)[0] if ga.requires_grad else None
    # Second derivatives away from NaN (PyTorch's hardswish gives 0 there), to 1e-9 (its
    # float32 log-sigmoid gives 0 at x = 25, ours 1.4e-11) or float32's 2e-6 (mish, x ~ 4.7).
    finite = ~np.isnan(np.array(_SPECIAL))
    rtol = 4e-6 if dtype == "float32" else 2e-6
    for got, want, rtol, atol, at in ((ya, yt, rtol, 1e-30, ...), (ga, gt, rtol, 1e-30, ...),
                                      (g2a, g2t, 1e-4, 2e-6 if dtype == "float32" else 1e-9,
                                       finite)):
        if want is None:
            continue
        got = ad.zeros_like(xa) if got is None else got
        np.testing.assert_allclose(got.detach().numpy()[at], want.detach().numpy()[at],
                                   rtol=rtol, atol=atol, equal_nan=True)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log1p_exp_stays_finite_past_exp_overflow(device, dtype):
    """softplus with no threshold (soft margin, BCE with pos_weight) is max(z, 0) + log1p(exp(
    -|z|)): finite where exp(z) overflows (PyTorch's softplus(threshold=inf) gives inf)."""
    x = ad.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=getattr(ad, dtype), device=device,
                  requires_grad=True)
    loss = ad.nn.functional.soft_margin_loss(x, ad.ones_like(x), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 1100 + math.log(2), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [-1, -1, -0.5, 0, 0], atol=1e-30)


@pytest.mark.parametrize("e", [3, -1, -2, 0.5, -0.5, 4, 5, -3, 2.5, -1.5, 0.0, 1.0, 1e-3,
                               float("inf")])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_pow_by_a_constant_matches_torch(device, dtype, e):
    """x ** e: PyTorch's products for 3, -1, -2, sqrt for 0.5, |x| ** e with the sign put
    back otherwise (NaN for a finite negative base and a non-integer e)."""
    x = np.random.default_rng(0).standard_normal(1000).astype(dtype)
    x[:8] = [0, -0.0, np.inf, -np.inf, np.nan, 1, -1, 2]
    got = (ad.tensor(x, device=device) ** e).numpy()
    want = (torch.tensor(x) ** e).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == "float16" else 3e-7, atol=0,
                               equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["smooth_l1", "smooth_l1_beta", "huber", "huber_delta",
                                  "bce_logits", "bce_logits_mean"])
def test_fused_losses_match_torch_with_target_grads(device, dtype, name):
    """smooth_l1 / huber (one node, gradient g clamp(d, -delta, delta)) and BCE with logits
    ((1 - t) x - log sigmoid(x)): values and both gradients, with infinities and the
    boundaries |x - t| = delta."""
    fns = {
        "smooth_l1": lambda F, x, t: F.smooth_l1_loss(x, t, reduction="none"),
        "smooth_l1_beta": lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.5, reduction="sum"),
        "huber": lambda F, x, t: F.huber_loss(x, t, reduction="none"),
        "huber_delta": lambda F, x, t: F.huber_loss(x, t, delta=2.0),
        "bce_logits": lambda F, x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        "bce_logits_mean": lambda F, x, t: F.binary_cross_entropy_with_logits(x, t),
    }
    rng = np.random.default_rng(0)
    a = rng.standard_normal(300) * 3
    a[:6] = [0, 1, -1, 2, np.inf, -np.inf]
    tgt = 1 / (1 + np.exp(-rng.standard_normal(300))) if "bce" in name else rng.standard_normal(300)
    tgt[:6] = [0, 0, 0, 0, 0, 1] if "bce" not in name else [0.5, 0, 1, 0.5, 0, 1]
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    xt, tt = (torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in (a, tgt))
    yt = fns[name](torch.nn.functional, xt, tt)
    want = [yt, *torch.autograd.grad(yt.sum(), (xt, tt))]
    xa, ta = (ad.tensor(v, dtype=getattr(ad, dtype), device=device, requires_grad=True)
              for v in (a, tgt))
    ya = fns[name](ad.nn.functional, xa, ta)
    got = [ya, *ad.autograd.grad(ya.sum(), (xa, ta))]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), equal_nan=True, **tol)


def test_smooth_l1_rejects_a_negative_beta_as_torch(device):
    x = ad.ones(2, device=device)
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        ad.nn.functional.smooth_l1_loss(x, x * 0, beta=-1.0)
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        torch.nn.functional.smooth_l1_loss(torch.ones(2), torch.zeros(2), beta=-1.0)
