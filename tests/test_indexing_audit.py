"""A seeded differential audit of indexing and shape/movement ops against PyTorch.

Each case is ``fn(m, *inputs)``, run once with ``m = autodiff`` and once with ``m = torch``:
forward values, dtypes and shapes must match, so must the gradients of a random weighted sum
of the outputs, and where torch raises autodiff must raise an error of the same builtin type
(IndexError, ValueError, TypeError, RuntimeError). The fuzz loops draw shapes (0-d to 4-d,
zero-size dims included) and indices from fixed seeds, so every run checks the same cases.
Skipped without PyTorch. The regression tests at the end pin the discrepancies it found.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

_KINDS = (IndexError, ValueError, TypeError, RuntimeError)  # NotImplementedError: Runtime


class C:
    """An input that does not require grad (an index, a mask, a constant value)."""

    def __init__(self, a) -> None:
        self.a = np.asarray(a)


def _kind(exc: BaseException) -> type:
    """The builtin exception type ``exc`` is an instance of (torch's own types mapped)."""
    return next((k for k in _KINDS if isinstance(exc, k)), type(exc))


def _inputs(m, args, dev):
    ins, leaves = [], []
    for a in args:
        if isinstance(a, (np.ndarray, C)):
            arr = a.a if isinstance(a, C) else a
            grad = not isinstance(a, C) and arr.dtype.kind == "f"
            t = m.tensor(arr, requires_grad=grad) if m is torch else ad.tensor(
                arr, device=dev, requires_grad=grad)
            ins.append(t)
            if grad:
                leaves.append(t)
        else:
            ins.append(a)
    return ins, leaves


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _run(m, fn, args, dev, seed):
    """(outputs as host data, leaf grads, error type): one side of a comparison."""
    ins, leaves = _inputs(m, args, dev)
    previous = ad.get_default_device()
    ad.set_default_device(dev)  # tensors the case creates land on dev
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if m is torch else "error")
            outs = _flat(fn(m, *ins))
            rng = np.random.default_rng(seed)
            loss, host = None, []
            for o in outs:
                if not hasattr(o, "dtype"):
                    host.append(o)
                    continue
                host.append((str(o.dtype).split(".")[-1], tuple(o.shape),
                             np.array(o.detach().cpu().numpy() if m is ad else o.detach().numpy(),
                                      copy=True)))
                if o.requires_grad:
                    w = rng.standard_normal(tuple(o.shape))
                    wt = torch.tensor(w, dtype=o.dtype) if m is torch else ad.tensor(
                        w, dtype=o.dtype, device=dev)
                    term = (o * wt).sum()
                    loss = term if loss is None else loss + term
            if loss is not None:
                loss.backward()
    except Exception as exc:  # noqa: BLE001 (the error's type is what is compared)
        return None, None, exc
    finally:
        ad.set_default_device(previous)
    grads = [None if t.grad is None else t.grad.detach().cpu().numpy().copy() for t in leaves]
    return host, grads, None


def _tol(a, tol):
    return max(tol, 1e-5) if a.dtype.kind == "f" and a.dtype.itemsize < 8 else tol


def diff(fn, args, dev, seed=0, tol=1e-7):
    """None when autodiff and torch agree on ``fn(m, *args)``, else what differs."""
    t_out, t_grads, t_err = _run(torch, fn, args, dev, seed)
    a_out, a_grads, a_err = _run(ad, fn, args, dev, seed)
    if t_err is not None or a_err is not None:
        if t_err is None:
            return f"torch succeeds, ours raises {type(a_err).__name__}: {a_err}"
        if a_err is None:
            return f"torch raises {type(t_err).__name__} ({str(t_err)[:80]}), ours succeeds"
        if not isinstance(a_err, _kind(t_err)):
            return (f"torch raises {_kind(t_err).__name__} ({str(t_err)[:60]}), ours "
                    f"{type(a_err).__name__}: {str(a_err)[:80]}")
        return None
    if len(t_out) != len(a_out):
        return f"{len(t_out)} outputs, ours {len(a_out)}"
    for i, (t, a) in enumerate(zip(t_out, a_out)):
        if not isinstance(t, tuple):
            if t != a:
                return f"output {i}: torch {t!r}, ours {a!r}"
            continue
        if t[:2] != a[:2]:
            return f"output {i}: torch {t[:2]}, ours {a[:2]}"
        if not np.allclose(a[2], t[2], rtol=_tol(t[2], tol), atol=_tol(t[2], tol),
                           equal_nan=True):
            return f"output {i} values differ:\ntorch {t[2]}\nours  {a[2]}"
    for i, (t, a) in enumerate(zip(t_grads, a_grads)):
        if t is None or a is None:  # no gradient: zeros (or a gradient of zeros)
            t, a = (np.zeros(0) if t is None else t), (np.zeros(0) if a is None else a)
            t, a = t.reshape(-1)[np.flatnonzero(t)], a.reshape(-1)[np.flatnonzero(a)]
        if t.shape != a.shape or not np.allclose(a, t, rtol=_tol(t, tol), atol=_tol(t, tol)):
            return f"grad {i} differs:\ntorch {t}\nours  {a}"
    return None


# ----------------------------------------------------------------------------- random inputs
def rand_shape(rng, max_ndim=4, min_ndim=0):
    nd = int(rng.integers(min_ndim, max_ndim + 1))
    return tuple(int(rng.choice([0, 1, 2, 3, 4], p=[0.08, 0.17, 0.3, 0.3, 0.15]))
                 for _ in range(nd))


def rand_array(rng, shape, dtype="float64"):
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.startswith("int"):
        return np.asarray(rng.integers(-5, 6, shape)).astype(dtype)
    return np.asarray(rng.standard_normal(shape)).astype(dtype)


class Idx:
    """An index array that becomes a tensor (``m.tensor``) on each side; ``as_list`` keeps
    it a Python list."""

    def __init__(self, a, as_list=False) -> None:
        self.a, self.as_list = np.asarray(a), as_list

    def __repr__(self) -> str:
        return f"Idx({self.a.tolist()!r}{', list' if self.as_list else ''})"


def build_index(m, idx, dev):
    """The index for module ``m``: Idx items become tensors (or lists)."""
    def one(i):
        if isinstance(i, Idx):
            if i.as_list:
                return i.a.tolist()
            return torch.tensor(i.a) if m is torch else ad.tensor(i.a, device=dev)
        return i
    return tuple(one(i) for i in idx) if isinstance(idx, tuple) else one(idx)


def _int_array(rng, n, bad):
    shape = [(), (int(rng.integers(0, 4)),), (2, int(rng.integers(1, 3)))][
        int(rng.choice(3, p=[0.15, 0.6, 0.25]))]
    lo, hi = (-n, n) if n else (0, 1)
    if bad:
        lo, hi = n, n + 2
    a = rng.integers(lo, hi, shape) if (n or bad) else np.zeros((0,) * len(shape), np.int64)
    if not n and not bad and shape:
        a = np.zeros((0,) + shape[1:], np.int64)
    return a.astype(rng.choice(["int64", "int64", "int32"]))


