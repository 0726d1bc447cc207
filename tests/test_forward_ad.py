"""ad.autograd.forward_ad (dual tensors, computed by the double-vjp trick on reverse mode)
against torch.autograd.forward_ad in float64."""

from __future__ import annotations

import autodiff.autograd.forward_ad as fwad
import numpy as np
import pytest

import autodiff as ad

# torch's forward AD loads its decompositions with torch.jit.script, which warns that it is
# deprecated: the oracle's warning, not ours
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def _pair(torch, *shape, seed=0):
    a = np.random.default_rng(seed + 7 * sum(shape)).standard_normal(shape)
    return ad.tensor(a, dtype=ad.float64), torch.tensor(a)


def _close(a, b, tol=1e-10):
    a, b = a.detach().numpy(), b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _mlp(x, w1, w2):
    return (x @ w1).tanh() @ w2


CASES = {  # f(x, w): the same code for both libraries; x carries the tangent
    "elementwise": lambda x, w: (x.sin() * x.exp() + x * x).tanh().sigmoid(),
    "matmul": lambda x, w: x @ w,
    "softmax": lambda x, w: (x @ w).softmax(-1),
    "log_softmax": lambda x, w: (x @ w).log_softmax(0),
    "reductions": lambda x, w: x.sum(0) + x.max(1).values.sum() + x.mean() * x.prod(1)[0],
    "mlp": lambda x, w: _mlp(x, w, w.T).relu().sum(-1),
    "broadcast": lambda x, w: (x[:, :1] / (1 + x.abs())) ** 2,
}


@pytest.mark.parametrize("name", list(CASES))
def test_tangents_match_torch(torch, name):
    f = CASES[name]
    (x, tx), (v, tv), (w, tw) = _pair(torch, 3, 4), _pair(torch, 3, 4, seed=1), _pair(torch, 4, 5)
    with fwad.dual_level():
        p, t = fwad.unpack_dual(f(fwad.make_dual(x, v), w))
    with torch.autograd.forward_ad.dual_level():
        tp, tt = torch.autograd.forward_ad.unpack_dual(
            f(torch.autograd.forward_ad.make_dual(tx, tv), tw))
    _close(p, tp)
    _close(t, tt)
    assert not p.requires_grad and not t.requires_grad


def test_several_duals_small_mlp(torch):
    (x, tx), (w1, tw1), (w2, tw2) = _pair(torch, 2, 3), _pair(torch, 3, 4), _pair(torch, 4, 2)
    (v1, tv1), (v2, tv2) = _pair(torch, 3, 4, seed=1), _pair(torch, 4, 2, seed=1)
    with fwad.dual_level():
        out = _mlp(x, fwad.make_dual(w1, v1), fwad.make_dual(w2, v2))
        p, t = fwad.unpack_dual(out)
        t_again = fwad.unpack_dual(out).tangent  # unpacking twice gives the same
    tfw = torch.autograd.forward_ad
    with tfw.dual_level():
        tp, tt = tfw.unpack_dual(_mlp(tx, tfw.make_dual(tw1, tv1), tfw.make_dual(tw2, tv2)))
    _close(p, tp)
    _close(t, tt)
    _close(t_again, tt)


def test_unpack_semantics(torch):
    (x, _), (v, _) = _pair(torch, 3), _pair(torch, 3, seed=1)
    assert fwad.unpack_dual(x) == (x, None)  # no level: the tensor itself, no tangent
    with fwad.dual_level() as level:
        assert level == 0
        d = fwad.make_dual(x, v)
        unpacked = fwad.unpack_dual(d)
        assert isinstance(unpacked, fwad.UnpackedDualTensor) and unpacked.tangent is v
        assert fwad.unpack_dual(x * 2).tangent is None  # does not depend on a dual
        y = d * d
        p, t = fwad.unpack_dual(y)
        np.testing.assert_allclose(t.numpy(), 2 * x.numpy() * v.numpy())
        assert fwad.unpack_dual(p).tangent is None and fwad.unpack_dual(t).tangent is None
        assert fwad.unpack_dual(d.argmax()).tangent is None  # integer outputs have none
    assert fwad.unpack_dual(y).tangent is None  # tangents end with the level
    fwad.enter_dual_level()
    fwad.exit_dual_level(level=0)


