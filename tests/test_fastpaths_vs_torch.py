"""The NumPy fast paths of erfinv, fmod / remainder, tensor-bound clamp, sign, roll, flip,
triu, cumprod, logcumsumexp, diff and glu against PyTorch: values (special values, -0, NaN,
inf), dtypes and gradients (via torch.autograd, with a random output weight)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

FLOATS = ["float32", "float64"]
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 3.5, -3.5, 0.7, -0.7, 2.1, -2.1]


def _tensors(arrays, device, torch, grad=True):
    ours = [ad.tensor(a, device=device, requires_grad=grad and a.dtype.kind == "f")
            for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return ours, theirs


def check(fn, arrays, device, torch, rtol=1e-6, atol=0.0, grad=True):
    """fn(module, *tensors) on autodiff and on torch: equal values (NaN where torch has NaN,
    -0 where torch has -0), dtypes and, for floating inputs, gradients of (out * w).sum()."""
    ours, theirs = _tensors(arrays, device, torch, grad)
    y, t = fn(ad, *ours), fn(torch, *theirs)
    tv = t.detach().numpy()
    assert str(y.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(y.shape) == tuple(t.shape)
    yv = y.detach().numpy()
    np.testing.assert_allclose(yv, tv, rtol=rtol, atol=atol)
    if tv.dtype.kind == "f":
        zero = (tv == 0) & (yv == 0)
        np.testing.assert_array_equal(np.signbit(yv[zero]), np.signbit(tv[zero]))
    if not grad or not any(a.dtype.kind == "f" for a in arrays) or tv.dtype.kind != "f":
        return
    w = np.random.default_rng(1).standard_normal(tv.shape).astype(tv.dtype)
    (y * ad.tensor(w, device=device)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for o, r in zip(ours, theirs):
        if r.grad is not None:
            ref = r.grad.numpy()  # summed over broadcast axes in another order: an atol
            scale = np.abs(ref[np.isfinite(ref)]).max(initial=0.0)
            np.testing.assert_allclose(o.grad.numpy(), ref, rtol=rtol * 10,
                                       atol=max(atol, 1e-12, rtol * scale) * 10)


# ---------------------------------------------------------------------------------- erfinv
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_erfinv(dtype, device, torch):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.uniform(-1, 1, 2000), 1 - np.logspace(-7, -1, 30),
                        -1 + np.logspace(-7, -1, 30), np.logspace(-38, -1, 20),
                        [0.0, -0.0, 1.0, -1.0, 1.5, -1.5, np.nan, np.inf, -np.inf]])
    y = y.astype(dtype)
    rtol = {"float16": 1e-3, "float32": 3e-7, "float64": 1e-12}[dtype]
    check(lambda m, x: m.erfinv(x), [y], device, torch, rtol=rtol, grad=False)
    inner = y[np.abs(y) < 0.999]  # gradients away from the poles at +-1
    check(lambda m, x: m.erfinv(x), [inner], device, torch, rtol=rtol)


def test_erfinv_float32_within_one_ulp(device):
    y = np.linspace(-1, 1, 200001, dtype=np.float32)[1:-1]
    ours = ad.erfinv(ad.tensor(y, device=device)).numpy()
    exact = ad.erfinv(ad.tensor(y.astype(np.float64))).numpy().astype(np.float32)
    assert np.abs(ours.view(np.int32) - exact.view(np.int32)).max() <= 1


def test_erfinv_double_backward(device):
    x = ad.tensor([-0.6, 0.1, 0.9], dtype=ad.float64, device=device, requires_grad=True)
    assert ad.autograd.gradcheck(ad.erfinv, (x,))
    assert ad.autograd.gradgradcheck(ad.erfinv, (x,))


# ------------------------------------------------------------------------- fmod, remainder
def _pairs(dtype):
    sp = np.array(SPECIAL + [1e30, -1e30, 16777216.0, 1e-3])
    a, b = np.repeat(sp, len(sp)), np.tile(sp, len(sp))
    rng = np.random.default_rng(0)
    scale = 10.0 ** rng.integers(-8, 8, 4000)
    ra, rb = rng.standard_normal(4000) * scale, rng.standard_normal(4000) * scale[::-1]
    with np.errstate(over="ignore"):  # float16: inf
        return [x.astype(dtype) for x in (np.concatenate([a, ra]), np.concatenate([b, rb]))]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_remainder_values_bit_exact(op, dtype, device, torch):
    a, b = _pairs(dtype)
    if dtype == "float16":  # keep the quotients small: PyTorch's vector kernel is NaN beyond
        a, b = a[np.abs(a.astype(np.float64)) < 1e3], b[np.abs(a.astype(np.float64)) < 1e3]
    ours = getattr(ad, op)(ad.tensor(a, device=device), ad.tensor(b, device=device)).numpy()
    # PyTorch's element-at-a-time kernel (its vector one is NaN for quotients above ~2^24)
    ref = np.array([getattr(torch, op)(torch.tensor(x), torch.tensor(y)).item()
                    for x, y in zip(a[:400], b[:400])], dtype=dtype)
    np.testing.assert_array_equal(ours[:400], ref)
    np.testing.assert_array_equal(np.signbit(ours[:400]), np.signbit(ref))
    with np.errstate(all="ignore"):
        small = np.abs(a.astype(np.float64) / b.astype(np.float64)) < 2.0 ** 20
    t = getattr(torch, op)(torch.tensor(a[small]), torch.tensor(b[small])).numpy()
    np.testing.assert_array_equal(ours[small], t)
    np.testing.assert_array_equal(np.signbit(ours[small]), np.signbit(t))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_fmod_remainder_grads_and_broadcasting(op, dtype, device, torch):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((64, 50)) * 5).astype(dtype)
    b = (rng.uniform(0.5, 2, (64, 1)) * np.where(rng.random((64, 1)) < 0.5, -1, 1)).astype(dtype)
    check(lambda m, x, y: getattr(m, op)(x, y), [a, b], device, torch, rtol=1e-6)
    check(lambda m, x: getattr(m, op)(x, 0.7), [a], device, torch, rtol=1e-6)
    check(lambda m, x: getattr(m, op)(x, -0.7), [a[:1, :3]], device, torch, rtol=1e-6)


# ------------------------------------------------------------------- clamp with tensor bounds
@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_tensor_bounds(dtype, device, torch):
    sp = np.array(SPECIAL, dtype=dtype)
    x, lo = np.repeat(sp, len(sp)), np.tile(sp, len(sp))
    check(lambda m, a, b: m.clamp(a, min=b), [x, lo], device, torch, grad=False)
    check(lambda m, a, b: m.clamp(a, max=b), [x, lo], device, torch, grad=False)
    check(lambda m, a, b, c: m.clamp(a, min=b, max=c), [x, lo, lo[::-1].copy()], device, torch,
          grad=False)
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(s).astype(dtype) for s in [(40, 30), (40, 30), (30,)])
    check(lambda m, p, q: m.clamp(p, min=q), [a, b], device, torch)
    check(lambda m, p, q, r: m.clamp(p, min=q, max=r), [a, b, c + 1], device, torch)
    check(lambda m, p, r: m.clamp(p, max=r), [a, c], device, torch)
    check(lambda m, p, q: m.clamp(p, min=q), [a[0, 0].copy(), b[0, 0].copy()], device, torch)


def test_clamp_tensor_bounds_ties_take_the_bound(device):
    x = ad.tensor(np.array([0.0, -0.0] * 50, dtype=np.float32), device=device)
    lo = ad.tensor(np.array([-0.0, 0.0] * 50, dtype=np.float32), device=device)
    np.testing.assert_array_equal(np.signbit(ad.clamp(x, min=lo).numpy()), [True, False] * 50)
    np.testing.assert_array_equal(np.signbit(ad.clamp(x, max=lo).numpy()), [True, False] * 50)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float16"])
def test_clamp_tensor_bounds_other_dtypes(dtype, device, torch):
    rng = np.random.default_rng(0)
    a, b = ((rng.standard_normal((20, 10)) * 5).astype(dtype) for _ in range(2))
    check(lambda m, p, q: m.clamp(p, min=q, max=q + 3), [a, b], device, torch, rtol=1e-3,
          grad=False)


# ------------------------------------------------------------------------------------- sign
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int64", "uint8",
                                   "bool"])
def test_sign(dtype, device, torch):
    x = np.array(SPECIAL + [5, 1, 0, 2], dtype=np.float64)
    if dtype[0] in "iub":
        x = np.nan_to_num(x, nan=0.0, posinf=7, neginf=-7)
        x = np.abs(x) if dtype[0] in "ub" else x
    x = x.astype(dtype)
    check(lambda m, a: m.sign(a), [x], device, torch)
    if dtype[0] == "f":
        check(lambda m, a: m.sign(a) * a, [x[np.isfinite(x)]], device, torch)


# ---------------------------------------------------------------------- roll, flip, tril/triu
@pytest.mark.parametrize("dtype", FLOATS + ["int64"])
def test_roll(dtype, device, torch):
    x = np.arange(2 * 5 * 7).reshape(2, 5, 7).astype(dtype) * 0.5 ** (dtype != "int64")
    for shifts, dims in [(3, 2), (-1, 1), ((1, -2), (0, 2)), (12, -1), (0, 1), ((2, 3), (1, 1)),
                         (4, None), (-9, None)]:
        check(lambda m, a, s=shifts, d=dims: m.roll(a, s, d), [x], device, torch)
    check(lambda m, a: m.roll(a, 1, 0), [np.zeros((0, 3), dtype)], device, torch)
    xr = ad.tensor(x, device=device, requires_grad=dtype != "int64")
    if dtype == "float64":
        assert ad.autograd.gradgradcheck(lambda a: ad.roll(a, (1, 2), (0, 2)) ** 2, (xr,))


def test_roll_is_a_copy(device):
    x = ad.tensor([1.0, 2.0, 3.0], device=device)
    for y in (ad.roll(x, 0, 0), ad.roll(x, 1, 0), ad.flip(x, [0]), ad.flip(x[:1], [0])):
        y[0] = 9.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("dtype", FLOATS + ["int32"])
def test_flip(dtype, device, torch):
    x = np.arange(3 * 4 * 5).reshape(3, 4, 5).astype(dtype)
    for dims in [[0], [1], [2], [0, 2], [-1], [0, 1, 2]]:
        check(lambda m, a, d=dims: m.flip(a, d), [x], device, torch)


@pytest.mark.parametrize("shape", [(4, 6), (70, 130), (130, 70), (2, 3, 129, 65), (200, 200)])
@pytest.mark.parametrize("op", ["triu", "tril"])
def test_tril_triu(op, shape, device, torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x.flat[::7] = np.nan
    n = max(shape[-2:])
    for k in sorted({-n - 1, -n + 1, -65, -64, -63, -3, -1, 0, 1, 2, 63, 64, 65, n - 1, n + 2}):
        check(lambda m, a, k=k: getattr(m, op)(a, k), [x], device, torch, grad=False)
    check(lambda m, a: getattr(m, op)(a, 1), [x.astype(np.float32)], device, torch)
    check(lambda m, a: getattr(m, op)(a, -2), [x > 0], device, torch)


# -------------------------------------------------------------------------------------- glu
@pytest.mark.parametrize("dtype", FLOATS + ["float16"])
def test_glu(dtype, device, torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 8, 10)).astype(dtype) * 4
    x[0, 0, :3] = [np.inf, -np.inf, np.nan]
    rtol = 1e-2 if dtype == "float16" else 1e-6
    for dim in (0, 1, 2, -1):
        check(lambda m, a, dim=dim: m.nn.functional.glu(a, dim), [x], device, torch, rtol=rtol,
              atol=1e-3 if dtype == "float16" else 0.0, grad=False)
        check(lambda m, a, dim=dim: m.nn.functional.glu(a, dim), [x[2:]], device, torch, rtol=rtol,
              atol=1e-3 if dtype == "float16" else 0.0)


def test_glu_double_backward_and_errors(device, torch):
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 4)), device=device,
                  requires_grad=True)
    assert ad.autograd.gradcheck(lambda a: ad.nn.functional.glu(a, 1), (x,))
    assert ad.autograd.gradgradcheck(lambda a: ad.nn.functional.glu(a, 0) ** 2, (x[:2],))
    with pytest.raises(NotImplementedError, match="glu_cpu"):
        ad.nn.functional.glu(ad.tensor([[1, 2]], device=device))
    with pytest.raises(Exception, match="Halving dimension must be even"):
        ad.nn.functional.glu(ad.tensor([[1.0, 2.0, 3.0]], device=device))


# ---------------------------------------------------------------------------------- cumprod
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64"])
def test_cumprod_bit_exact_and_grads(dtype, device, torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 40)) * 0.1 + 1
    x = (x * 3).round() if dtype[0] == "i" else x
    x = x.astype(dtype)
    for dim in (0, 1, -1):  # PyTorch accumulates float32 in double, float16 in float
        check(lambda m, a, dim=dim: m.cumprod(a, dim), [x], device, torch,
              rtol=0.0 if dtype != "float16" else 1e-3, grad=False)
        if dtype[0] == "f":
            check(lambda m, a, dim=dim: m.cumprod(a, dim), [x], device, torch,
                  rtol=1e-2 if dtype == "float16" else 1e-5)
    if dtype in FLOATS:
        z = x.copy()
        z[3, 5] = z[7, 0] = 0.0
        check(lambda m, a: m.cumprod(a, 1), [z], device, torch, rtol=1e-5)
        xr = ad.tensor(x[:3, :5].astype(np.float64), device=device, requires_grad=True)
        assert ad.autograd.gradgradcheck(lambda a: ad.cumprod(a, 1), (xr,))


# ----------------------------------------------------------------------------- logcumsumexp
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_logcumsumexp(dtype, device, torch):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 50)) * 3).astype(dtype)
    x[0, :4] = [-np.inf, -np.inf, 0.0, -np.inf]
    x[1, :3] = [np.inf, 1.0, -np.inf]
    x[2, 10] = np.nan
    x[3, :3] = [-1000.0 if dtype != "float16" else -60000.0, 0.0, 5.0]
    exact = dtype != "float16"  # PyTorch's scan in double: bit for bit
    for dim in (0, 1, -1):
        check(lambda m, a, dim=dim: m.logcumsumexp(a, dim), [x], device, torch,
              rtol=0.0 if exact else 1e-3, grad=False)
    y = x[4:]  # finite rows: gradients as PyTorch's (positive and negative dy)
    check(lambda m, a: m.logcumsumexp(a, 1), [y], device, torch,
          rtol=1e-2 if dtype == "float16" else 1e-5, atol=1e-3 if dtype == "float16" else 0.0)
    if dtype == "float64":
        xr = ad.tensor(y[:, :6], device=device, requires_grad=True)
        assert ad.autograd.gradcheck(lambda a: ad.logcumsumexp(a, 1), (xr,))
        assert ad.autograd.gradgradcheck(lambda a: ad.logcumsumexp(a, 1), (xr,))


# ------------------------------------------------------------------------------------- diff
@pytest.mark.parametrize("dtype", FLOATS + ["float16", "int64", "bool"])
def test_diff(dtype, device, torch):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5, 7, 6)) * 3).round().astype(dtype)
    if dtype[0] == "f":
        x[0, 0, :4] = [np.inf, -np.inf, np.nan, -0.0]
    for kw in [{"dim": -1}, {"dim": 0}, {"dim": 1, "n": 2}, {"dim": 2, "n": 6}, {"dim": 2, "n": 7}]:
        check(lambda m, a, kw=kw: m.diff(a, **kw), [x[1:]], device, torch, rtol=1e-3)
        check(lambda m, a, kw=kw: m.diff(a, **kw), [x], device, torch, rtol=1e-3, grad=False)
    check(lambda m, a, b: m.diff(a, dim=1, prepend=b), [x, x[:, :2]], device, torch, rtol=1e-3)


def test_diff_gradient_zero_signs_and_double_backward(device, torch):
    g = np.array([[-0.0, 1.0, -0.0]])
    x = ad.tensor(np.zeros((1, 4)), device=device, requires_grad=True)
    ad.diff(x).backward(ad.tensor(g, device=device))
    tx = torch.zeros((1, 4), dtype=torch.float64, requires_grad=True)
    torch.diff(tx).backward(torch.tensor(g))
    np.testing.assert_array_equal(np.signbit(x.grad.numpy()), np.signbit(tx.grad.numpy()))
    xr = ad.tensor(np.random.default_rng(0).standard_normal((3, 5)), device=device,
                   requires_grad=True)
    assert ad.autograd.gradgradcheck(lambda a: ad.diff(a, n=2) ** 2, (xr,))