def rand_index(rng, shape, bad_p=0.06):
    """A random index for a tensor of ``shape``: ints, slices, None, ..., bools, integer
    arrays (tensors or lists), masks, 0-d tensors; with probability ``bad_p`` one broken
    item (out of range, a negative step, a float, a mask of the wrong shape, two ...)."""
    items, d = [], 0
    while d < len(shape) and rng.random() < 0.85:
        n = shape[d]
        bad = rng.random() < bad_p
        kind = rng.choice(["int", "slice", "arr", "mask", "t0"], p=[0.25, 0.35, 0.2, 0.1, 0.1])
        if kind == "int":
            items.append((n + int(rng.integers(0, 2))) * (1 if rng.random() < .5 else -1) - (
                0 if rng.random() < .5 else 1) if bad else int(rng.integers(-n, n)) if n else 0)
            if not n and not bad:
                items[-1] = slice(None)
        elif kind == "slice":
            def end(n=n):
                return None if rng.random() < 0.3 else int(rng.integers(-n - 2, n + 3))
            step = None if rng.random() < 0.5 else int(rng.integers(1, 4))
            if bad:
                step = int(rng.choice([-1, 0, -2]))
            items.append(slice(end(), end(), step))
        elif kind == "arr":
            items.append(Idx(_int_array(rng, n, bad), as_list=rng.random() < 0.3))
        elif kind == "t0":
            items.append(Idx(np.int64(rng.integers(-n, n) if n and not bad else n)))
            if not n and not bad:
                items[-1] = slice(None)
        else:
            r = int(rng.integers(1, len(shape) - d + 1))
            mshape = list(shape[d:d + r])
            if bad:
                mshape[0] += 1
            items.append(Idx(rng.random(mshape) < 0.5))
            d += r - 1
        d += 1
    for _ in range(int(rng.choice([0, 0, 1, 2]))):  # None, bools and ... anywhere
        extra = rng.choice(["none", "true", "false", "ell", "t0bool"], p=[.4, .15, .1, .25, .1])
        pos = int(rng.integers(0, len(items) + 1))
        if extra == "ell":
            if any(i is Ellipsis for i in items):  # PyTorch takes a second one; we do not
                continue
            # ``...`` stands for the dims between: keep items bound to their dims by putting
            # it after the last consumed dim or replacing a run of items
            pos = len(items)
            if pos and rng.random() < 0.5:
                k = int(rng.integers(0, pos))
                items = items[:k] + [Ellipsis] + items[k + 1:]
                continue
        items.insert(pos, {"none": None, "true": True, "false": False, "ell": Ellipsis,
                           "t0bool": Idx(np.bool_(rng.random() < 0.5))}[extra])
    if rng.random() < bad_p:
        items.append(0)  # maybe one index too many
    if rng.random() < bad_p:
        items.insert(int(rng.integers(0, len(items) + 1)), 1.5)
    if len(items) == 1 and rng.random() < 0.5:
        return items[0]
    return tuple(items)


def _getitem(idx):
    def fn(m, x):
        return x[build_index(m, idx, x.device if m is ad else None)]
    return fn


def _positions(shape, idx):
    """The flat positions ``x[idx]`` reads (NumPy's reading; None when it cannot tell)."""
    try:
        t = torch.arange(int(np.prod(shape)), dtype=torch.int64).reshape(shape)
        return t[build_index(torch, idx, None)].numpy()
    except Exception:  # noqa: BLE001
        return None


def rand_value(rng, target_shape, dup):
    """A value for ``x[idx] = value``: a Python number, or a tensor broadcastable to the
    target (float64 or float32 requiring grad, int64), rarely one that does not fit."""
    kind = rng.choice(["float", "int", "bool", "t64", "t32", "ti", "bad"],
                      p=[.15, .08, .04, .4, .15, .13, .05])
    if kind in ("float", "int", "bool") or dup:  # repeated positions: one value everywhere
        return {"float": 2.5, "int": -3, "bool": True}.get(kind, 1.25)
    shape = list(target_shape)
    if rng.random() < 0.5:
        shape = shape[int(rng.integers(0, len(shape) + 1)):]
    shape = [1 if rng.random() < 0.3 else n for n in shape]
    if rng.random() < 0.15:
        shape = [1] + shape
    if kind == "bad":
        shape = shape + [5]
    dt = {"t32": "float32", "ti": "int64"}.get(kind, "float64")
    return rand_array(rng, tuple(shape), dt)


def _setitem(idx, on_leaf=False):
    def fn(m, x, value):
        y = x if on_leaf else x * 1  # a non-leaf's writes are recorded; a leaf's raise
        y[build_index(m, idx, x.device if m is ad else None)] = value
        return y
    return fn


# ----------------------------------------------------------------------------- views
# (name, the view of a (3, 4, 5) base, whether it is a view in PyTorch)
VIEWS = [
    ("int", lambda m, b: b[1], True),
    ("slices", lambda m, b: b[:, 1:3, ::2], True),
    ("none-ellipsis", lambda m, b: b[..., None, 0], True),
    ("t0-index", lambda m, b: b[m.tensor(2)], True),
    ("view", lambda m, b: b.view(12, 5), True),
    ("view-1", lambda m, b: b.view(-1), True),
    ("reshape", lambda m, b: b.reshape(5, 12), True),
    ("transpose", lambda m, b: b.transpose(0, 2), True),
    ("swapaxes", lambda m, b: b.swapaxes(0, 1), True),
    ("permute", lambda m, b: b.permute(2, 0, 1), True),
    ("narrow", lambda m, b: b.narrow(1, 1, 2), True),
    ("select", lambda m, b: b.select(2, -1), True),
    ("unfold", lambda m, b: b.unfold(2, 2, 2), True),
    ("diagonal", lambda m, b: b.diagonal(1, 1, 2), True),
    ("as_strided", lambda m, b: b.as_strided((2, 3), (5, 1), 7), True),
    ("T", lambda m, b: b[0].T, True),
    ("mT", lambda m, b: b.mT, True),
    ("squeeze", lambda m, b: b[:1].squeeze(0), True),
    ("unsqueeze", lambda m, b: b.unsqueeze(1), True),
    ("flatten", lambda m, b: b.flatten(1), True),
    ("unflatten", lambda m, b: b.unflatten(2, (5, 1)), True),
    ("movedim", lambda m, b: b.movedim(0, -1), True),
    ("view-of-view", lambda m, b: b[1:].transpose(0, 1)[2], True),
    ("int-list", lambda m, b: b[[0, 2]], False),
    ("mask", lambda m, b: b[b > 0], False),
    ("int-and-list", lambda m, b: b[0, :, [1, 3]], False),
    ("flip", lambda m, b: b.flip(0), False),
    ("reshape-copy", lambda m, b: b.transpose(0, 1).reshape(-1), False),
    ("repeat", lambda m, b: b.repeat(1, 1, 1), False),
    ("index_select", lambda m, b: b.index_select(0, m.tensor([1])), False),
    ("take", lambda m, b: b.take(m.tensor([1, 5])), False),
]
WRITES = [
    ("mul_", lambda m, v, w: v.mul_(2)),
    ("add_w", lambda m, v, w: v.add_(w.sum())),
    ("setitem", lambda m, v, w: v.__setitem__(..., w.sum() * 3)),
    ("zero_", lambda m, v, w: v.zero_()),
    ("copy_", lambda m, v, w: v.copy_(w.sum().expand(v.shape))),
]