def test_decorator_form():
    @fwad.dual_level()
    def jvp_sin(x, v):
        return fwad.unpack_dual(fwad.make_dual(x, v).sin()).tangent

    x = ad.tensor([0.0, 1.0], dtype=ad.float64)
    np.testing.assert_allclose(jvp_sin(x, ad.ones_like(x)).numpy(), np.cos(x.numpy()))


def test_forward_over_reverse_matches_torch(torch):
    """A dual of a tensor reverse mode tracks: the tangent is differentiable (an hvp)."""
    (x, tx), (v, tv), (w, tw) = _pair(torch, 2, 3), _pair(torch, 2, 3, seed=1), _pair(torch, 3, 4)
    results = []
    for lib, X, V, W in ((ad, x, v, w), (torch, tx, tv, tw)):
        fw = lib.autograd.forward_ad
        X = X.clone().requires_grad_()
        W = W.clone().requires_grad_()
        with fw.dual_level():
            p, t = fw.unpack_dual(((fw.make_dual(X, V) @ W).tanh() ** 2).sum())
            assert p.requires_grad and t.requires_grad
            t.backward()
        results.append((p, t, X.grad, W.grad))
    for a, b in zip(*results):
        _close(a, b)


def test_errors(torch):
    (x, _), (v, _) = _pair(torch, 3), _pair(torch, 3, seed=1)
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwad.make_dual(x, v)
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwad.exit_dual_level()
    with fwad.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwad.enter_dual_level()
        with pytest.raises(RuntimeError, match="Tensor is of size \\[3\\] while the given "
                                               "forward gradient is of size \\[2\\]"):
            fwad.make_dual(x, v[:2])
        with pytest.raises(ValueError, match="Expected primal to be floating point"):
            fwad.make_dual(ad.ones(3, dtype=ad.int64), v)
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same level"):
            fwad.make_dual(fwad.make_dual(x, v) * 2, v)
        with pytest.raises(RuntimeError, match="not the last one that was created"):
            fwad.exit_dual_level(level=3)
    assert fwad.enter_dual_level() == 0  # the failed calls left the state clean
    fwad.exit_dual_level()


def _custom(lib, backward):
    """A custom Function with a jvp (save_for_forward) and, or not, a backward that drops y's
    gradient: forward mode must take the jvp, as PyTorch."""

    class MulAdd(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_forward(x, y)
            ctx.k = k
            return x * y * k, x + y

        @staticmethod
        def jvp(ctx, gx, gk, gy):
            assert gk is None
            x, y = ctx.saved_tensors
            return (gx * y + x * gy) * ctx.k, gx + gy

    if backward:
        MulAdd.backward = staticmethod(lambda ctx, ga, gb: (ga * ctx.k + gb, None, None))
    x, y = (lib.tensor(v, dtype=lib.float64) for v in ([1.0, 2.0, 3.0], [0.5, -1.0, 2.0]))
    tx, ty = lib.ones(3, dtype=lib.float64), lib.full((3,), 2.0, dtype=lib.float64)
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        a, b = MulAdd.apply(fw.make_dual(x, tx), 3.0, fw.make_dual(y, ty))
        tangents = [fw.unpack_dual(o).tangent.tolist() for o in (a, b)]
    xr = x.clone().requires_grad_()
    if backward:
        MulAdd.apply(xr, 3.0, y)[0].sum().backward()
    else:
        with pytest.raises(NotImplementedError, match="must implement either the backward"):
            MulAdd.apply(xr, 3.0, y)[0].sum().backward()
    return tangents


@pytest.mark.parametrize("backward", [False, True])
def test_custom_function_jvp(torch, backward):
    assert _custom(ad, backward) == _custom(torch, backward)
