"""Where PyTorch is importable: op values and gradients compared with it on a broad sample, and
type promotion compared with torch's result_type. Skipped cleanly without PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DTYPES

import autodiff as ad


def _pad(m, x, p):
    return ad.pad(x, p) if m is ad else m.nn.functional.pad(x, p)


def _ln(m, x, w, b):
    return (ad.layer_norm(x, (4,), w, b) if m is ad
            else m.nn.functional.layer_norm(x, (4,), w, b))


def _max_dim(m, x):
    return x.max(1).values


POS = (0.5, 2.0)
# (name, f(module, *inputs), input shapes, value range)
CASES = [
    ("add", lambda m, a, b: a + b, [(2, 3, 4), (3, 1)], None),
    ("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=2), [(3, 4), (4,)], None),
    ("mul", lambda m, a, b: a * b * 2.5, [(3, 1), (1, 4)], None),
    ("div", lambda m, a, b: a / b, [(3, 4), (4,)], POS),
    ("pow", lambda m, a, b: a ** b, [(3, 4), (3, 1)], POS),
    ("rpow", lambda m, a: 2.0 ** a, [(3, 4)], None),
    ("exp_log", lambda m, a: a.exp() + (a * a + 1).log(), [(3, 4)], None),
    ("log1p_sqrt_rsqrt", lambda m, a: a.log1p() + a.sqrt() + a.rsqrt(), [(3, 4)], POS),
    ("trig", lambda m, a: a.sin() * a.cos() + a.tanh(), [(3, 4)], None),
    ("sigmoid_relu_abs", lambda m, a: a.sigmoid() + a.relu() + a.abs(), [(3, 4)], None),
    ("clamp", lambda m, a: a.clamp(-0.5, 0.8), [(3, 4)], None),
    ("maximum_minimum", lambda m, a, b: m.maximum(a, b) - m.minimum(a, b), [(3, 4), (4,)],
     None),
    ("where", lambda m, a, b: m.where(a > 0, a, b), [(3, 4), (3, 4)], None),
    ("masked_fill", lambda m, a: a.masked_fill(a < 0, 0.25), [(3, 4)], None),
    ("sum_dims", lambda m, a: a.sum((0, 2), keepdim=True), [(2, 3, 4)], None),
    ("mean_var_std", lambda m, a: a.mean(1) + a.var(1) + a.std(0).sum() + a.var(unbiased=False),
     [(3, 4)], None),
    ("max_dim", _max_dim, [(3, 4)], None),
    ("amax_amin", lambda m, a: a.amax(0) + a.amin(-1).sum(), [(3, 4)], None),
    ("prod", lambda m, a: a.prod(1), [(3, 4)], None),
    ("logsumexp", lambda m, a: a.logsumexp(-1), [(2, 3, 4)], None),
    ("norm", lambda m, a: a.norm() + a.norm(dim=1).sum(), [(3, 4)], None),
    ("movement", lambda m, a: a.permute(2, 0, 1).reshape(4, 6).t().flip(0)[1:, ::2],
     [(2, 3, 4)], None),
    ("index", lambda m, a: a[[0, 2, 2], 1:] + a[None, -1, ..., :3], [(3, 4)], None),
    ("mask_index", lambda m, a: a[a > 0.1], [(3, 4)], None),
    ("cat_stack", lambda m, a, b: m.cat([a, b], 1).sum(0)[:4] + m.stack([a, b]).mean(0)[0],
     [(3, 4), (3, 4)], None),
    ("split_chunk", lambda m, a: a.split(1, 0)[2] * a.chunk(2, 1)[1].sum(), [(3, 4)], None),
    ("gather", lambda m, a: a.gather(1, m.tensor([[0, 0], [3, 1], [2, 2]], device=a.device)),
     [(3, 4)], None),
    ("expand_repeat", lambda m, a: a.expand(2, 3, 4).repeat(1, 2, 1), [(3, 1)], None),
    ("tril_triu", lambda m, a: a.tril() + a.triu(1) * 2, [(4, 4)], None),
    ("pad", lambda m, a: _pad(m, a, (1, 2, 0, 1)), [(3, 4)], None),
    ("matmul_batched", lambda m, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], None),
    ("matmul_vec", lambda m, a, b: (a @ b) + (b @ a.mT).sum(), [(3, 4), (4,)], None),
    ("einsum_attn", lambda m, q, k: m.einsum("bhqd,bhkd->bhqk", q, k), [(1, 2, 3, 4),
                                                                         (1, 2, 5, 4)], None),
    ("softmax", lambda m, a: a.softmax(-1) * a.log_softmax(0), [(3, 4)], None),
    ("layer_norm", _ln, [(2, 3, 4), (4,), (4,)], None),
]


def _inputs(shapes, rng_range, dtype, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = rng_range or (-2.0, 2.0)
    return [rng.uniform(lo, hi, s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,fn,shapes,rng_range", CASES, ids=[c[0] for c in CASES])
def test_values_and_grads_match_torch(name, fn, shapes, rng_range, dtype, device, torch):
    arrays = _inputs(shapes, rng_range, dtype)
    ours = [ad.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(ad, *ours), fn(torch, *theirs)
    tol = {"rtol": 2e-4, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-10}
    assert y.shape == tuple(ty.shape) and y.dtype.name == str(ty.dtype).split(".")[-1]
    np.testing.assert_allclose(y.cpu().numpy(), ty.detach().cpu().numpy(), **tol)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(ad.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    for i, (a, t) in enumerate(zip(ours, theirs)):
        assert a.grad is not None, f"input {i} got no grad"
        np.testing.assert_allclose(a.grad.cpu().numpy(), t.grad.cpu().numpy(), **tol,
                                   err_msg=f"grad of input {i}")


def test_second_order_matches_torch(device, torch):
    a = np.random.default_rng(2).standard_normal((3, 4))
    x, tx = ad.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)
    for m, t in ((ad, x), (torch, tx)):
        (g,) = m.autograd.grad((t.tanh() * t.softmax(-1)).sum(), t, create_graph=True)
        (g * g).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)


_DT = ["bool", "int32", "int64", "float16", "float32", "float64"]
_OPERANDS = ([(d, 1) for d in _DT] + [(d, 0) for d in _DT]
             + [("py_bool", None), ("py_int", None), ("py_float", None)])


def _make(m, kind, ndim):
    if kind == "py_bool":
        return True
    if kind == "py_int":
        return 3
    if kind == "py_float":
        return 1.5
    dtype = getattr(m, kind)
    return m.ones((2,) if ndim else (), dtype=dtype)


@pytest.mark.parametrize("a", _OPERANDS[:12], ids=[f"{k}-{'dim' if n else '0d'}"
                                                  for k, n in _OPERANDS[:12]])
def test_type_promotion_matches_torch(a, torch):
    mismatches = []
    for b in _OPERANDS:
        ta, tb = _make(torch, *a), _make(torch, *b)
        oa, ob = _make(ad, *a), _make(ad, *b)
        if a[0] == "bool" and b[0] in ("bool", "py_bool"):
            continue  # torch forbids some bool arithmetic; not a promotion question
        want = str(torch.result_type(ta, tb)).split(".")[-1]
        for op in ("add", "mul"):
            got = getattr(ad, op)(oa, ob).dtype.name
            if got != want:
                mismatches.append(f"{op}({a}, {b}): {got} != torch {want}")
        got = (oa > ob).dtype.name
        if got != "bool":
            mismatches.append(f"gt({a}, {b}): {got}")
    assert not mismatches, "\n".join(mismatches)


def test_true_division_promotion_matches_torch(torch):
    for kind in ("bool", "int32", "int64", "float16", "float64"):
        for nd in (0, 1):
            want = str((_make(torch, kind, nd) / 2).dtype).split(".")[-1]
            assert (_make(ad, kind, nd) / 2).dtype.name == want, (kind, nd)


def test_dlpack_both_ways_with_torch(torch):
    t = torch.arange(6.0).reshape(2, 3)
    a = ad.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype is ad.float32
    t[0, 0] = 9
    assert a[0, 0].item() == 9  # shares memory
    back = torch.from_dlpack(ad.arange(4.0, device="numpy"))
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0]