def _view_write(view, write):
    def fn(m, x, w):
        base = x * 1
        v = view(m, base)
        write(m, v, w)
        return base * 1, v * 1, v._base is base
    return fn


def _base_write(view, write):
    """The base changes in place after the view is taken: the view sees it."""
    def fn(m, x, w):
        base = x * 1
        v = view(m, base)
        write(m, base, w)
        return base * 1, v * 1
    return fn


def _leaf_view_write(view, write):
    def fn(m, x, w):
        write(m, view(m, x), w)
        return x
    return fn


# ----------------------------------------------------------------------------- index functions
def _dim_and_index(rng, shape, size_range=(0, 4), unique=False):
    """A dim of ``shape`` (negative sometimes) and a 1-D int64 index along it."""
    d = int(rng.integers(0, len(shape)))
    n = shape[d]
    k = int(rng.integers(*size_range)) if not unique else int(rng.integers(0, n + 1))
    idx = rng.permutation(n)[:k] if unique else rng.integers(0, n, k) if n else np.zeros(0, int)
    return d - len(shape) * int(rng.random() < 0.3), idx.astype(np.int64)


def gen_index_ops(rng):
    """One random (name, fn, args) of the index functions."""
    shape = rand_shape(rng, 3, 1)
    x = rand_array(rng, shape)
    name = rng.choice(["index_select", "gather", "scatter", "scatter_add", "scatter_value",
                       "index_add", "index_copy", "index_fill", "index_put", "index_put_acc",
                       "masked_fill", "masked_scatter", "masked_select", "take",
                       "take_along_dim", "put_", "put_acc", "nonzero", "nonzero_tuple",
                       "where1", "argwhere"])
    if name == "index_select":
        d, i = _dim_and_index(rng, shape)
        return name, lambda m, x, i: x.index_select(d, i), [x, C(i)]
    if name in ("gather", "scatter", "scatter_add", "scatter_value", "take_along_dim"):
        d = int(rng.integers(0, len(shape)))
        ishape = tuple(int(rng.integers(0, n + 1)) if k != d else int(rng.integers(0, 4))
                       for k, n in enumerate(shape))
        n = shape[d]
        if name == "take_along_dim":  # broadcasts against x outside dim
            ishape = tuple(1 if k != d and rng.random() < 0.4 else (n if k != d else m)
                           for k, (n, m) in enumerate(zip(shape, ishape)))
        if name in ("scatter", "scatter_value"):  # no repeated target: the kept write is
            ishape = tuple(min(a, 1) if k == d else a for k, a in enumerate(ishape))
        i = rng.integers(0, n, ishape) if n else np.zeros(ishape, np.int64)
        if not n:
            ishape = tuple(0 if k == d else a for k, a in enumerate(ishape))
            i = np.zeros(ishape, np.int64)
        src = rand_array(rng, tuple(a + int(rng.integers(0, 2)) for a in ishape))
        if src.shape != ishape:  # torch's backward then fails (its gradient has index's shape)
            src = C(src)
        fns = {"gather": lambda m, x, i, s: x.gather(d, i),
               "take_along_dim": lambda m, x, i, s: m.take_along_dim(x, i, d),
               "scatter": lambda m, x, i, s: x.scatter(d, i, s),
               "scatter_add": lambda m, x, i, s: x.scatter_add(d, i, s),
               "scatter_value": lambda m, x, i, s: x.scatter(d, i, 1.5)}
        return name, fns[name], [x, C(i), src]
    if name in ("index_add", "index_copy", "index_fill"):
        d, i = _dim_and_index(rng, shape, unique=name != "index_add")
        sshape = list(shape)
        sshape[d] = len(i)
        src = rand_array(rng, tuple(sshape))
        fns = {"index_add": lambda m, x, i, s: x.index_add(d, i, s, alpha=2),
               "index_copy": lambda m, x, i, s: x.index_copy(d, i, s),
               "index_fill": lambda m, x, i, s: x.index_fill(d, i, -1.0)}
        return name, fns[name], [x, C(i), src]
    if name in ("index_put", "index_put_acc"):
        k = int(rng.integers(1, len(shape) + 1))
        b = tuple(int(v) for v in rng.integers(1, 4, int(rng.integers(1, 3))))
        idx = [rng.integers(-n, n, b) if n else np.zeros((0,), np.int64) for n in shape[:k]]
        if any(not n for n in shape[:k]):
            idx = [np.zeros((0,), np.int64) for _ in shape[:k]]
        acc = name.endswith("acc")
        pos = np.ravel_multi_index(tuple(np.broadcast_arrays(*idx)), shape[:k], mode="wrap")
        if not acc and len(np.unique(pos)) != pos.size:
            acc = True  # repeated positions: which write is kept is unspecified
        tgt = np.broadcast_shapes(*[a.shape for a in idx]) + shape[k:]
        v = rand_array(rng, tgt[int(rng.integers(0, len(tgt) + 1)):])
        return name, lambda m, x, v, *ii: x.index_put(tuple(ii), v, accumulate=acc), [
            x, v] + [C(a) for a in idx]
    if name in ("masked_fill", "masked_scatter", "masked_select"):
        mshape = shape[int(rng.integers(0, len(shape) + 1)):]
        mask = rng.random(mshape) < 0.5
        src = rand_array(rng, tuple(shape) if rng.random() < 0.7 else (x.size + 2,))
        value = rng.choice([0.5, -2]) if rng.random() < 0.5 else rand_array(rng, ())
        fns = {"masked_fill": lambda m, x, mk, s, v: x.masked_fill(mk, v),
               "masked_scatter": lambda m, x, mk, s, v: x.masked_scatter(mk, s),
               "masked_select": lambda m, x, mk, s, v: x.masked_select(mk)}
        return name, fns[name], [x, C(mask), src, value]
    if name in ("take", "put_", "put_acc"):
        n = x.size
        i = rng.integers(-n, n, int(rng.integers(0, 5))) if n else np.zeros(0, np.int64)
        if name == "put_" and len(np.unique(i % max(n, 1))) != len(i):
            name = "put_acc"
        src = rand_array(rng, i.shape)
        acc = name == "put_acc"
        if name == "take":
            return name, lambda m, x, i, s: x.take(i), [x, C(i), src]
        return name, lambda m, x, i, s: (x * 1).put_(i, s, accumulate=acc), [x, C(i), src]
    xb = rand_array(rng, shape, "bool" if rng.random() < 0.5 else "float64")
    xb = C(np.where(rng.random(shape) < 0.5, 0, xb))
    fns = {"nonzero": lambda m, x: x.nonzero(),
           "nonzero_tuple": lambda m, x: x.nonzero(as_tuple=True),
           "where1": lambda m, x: m.where(x),
           "argwhere": lambda m, x: m.argwhere(x)}
    return name, fns[name], [xb]


