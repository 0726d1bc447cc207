"""One end-to-end checker for differentiable ops, plus small shared test utilities.

A case is one line in a table::

    Case("exp", ad.exp, np.exp, (3, 4))
    Case("add_bcast", lambda a, b: a + b, np.add, (3, 1), (4,))

``check_forward`` compares the op on seeded inputs with a NumPy reference expression;
``check_grad`` gradchecks it in float64 against central finite differences
(``ad.autograd.gradcheck``). Both accept a ``layout``: ``"contig"`` (inputs as created),
``"T"`` (inputs made as transposed views of a buffer) or ``"sliced"`` (inputs made as
strided slices ``[..., ::2]``), so every op also sees non-contiguous inputs. The layout
transform runs inside the differentiated function, so its own backward is covered too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff as ad

LAYOUTS = ("contig", "T", "sliced")
CPU_DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]
TOL = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


class Case:
    """An op under test: ``fn(*tensors)`` against ``ref(*arrays)`` on inputs of ``shapes``.

    ``low``/``high``: the uniform range of the inputs; ``ints``: indices of inputs drawn as
    int64 in [0, high) (never differentiated); ``bools``: indices of inputs drawn as bool;
    ``grad``: False when the op is not differentiable; ``gtol``: gradcheck tolerances.
    """

    def __init__(self, name, fn, ref, *shapes, **kw) -> None:
        self.name, self.fn, self.ref, self.shapes = name, fn, ref, shapes
        self.low, self.high = kw.pop("low", -2.0), kw.pop("high", 2.0)
        self.ints, self.bools = kw.pop("ints", ()), kw.pop("bools", ())
        self.grad = kw.pop("grad", True)
        self.fwd_tol, self.gtol = kw.pop("fwd_tol", {}), kw.pop("gtol", {})
        self.layouts = kw.pop("layouts", LAYOUTS)
        if kw:
            raise TypeError(f"Case: unexpected {sorted(kw)}")

    def __repr__(self) -> str:
        return self.name


def ids(cases) -> list:
    return [c.name for c in cases]


# ------------------------------------------------------------------ layouts
def _storage_shape(shape: tuple, layout: str) -> tuple:
    if layout == "T" and len(shape) >= 2:
        return shape[:-2] + (shape[-1], shape[-2])
    if layout == "sliced" and len(shape) >= 1:
        return shape[:-1] + (2 * shape[-1],)
    return shape


def _view(x, layout: str, ndim: int):
    """The logical input from its storage (works on arrays and Tensors alike)."""
    if layout == "T" and ndim >= 2:
        return x.swapaxes(-1, -2)
    if layout == "sliced" and ndim >= 1:
        return x[..., ::2]
    return x


def make_arrays(case: Case, dtype: str, layout: str, seed: int = 0) -> list:
    """Seeded storage arrays for the case's inputs (NumPy)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, shape in enumerate(case.shapes):
        if not isinstance(shape, tuple):  # a fixed non-tensor value (an index array, ...)
            out.append(shape)
            continue
        st = _storage_shape(shape, layout)
        if i in case.ints:
            out.append(rng.integers(0, int(case.high), size=st).astype(np.int64))
        elif i in case.bools:
            out.append(rng.random(st) < 0.5)
        else:
            out.append(rng.uniform(case.low, case.high, size=st).astype(dtype))
    return out


def _is_input(case: Case, i: int) -> bool:
    return isinstance(case.shapes[i], tuple)


def _wrap(case: Case, layout: str):
    """fn on storage tensors: apply the layout view, then the op."""

    def fn(*xs):
        views = [_view(x, layout, len(s)) if isinstance(s, tuple) else x
                 for x, s in zip(xs, case.shapes)]
        return case.fn(*views)

    return fn


def _ref_views(case: Case, arrays, layout: str) -> list:
    return [_view(a, layout, len(s)) if isinstance(s, tuple) else a
            for a, s in zip(arrays, case.shapes)]


def to_numpy(x) -> Any:
    if isinstance(x, ad.Tensor):
        return np.asarray(x.cpu().numpy())
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    return x


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, check_dtype: bool = False) -> None:
    """Compare a Tensor (or tuple of them) with NumPy values, shapes included."""
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol, check_dtype)
        return
    a, e = to_numpy(actual), np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    if check_dtype:
        assert a.dtype == e.dtype, f"dtype {a.dtype} != expected {e.dtype}"
    if e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a, e.astype(a.dtype) if a.dtype.kind == "f" else e,
                                   rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------------------------ the checks
def tensors_for(case: Case, arrays, device: str, requires_grad: bool) -> list:
    out = []
    for i, a in enumerate(arrays):
        if not _is_input(case, i):
            out.append(a)
            continue
        t = ad.tensor(a, device=device)
        if requires_grad and a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def check_forward(case: Case, device: str, dtype: str, layout: str = "contig") -> None:
    """The op's value (and dtype) against the NumPy reference on seeded inputs."""
    arrays = make_arrays(case, dtype, layout)
    expected = case.ref(*_ref_views(case, arrays, layout))
    got = _wrap(case, layout)(*tensors_for(case, arrays, device, requires_grad=False))
    tol = dict(TOL[dtype])
    tol.update(case.fwd_tol)
    assert_close(got, expected, **tol)
    outs = got if isinstance(got, tuple) else (got,)
    for o in outs:
        assert o.device == ad.device(device), f"{case.name}: on {o.device}, expected {device}"
        if o.is_floating_point():
            assert o.dtype.name == dtype, f"{case.name}: {dtype} in, {o.dtype.name} out"