X = np.random.default_rng(7).standard_normal((3, 4))
I64 = np.array([[0, 2], [1, 0]])
# (name, fn, args): edge and error cases of the index functions, one line each
INDEX_EDGES = [
    ("gather-oob", lambda m, x: x.gather(1, m.tensor([[4]])), [X]),
    ("gather-neg", lambda m, x: x.gather(1, m.tensor([[-1]])), [X]),
    ("gather-int32", lambda m, x: x.gather(1, m.tensor([[1]], dtype=m.int32)), [X]),
    ("gather-float", lambda m, x: x.gather(1, m.tensor([[1.0]])), [X]),
    ("gather-ndim", lambda m, x: x.gather(1, m.tensor([1])), [X]),
    ("gather-0d", lambda m, x: x[0, 0].gather(0, m.tensor(0)), [X]),
    ("gather-big", lambda m, x: x.gather(0, m.tensor([[0, 1, 2, 0, 1]])), [X]),
    ("index_select-oob", lambda m, x: x.index_select(0, m.tensor([3])), [X]),
    ("index_select-neg", lambda m, x: x.index_select(0, m.tensor([-1])), [X]),
    ("index_select-2d", lambda m, x: x.index_select(0, m.tensor([[0]])), [X]),
    ("index_select-0d", lambda m, x: x.index_select(1, m.tensor(2)), [X]),
    ("index_select-int32", lambda m, x: x.index_select(1, m.tensor([2], dtype=m.int32)), [X]),
    ("index_select-of-0d", lambda m, x: x[1, 1].index_select(0, m.tensor([0, 0])), [X]),
    ("scatter-oob", lambda m, x: x.scatter(0, m.tensor([[3]]), 1.0), [X]),
    ("scatter-neg", lambda m, x: x.scatter(0, m.tensor([[-1]]), 1.0), [X]),
    ("scatter_add-oob", lambda m, x: x.scatter_add(1, m.tensor([[4]]), x), [X]),
    ("scatter_add-dtype", lambda m, x: x.scatter_add(1, m.tensor([[1]]), x.float()), [X]),
    ("index_add-oob", lambda m, x: x.index_add(0, m.tensor([3]), x[:1]), [X]),
    ("index_add-neg", lambda m, x: x.index_add(0, m.tensor([-1]), x[:1]), [X]),
    ("index_add-shape", lambda m, x: x.index_add(0, m.tensor([0, 1]), x[:1]), [X]),
    ("index_add-dtype", lambda m, x: x.index_add(0, m.tensor([1]), x[:1].float()), [X]),
    ("index_copy-oob", lambda m, x: x.index_copy(1, m.tensor([4]), x[:, :1]), [X]),
    ("index_copy-shape", lambda m, x: x.index_copy(1, m.tensor([0]), x[:, :2]), [X]),
    ("index_fill-oob", lambda m, x: x.index_fill(1, m.tensor([4]), 0.0), [X]),
    ("index_fill-neg", lambda m, x: x.index_fill(1, m.tensor([-1]), 0.0), [X]),
    ("index_fill-tensor", lambda m, x: x.index_fill(1, m.tensor([0]), x[0, 0]), [X]),
    ("index_fill-int", lambda m, x: x.long().index_fill(1, m.tensor([0]), 7), [X]),
    ("index_put-oob", lambda m, x: x.index_put((m.tensor([3]),), m.tensor(1.0).double()), [X]),
    ("index_put-dtype", lambda m, x: x.index_put((m.tensor([1]),), m.tensor(1.0)), [X]),
    ("index_put-mask", lambda m, x: x.index_put((x > 0,), m.tensor(0.0).double()), [X]),
    ("index_put-mask-acc", lambda m, x: x.index_put((x > 0,), x[x > 0] * 2, True), [X]),
    ("index_put-list", lambda m, x: x.index_put([m.tensor([0, 0])], x[1] * 3, True), [X]),
    ("masked_fill-float-mask", lambda m, x: x.masked_fill(x, 1.0), [X]),
    ("masked_fill-bcast", lambda m, x: x[0].masked_fill(x > 0, 1.0), [X]),
    ("masked_fill-1d-value", lambda m, x: x.masked_fill(x > 0, x[0, :1]), [X]),
    ("masked_fill-int-nan", lambda m, x: x.long().masked_fill(x > 0, 2.5), [X]),
    ("masked_fill-grad-value", lambda m, x: x.masked_fill(x > 0, x[1, 1]), [X]),
    ("masked_scatter-short", lambda m, x: x.masked_scatter(x > -9, x[0]), [X]),
    ("masked_scatter-float-mask", lambda m, x: x.masked_scatter(x, x), [X]),
    ("masked_scatter-dtype", lambda m, x: x.masked_scatter(x > 0, x.float()), [X]),
    ("masked_select-bcast", lambda m, x: x[:1].masked_select(x > 0), [X]),
    ("masked_select-float", lambda m, x: x.masked_select(x), [X]),
    ("take-oob", lambda m, x: x.take(m.tensor([12])), [X]),
    ("take-neg", lambda m, x: x.take(m.tensor([-12, -1])), [X]),
    ("take-2d", lambda m, x: x.take(m.tensor([[0, 5], [11, 3]])), [X]),
    ("take-0d", lambda m, x: x.take(m.tensor(5)), [X]),
    ("take-int32", lambda m, x: x.take(m.tensor([5], dtype=m.int32)), [X]),
    ("take_along_dim-none", lambda m, x: m.take_along_dim(x, m.tensor([0, 11])), [X]),
    ("take_along_dim-neg", lambda m, x: m.take_along_dim(x, m.tensor([[-1]]), 1), [X]),
    ("take_along_dim-ndim", lambda m, x: m.take_along_dim(x, m.tensor([0]), 1), [X]),
    ("put_-oob", lambda m, x: (x * 1).put_(m.tensor([12]), m.tensor([1.0]).double()), [X]),
    ("put_-neg", lambda m, x: (x * 1).put_(m.tensor([-1]), x[0, :1]), [X]),
    ("put_-numel", lambda m, x: (x * 1).put_(m.tensor([1, 2]), x[0, :1]), [X]),
    ("put_-dtype", lambda m, x: (x * 1).put_(m.tensor([1]), m.tensor([1.0])), [X]),
    ("put-fn", lambda m, x: x.put(m.tensor([0, 0]), x[0, :2], accumulate=True), [X]),
    ("nonzero-0d", lambda m, x: (x[0, 0] > 0).nonzero(), [X]),
    ("nonzero-0d-tuple", lambda m, x: (x[0, 0] > 0).nonzero(as_tuple=True), [X]),
    ("nonzero-0d-false", lambda m, x: (x[0, 0] > 9).nonzero(as_tuple=True), [X]),
    ("nonzero-empty", lambda m, x: x[:0].nonzero(as_tuple=True), [X]),
    ("where-0d", lambda m, x: m.where(x[0, 0] > 0), [X]),
    ("where-scalars", lambda m, x: m.where(x > 0, 1.0, 0), [X]),
    ("where-int-scalar", lambda m, x: m.where(x > 0, x.long(), 2.5), [X]),
    ("where-bcast", lambda m, x: m.where(x[:, :1] > 0, x, x[0]), [X]),
]


def gen_errors(rng):
    return INDEX_EDGES[int(rng.integers(0, len(INDEX_EDGES)))]


# ----------------------------------------------------------------------------- shape functions
def _dims_of(rng, nd, k=1):
    """k distinct dims of an nd-dim tensor, negative sometimes."""
    n = max(nd, 1)
    return [int(d) - n * int(rng.random() < 0.3) for d in rng.permutation(n)[:k]]


def gen_shape_ops(rng):
    """One random (name, fn, args) of the shape and movement functions."""
    shape = rand_shape(rng, 4, 0)
    nd = len(shape)
    x = rand_array(rng, shape, "float64" if rng.random() < 0.85 else "int64")
    name = str(rng.choice(["cat", "stack", "hstack", "vstack", "dstack", "column_stack",
                           "split", "split_list", "chunk", "tensor_split", "tensor_split_list",
                           "tensor_split_tensor", "unbind", "movedim", "swapaxes", "flatten",
                           "unflatten", "squeeze", "squeeze_tuple", "unsqueeze", "repeat",
                           "repeat_interleave", "repeat_interleave_t", "tile", "flip",
                           "fliplr", "roll", "rot90", "expand_as", "broadcast_to",
                           "broadcast_tensors", "meshgrid", "tril", "triu", "narrow_copy"]))
    d = _dims_of(rng, nd)[0]
    n = shape[d] if nd else 1
    if name in ("cat", "stack", "hstack", "vstack", "dstack", "column_stack"):
        parts = [x]
        for _ in range(int(rng.integers(0, 3))):
            s = list(shape)
            if name == "cat" and nd:
                s[d] = int(rng.integers(0, 3))
            if rng.random() < 0.15:
                s = [0]  # PyTorch's legacy rule: cat skips (0,) tensors
            if rng.random() < 0.05 and s:
                s[0] += 1  # does not fit
            dt = str(rng.choice(["float64", "float64", "float32", "int64", "bool"]))
            parts.append(rand_array(rng, tuple(s), dt))
        fns = {"cat": lambda m, *ts: m.cat(ts, d), "stack": lambda m, *ts: m.stack(ts, d),
               "hstack": lambda m, *ts: m.hstack(ts), "vstack": lambda m, *ts: m.vstack(ts),
               "dstack": lambda m, *ts: m.dstack(ts),
               "column_stack": lambda m, *ts: m.column_stack(ts)}
        return name, fns[name], parts
    k = int(rng.integers(0, 4))
    sizes = list(rng.multinomial(n, [1 / 3] * 3)) if rng.random() < .8 else [n + 1]
    cuts = sorted(int(c) for c in rng.integers(-1, n + 2, k))
    reps = [int(r) for r in rng.integers(0, 3, nd + int(rng.integers(0, 2)))]
    rep_t = rng.integers(0, 3, n if rng.random() < 0.9 else n + 1)
    dims = _dims_of(rng, nd, int(rng.integers(1, max(nd, 1) + 1)))
    bshape = tuple(int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 2)))) + tuple(
        m if rng.random() < 0.8 else (1 if m == 1 else m) for m in shape)
    one = C(rand_array(rng, (1,) * nd))
    shifts = [int(s) for s in rng.integers(-5, 6, len(dims))]
    ud = d - int(rng.random() < 0.3)
    fns = {
        "split": lambda m, x: x.split(k + 1, d),
        "split_list": lambda m, x: x.split([int(s) for s in sizes], d),
        "chunk": lambda m, x: x.chunk(k + 1, d),
        "tensor_split": lambda m, x: x.tensor_split(k + 1, d),
        "tensor_split_list": lambda m, x: x.tensor_split(cuts, d),
        "tensor_split_tensor": lambda m, x: x.tensor_split(m.tensor(cuts, dtype=m.int64), d),
        "unbind": lambda m, x: x.unbind(d),
        "movedim": lambda m, x: x.movedim(dims, sorted(dims)[::-1]),
        "swapaxes": lambda m, x: x.swapaxes(d, dims[-1]),
        "flatten": lambda m, x: x.flatten(min(dims), max(dims)) if nd else x.flatten(),
        "unflatten": lambda m, x: x.unflatten(d, (-1, 1) if n != 0 else (0, 1)),
        "squeeze": lambda m, x: x.squeeze(d),
        "squeeze_tuple": lambda m, x: x.squeeze(tuple(dims)),
        "unsqueeze": lambda m, x: x.unsqueeze(ud),
        "repeat": lambda m, x: x.repeat(*reps) if reps else x.repeat(()),
        "repeat_interleave": lambda m, x: x.repeat_interleave(k, dim=d if nd else None),
        "repeat_interleave_t": lambda m, x: x.repeat_interleave(
            m.tensor(rep_t), dim=d, output_size=int(rep_t.sum())) if nd else
        x.repeat_interleave(m.tensor([k])),
        "tile": lambda m, x: x.tile(tuple(reps)),
        "flip": lambda m, x: x.flip(dims),
        "fliplr": lambda m, x: m.fliplr(x),
        "roll": lambda m, x: x.roll(shifts, dims),
        "rot90": lambda m, x: x.rot90(k - 1, dims[:2] if len(dims) > 1 else (0, 1)),
        "expand_as": lambda m, x, o: o.expand_as(x) * 1,
        "broadcast_to": lambda m, x: x.broadcast_to(bshape),
        "broadcast_tensors": lambda m, x, o: m.broadcast_tensors(x, o),
        "meshgrid": lambda m, x: m.meshgrid(x.reshape(-1)[:3], x.reshape(-1)[1:],
                                            indexing="ij" if k % 2 else "xy"),
        "tril": lambda m, x: x.tril(k - 2),
        "triu": lambda m, x: x.triu(2 - k),
        "narrow_copy": lambda m, x: x.narrow_copy(d, min(k, n), max(n - k, 0)),
    }
    args = [x, one] if name in ("expand_as", "broadcast_tensors") else [x]
    return name, fns[name], args