def check_grad(case: Case, device: str, layout: str = "contig") -> None:
    """gradcheck in float64: autograd's Jacobian against central finite differences.

    For zero-size inputs it checks instead that backward runs and gives zero-size grads
    of the inputs' shapes.
    """
    arrays = make_arrays(case, "float64", layout)
    xs = tensors_for(case, arrays, device, requires_grad=True)
    fn = _wrap(case, layout)
    if any(isinstance(s, tuple) and 0 in s for s in case.shapes):
        out = fn(*xs)
        outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
        ad.autograd.backward(outs, [ad.ones_like(o) for o in outs])
        for x in xs:
            if isinstance(x, ad.Tensor) and x.requires_grad:
                assert x.grad is not None and x.grad.shape == x.shape
        return
    tol = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    tol.update(case.gtol)
    assert ad.autograd.gradcheck(fn, tuple(xs), **tol)


def check_gradgrad(case: Case, device: str) -> None:
    arrays = make_arrays(case, "float64", "contig")
    xs = tensors_for(case, arrays, device, requires_grad=True)
    tol = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    tol.update(case.gtol)
    assert ad.autograd.gradgradcheck(case.fn, tuple(xs), **tol)


def grad_params(cases) -> list:
    """(case, layout) pairs for the differentiable cases, with readable ids."""
    return [pytest.param(c, lay, id=f"{c.name}-{lay}")
            for c in cases if c.grad for lay in c.layouts]


def noncontig_params(cases) -> list:
    """(case, layout) pairs for the non-contiguous layouts each case allows."""
    return [pytest.param(c, lay, id=f"{c.name}-{lay}")
            for c in cases for lay in c.layouts if lay != "contig"]


def fwd_params(cases) -> list:
    return [pytest.param(c, id=c.name) for c in cases]


DTYPES = [pytest.param("float32", id="float32"), pytest.param("float64", id="float64")]


def op_table_tests(cases):
    """The three tests every op table runs, built once for a module's ``CASES``:
    ``test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)``."""

    @pytest.mark.parametrize("dtype", DTYPES)
    @pytest.mark.parametrize("case", fwd_params(cases))
    def test_forward(case, device, dtype):
        check_forward(case, device, dtype)

    @pytest.mark.parametrize("case,layout", noncontig_params(cases))
    def test_forward_noncontiguous(case, layout, device):
        check_forward(case, device, "float32", layout)

    @pytest.mark.parametrize("case,layout", grad_params(cases))
    def test_gradcheck(case, layout, device):
        check_grad(case, device, layout)

    return test_forward, test_forward_noncontiguous, test_gradcheck


def fresh_leaf(values, device="numpy", dtype="float64"):
    return ad.tensor(values, dtype=dtype, device=device, requires_grad=True)


def compare_with_torch(name, fn, arrays, device, torch, tol=1e-6, grads=True, values=None):
    """Run ``fn(module, *tensors)`` on autodiff (``device``) and on PyTorch (CPU) from the same
    arrays (float ones require grad) and compare every output's shape, dtype and values
    (``values`` maps both sides' arrays first, e.g. np.abs for sign-ambiguous factors), then,
    with ``grads``, the input gradients of a random weighting of the outputs. An output that
    is constant in autodiff must have a zero gradient in PyTorch."""
    def tensors(m):
        out = []
        for a in arrays:
            a = np.asarray(a)
            rg = a.dtype.kind == "f"
            out.append(ad.tensor(a, device=device, requires_grad=rg) if m is ad
                       else m.tensor(a, requires_grad=rg))
        return out

    def flat(y):
        return [v for item in y for v in flat(item)] if isinstance(y, (tuple, list)) else [y]

    ours, theirs = tensors(ad), tensors(torch)
    ys, ts = flat(fn(ad, *ours)), flat(fn(torch, *theirs))
    assert len(ys) == len(ts), name
    for i, (y, t) in enumerate(zip(ys, ts)):
        assert isinstance(y, ad.Tensor), f"{name}: output {i} is {type(y).__name__}"
        assert (tuple(y.shape), y.dtype.name) == (tuple(t.shape), str(t.dtype).split(".")[-1])
        got, want = (np.asarray(v, dtype=float) for v in (y.detach().cpu().numpy(),
                                                           t.detach().numpy()))
        if values is not None:
            got, want = values(got), values(want)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"{name}[{i}]")
    pairs = [(y, t) for y, t in zip(ys, ts) if t.requires_grad]
    if not (grads and pairs):
        return
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    sum((t * torch.tensor(g, dtype=t.dtype)).nansum() for (_, t), g in zip(pairs, weights)
        ).backward()
    live = [(y, g) for (y, _), g in zip(pairs, weights) if y.requires_grad]
    if not live:  # constant in autodiff: PyTorch's gradient must be zero
        assert all(t.grad is None or not t.grad.any() for t in theirs), name
        return
    sum((y * ad.tensor(g, dtype=y.dtype, device=device)).nansum() for y, g in live).backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        if t.grad is not None:
            got = a.grad.cpu().numpy() if a.grad is not None else np.zeros(tuple(a.shape))
            np.testing.assert_allclose(got, t.grad.numpy(force=True), rtol=tol, atol=tol,
                                       err_msg=f"{name} grad {i}")