V = np.array([1.0, -2.0, 3.0])
E = np.zeros((0,))
# (name, fn, args): edge and error cases of the shape functions, one line each
SHAPE_EDGES = [
    ("cat-0d", lambda m, x: m.cat([x[0], x[1]]), [V]),
    ("cat-empty-list", lambda m, x: m.cat([]), [V]),
    ("cat-legacy-empty", lambda m, x, e: m.cat([x.reshape(1, 3), e, x.reshape(1, 3)], 1), [V, E]),
    ("cat-only-empty", lambda m, x, e: m.cat([e, e * 2], 0), [V, E]),
    ("cat-empty-2d", lambda m, x: m.cat([x.reshape(3, 1), x[:0].reshape(0, 1)]), [V]),
    ("cat-promote", lambda m, x: m.cat([x.float(), x.long(), x > 0]), [V]),
    ("cat-promote-int-bool", lambda m, x: m.cat([x.int(), x > 0]), [V]),
    ("cat-promote-f64", lambda m, x: m.cat([x.float(), x]), [V]),
    ("cat-dim-range", lambda m, x: m.cat([x, x], 1), [V]),
    ("cat-dim-neg", lambda m, x: m.cat([x.reshape(1, 3), x.reshape(1, 3)], -1), [V]),
    ("cat-mismatch", lambda m, x: m.cat([x.reshape(1, 3), x[:2].reshape(1, 2)]), [V]),
    ("cat-ndim", lambda m, x: m.cat([x.reshape(1, 3), x]), [V]),
    ("cat-tuple", lambda m, x: m.cat((x, x)), [V]),
    ("stack-0d", lambda m, x: m.stack([x[0], x[1]]), [V]),
    ("stack-shapes", lambda m, x: m.stack([x, x[:2]]), [V]),
    ("stack-dim", lambda m, x: m.stack([x, x], 2), [V]),
    ("stack-dim-neg", lambda m, x: m.stack([x, x], -1), [V]),
    ("stack-promote", lambda m, x: m.stack([x, x.long()]), [V]),
    ("stack-empty-list", lambda m, x: m.stack([]), [V]),
    ("hstack-0d", lambda m, x: m.hstack([x[0], x]), [V]),
    ("vstack-0d", lambda m, x: m.vstack([x[0], x[1]]), [V]),
    ("vstack-mixed", lambda m, x: m.vstack([x, x.reshape(1, 3)]), [V]),
    ("dstack-0d", lambda m, x: m.dstack([x[0], x[1]]), [V]),
    ("dstack-3d", lambda m, x: m.dstack([x.reshape(1, 1, 3), x.reshape(1, 3)]), [V]),
    ("column_stack-0d", lambda m, x: m.column_stack([x[0], x[1]]), [V]),
    ("column_stack-mixed", lambda m, x: m.column_stack([x, x.reshape(3, 1)]), [V]),
    ("split-sum", lambda m, x: x.split([1, 1]), [V]),
    ("split-neg-size", lambda m, x: x.split([4, -1]), [V]),
    ("split-zero", lambda m, x: x.split(0), [V]),
    ("split-zero-empty", lambda m, x: x[:0].split(0), [V]),
    ("split-big", lambda m, x: x.split(5), [V]),
    ("chunk-zero", lambda m, x: x.chunk(0), [V]),
    ("chunk-more", lambda m, x: x.chunk(5), [V]),
    ("chunk-uneven", lambda m, x: x.repeat(2).chunk(4), [V]),
    ("tensor_split-0", lambda m, x: x.tensor_split(0), [V]),
    ("tensor_split-0d-t", lambda m, x: x.tensor_split(m.tensor(2)), [V]),
    ("tensor_split-float", lambda m, x: x.tensor_split(m.tensor([1.0])), [V]),
    ("tensor_split-2d-t", lambda m, x: x.tensor_split(m.tensor([[1]])), [V]),
    ("unbind-0d", lambda m, x: x[0].unbind(), [V]),
    ("unbind-empty", lambda m, x: x[:0].unbind(), [V]),
    ("movedim-repeat", lambda m, x: x.reshape(1, 3).movedim((0, 0), (0, 1)), [V]),
    ("movedim-len", lambda m, x: x.reshape(1, 3).movedim((0, 1), (0,)), [V]),
    ("movedim-range", lambda m, x: x.movedim(1, 0), [V]),
    ("swapaxes-same", lambda m, x: x.reshape(1, 3).swapaxes(1, 1), [V]),
    ("swapaxes-0d", lambda m, x: x[0].swapaxes(0, -1), [V]),
    ("flatten-0d", lambda m, x: x[0].flatten(), [V]),
    ("flatten-range", lambda m, x: x.flatten(0, 2), [V]),
    ("unflatten-mismatch", lambda m, x: x.unflatten(0, (2, 2)), [V]),
    ("unflatten-two-neg", lambda m, x: x.unflatten(0, (-1, -1)), [V]),
    ("unflatten-empty", lambda m, x: x[:0].reshape(0, 3).unflatten(1, (3, 1)), [V]),
    ("squeeze-dup", lambda m, x: x.reshape(1, 3, 1).squeeze((0, 0)), [V]),
    ("squeeze-nonone", lambda m, x: x.squeeze(0), [V]),
    ("squeeze-0d", lambda m, x: x[0].squeeze(0), [V]),
    ("squeeze-range", lambda m, x: x.squeeze(1), [V]),
    ("squeeze-tuple-range", lambda m, x: x.reshape(1, 3).squeeze((0, 2)), [V]),
    ("squeeze-empty-tuple", lambda m, x: x.reshape(1, 3).squeeze(()), [V]),
    ("unsqueeze-range", lambda m, x: x.unsqueeze(3), [V]),
    ("unsqueeze-neg", lambda m, x: x.unsqueeze(-2), [V]),
    ("unsqueeze-0d", lambda m, x: x[0].unsqueeze(-1), [V]),
    ("repeat-fewer", lambda m, x: x.reshape(1, 3).repeat(2), [V]),
    ("repeat-neg", lambda m, x: x.repeat(-1), [V]),
    ("repeat-zero", lambda m, x: x.repeat(0, 2), [V]),
    ("repeat-0d", lambda m, x: x[0].repeat(2, 1), [V]),
    ("repeat_interleave-neg", lambda m, x: x.repeat_interleave(-1), [V]),
    ("repeat_interleave-t0d", lambda m, x: x.repeat_interleave(m.tensor(2)), [V]),
    ("repeat_interleave-t1", lambda m, x: x.repeat_interleave(m.tensor([2])), [V]),
    ("repeat_interleave-tneg", lambda m, x: x.repeat_interleave(m.tensor([1, -1, 1])), [V]),
    ("repeat_interleave-tlen", lambda m, x: x.repeat_interleave(m.tensor([1, 2])), [V]),
    ("repeat_interleave-2d", lambda m, x: x.reshape(1, 3).repeat_interleave(2), [V]),
    ("repeat_interleave-float",
     lambda m, x: x.repeat_interleave(m.tensor([1.0, 2.0, 0.0])), [V]),
    ("repeat_interleave-only", lambda m, x: m.repeat_interleave(m.tensor([1, 0, 3])), [V]),
    ("repeat_interleave-0d", lambda m, x: x[1].repeat_interleave(3, dim=0), [V]),
    ("tile-0d", lambda m, x: x[0].tile((2, 2)), [V]),
    ("tile-empty", lambda m, x: x.tile(()), [V]),
    ("flip-dup", lambda m, x: x.flip((0, 0)), [V]),
    ("flip-empty-dims", lambda m, x: x.flip(()), [V]),
    ("flip-range", lambda m, x: x.flip(1), [V]),
    ("fliplr-1d", lambda m, x: m.fliplr(x), [V]),
    ("flipud-0d", lambda m, x: m.flipud(x[0]), [V]),
    ("roll-mismatch", lambda m, x: x.reshape(1, 3).roll((1, 2), 1), [V]),
    ("roll-none-tuple", lambda m, x: x.reshape(1, 3).roll((1, 2)), [V]),
    ("roll-none", lambda m, x: x.reshape(1, 3).roll(4), [V]),
    ("roll-0d", lambda m, x: x[0].roll(1), [V]),
    ("roll-0d-dim", lambda m, x: x[0].roll(1, 0), [V]),
    ("roll-empty", lambda m, x: x[:0].roll(1, 0), [V]),
    ("roll-repeat-dim", lambda m, x: x.reshape(1, 3).roll((1, 1), (1, 1)), [V]),
    ("rot90-same", lambda m, x: x.reshape(1, 3).rot90(1, (1, 1)), [V]),
    ("rot90-neg", lambda m, x: x.reshape(1, 3).rot90(-3), [V]),
    ("rot90-3dims", lambda m, x: x.reshape(1, 3, 1).rot90(1, (0, 1, 2)), [V]),
    ("rot90-neg-dims", lambda m, x: x.reshape(1, 3, 1).rot90(1, (-1, 0)), [V]),
    ("expand_as-bad", lambda m, x: x.expand_as(x[:2]), [V]),
    ("expand-neg-lead", lambda m, x: x.expand(-1, 3), [V]),
    ("expand-neg-keep", lambda m, x: x.expand(2, -1), [V]),
    ("expand-fewer", lambda m, x: x.reshape(1, 3).expand(3), [V]),
    ("expand-0d", lambda m, x: x[0].expand(2, 2), [V]),
    ("expand-zero", lambda m, x: x.reshape(3, 1).expand(3, 0), [V]),
    ("broadcast_to-bad", lambda m, x: x.broadcast_to((2, 2)), [V]),
    ("broadcast_to-neg", lambda m, x: x.broadcast_to((2, -1)), [V]),
    ("broadcast_tensors-bad", lambda m, x: m.broadcast_tensors(x, x[:2]), [V]),
    ("broadcast_tensors-0d", lambda m, x: m.broadcast_tensors(x, x[0]), [V]),
    ("broadcast_tensors-one", lambda m, x: m.broadcast_tensors(x), [V]),
    ("meshgrid-0d", lambda m, x: m.meshgrid(x[0], x, indexing="ij"), [V]),
    ("meshgrid-one", lambda m, x: m.meshgrid(x, indexing="xy"), [V]),
    ("meshgrid-list", lambda m, x: m.meshgrid([x, x[:2], x[:1]], indexing="xy"), [V]),
    ("meshgrid-2d", lambda m, x: m.meshgrid(x.reshape(1, 3), x, indexing="ij"), [V]),
    ("meshgrid-dtypes", lambda m, x: m.meshgrid(x, x.long(), indexing="ij"), [V]),
    ("meshgrid-bad-indexing", lambda m, x: m.meshgrid(x, x, indexing="ji"), [V]),
    ("tril-big", lambda m, x: x.outer(x).tril(5), [V]),
    ("triu-neg", lambda m, x: x.outer(x).triu(-5), [V]),
    ("tril-3d", lambda m, x: x.outer(x).expand(2, 3, 3).tril(-1), [V]),
    ("triu-empty", lambda m, x: x[:0].reshape(0, 2, 0).triu(), [V]),
    ("tril-int", lambda m, x: x.long().outer(x.long()).tril(), [V]),
    ("narrow_copy-range", lambda m, x: x.narrow_copy(0, 2, 2), [V]),
    ("narrow-neg-len", lambda m, x: x.narrow(0, 1, -1), [V]),
    ("narrow-start-oob", lambda m, x: x.narrow(0, 4, 0), [V]),
    ("narrow-tensor-start", lambda m, x: x.narrow(0, m.tensor(1), 2), [V]),
    ("select-oob", lambda m, x: x.select(0, 3), [V]),
    ("select-neg", lambda m, x: x.select(0, -3), [V]),
    ("select-0d", lambda m, x: x[0].select(0, 0), [V]),
    ("diagonal-oob", lambda m, x: x.outer(x).diagonal(5), [V]),
    ("diagonal-same", lambda m, x: x.outer(x).diagonal(0, 1, 1), [V]),
    ("diagonal-1d", lambda m, x: x.diagonal(), [V]),
    ("unfold-big", lambda m, x: x.unfold(0, 4, 1), [V]),
    ("unfold-0d", lambda m, x: x[0].unfold(0, 1, 1), [V]),
    ("unfold-step0", lambda m, x: x.unfold(0, 1, 0), [V]),
    ("as_strided-overlap", lambda m, x: x.as_strided((2, 2), (1, 1)) * 1, [V]),
    ("as_strided-offset", lambda m, x: x[1:].as_strided((2,), (1,)) * 1, [V]),
    ("as_strided-oob", lambda m, x: x.as_strided((2, 2), (1, 1), 2), [V]),
    ("as_strided-neg", lambda m, x: x.as_strided((2,), (-1,)), [V]),
    ("as_strided-len", lambda m, x: x.as_strided((2,), (1, 1)), [V]),
    ("as_strided-empty", lambda m, x: x.as_strided((0, 2), (1, 1), 9), [V]),
    ("as_strided-0d", lambda m, x: m.as_strided(x, (), (), 2) * 1, [V]),
    ("T-3d", lambda m, x: x.reshape(1, 3, 1).T * 1, [V]),
    ("T-1d", lambda m, x: x.T * 1, [V]),
    ("mT-1d", lambda m, x: x.mT, [V]),
    ("t-3d", lambda m, x: x.reshape(1, 3, 1).t(), [V]),
    ("view-noncontig", lambda m, x: x.outer(x).t().view(9), [V]),
    ("view-dtype-arg", lambda m, x: x.view(-1, 1, 3), [V]),
    ("view-two-neg", lambda m, x: x.view(-1, -1), [V]),
    ("reshape-bad", lambda m, x: x.reshape(2, 2), [V]),
    ("reshape-empty-neg", lambda m, x: x[:0].reshape(-1, 0), [V]),
    ("permute-dup", lambda m, x: x.reshape(1, 3).permute(0, 0), [V]),
    ("permute-neg", lambda m, x: x.reshape(1, 3).permute(-1, 0), [V]),
]


# (name, fn, args): the getitem / setitem discrepancies the fuzz loops found, fixed
GETSET_REGRESSIONS = [
    ("bool-is-advanced", lambda m, x: x[1, True, :, [0, 1]], [X.reshape(3, 2, 2)]),
    ("bool-after-int", lambda m, x: x[2:, -1, :-2, False], [X.reshape(3, 2, 2)]),
    ("bool-with-lists", lambda m, x: x[[[1], [0]], 1, True, m.tensor(False)], [X]),
    ("bool-is-a-copy", lambda m, x: (x[True].mul_(0), x * 1), [C(X)]),
    ("set-empty", lambda m, x: _set_fn(m, x[:0], (Ellipsis,), 2.5), [X]),
    ("set-leading-ones", lambda m, x, v: _set_fn(m, x, (slice(1, 2), 0), v), [X, X[:1, :1, None]]),
    ("set-0d-from-1", lambda m, x, v: _set_fn(m, x[0, 0], (), v), [X, X[0, :1]]),
    ("set-dtype-adv", lambda m, x, v: _set_fn(m, x, [0, 2], v), [X, X[0].astype("float32")]),
    ("set-dtype-mask-1", lambda m, x, v: _set_fn(m, x, x[:, 0] > 0, v), [X, np.float32(2)]),
    ("set-dtype-bool-idx", lambda m, x, v: _set_fn(m, x, True, v), [X, X[0].astype("float32")]),
    ("set-dtype-basic", lambda m, x, v: _set_fn(m, x, 1, v), [X, X[0].astype("float32")]),
    ("set-mask-2d-value", lambda m, x, v: _set_fn(m, x[0], x[0] > 9, v), [X, X[:2, :2]]),
    ("copy-into-int", lambda m, x: (x.long() * 1).copy_(x).requires_grad, [X]),
    ("set-leaf", lambda m, x: _set_fn(m, x, 0, 1.0, clone=False), [X]),
    ("set-view-of-leaf", lambda m, x: _set_fn(m, x[0], 1, 1.0, clone=False), [X]),
]


def _set_fn(m, x, idx, value, clone=True):
    y = x * 1 if clone else x
    y[idx] = value if not isinstance(value, np.generic) else m.tensor(value)
    return y


# ----------------------------------------------------------------------------- the tests
def _fuzz(check, n, seed):
    rng = np.random.default_rng(seed)
    bad = [r for k in range(n) if (r := check(rng, k))]
    assert not bad, f"{len(bad)} of {n} cases differ from PyTorch:\n" + "\n".join(bad[:5])


def test_getitem_fuzz(cpu_device):
    def check(rng, k):
        shape = rand_shape(rng)
        x = rand_array(rng, shape, str(rng.choice(["float64"] * 6 + ["int64", "bool"])))
        idx = rand_index(rng, shape)
        r = diff(_getitem(idx), [x], cpu_device, seed=k)
        if r and r.startswith("torch succeeds") and (_positions(shape, idx) is not None and
                                                     _positions(shape, idx).size == 0):
            return None  # PyTorch skips its bounds check when nothing is read (known)
        return r and f"{shape} {idx!r}: {r}"
    _fuzz(check, 300, 0)


def test_setitem_fuzz(cpu_device):
    def check(rng, k):
        shape = rand_shape(rng)
        dt = str(rng.choice(["float64"] * 6 + ["int64", "float32"]))
        x = rand_array(rng, shape, dt)
        idx = rand_index(rng, shape, bad_p=0.03)
        pos = _positions(shape, idx)
        dup = pos is not None and len(np.unique(pos)) != pos.size
        v = rand_value(rng, pos.shape if pos is not None else (), dup)
        leaf = rng.random() < 0.05
        if pos is None or pos.size == 0:  # a broken index or an empty view: one error at once
            v, leaf = (v.astype(dt) if isinstance(v, np.ndarray) else v), False
        if dt == "int64" and isinstance(v, np.ndarray):
            v = C(v)  # PyTorch gives an integer result a grad_fn that fails in backward
        r = diff(_setitem(idx, on_leaf=leaf), [x, v], cpu_device, seed=k)
        if r and r.startswith("torch succeeds") and pos is not None and pos.size == 0:
            return None  # (as in test_getitem_fuzz)
        return r and f"{shape} {idx!r} {getattr(v, 'shape', v)}: {r}"
    _fuzz(check, 300, 1)


@pytest.mark.parametrize("gen,seed", [(gen_index_ops, 3), (gen_shape_ops, 4)],
                         ids=["index_ops", "shape_ops"])
def test_function_fuzz(gen, seed, cpu_device):
    def check(rng, k):
        name, fn, args = gen(rng)
        r = diff(fn, args, cpu_device, seed=k)
        return r and f"{name} {[getattr(getattr(a, 'a', a), 'shape', a) for a in args]}: {r}"
    _fuzz(check, 250, seed)


@pytest.mark.parametrize("view", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_write_through(view, cpu_device):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4, 5)), rng.standard_normal(3)
    for wname, write in WRITES:
        for make in (_view_write, _base_write, _leaf_view_write):
            if make is _base_write and view[0] == "take":
                continue  # PyTorch's take saves its input (a version error); ours needs not
            r = diff(make(view[1], write), [x, w], cpu_device)
            assert r is None, f"{make.__name__} {wname}: {r}"


# differences kept on purpose or left for later (the reason is the xfail's)
KNOWN = {
    "index_select-2d": "ours raises ShapeError (tests/test_composites.py pins ValueError), "
                       "PyTorch IndexError",
    "repeat_interleave-float": "float repeats are truncated to integers; PyTorch refuses them",
}
CASES = [pytest.param(*c, id=c[0], marks=[pytest.mark.xfail(reason=KNOWN[c[0]])] if c[0] in KNOWN
                      else []) for c in INDEX_EDGES + SHAPE_EDGES + GETSET_REGRESSIONS]


@pytest.mark.parametrize("name,fn,args", CASES)
def test_edge_cases(name, fn, args, cpu_device):
    assert diff(fn, args, cpu_device) is None
