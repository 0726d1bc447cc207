"""A seeded differential fuzz of autodiff.nn.functional against torch.nn.functional.

Each family has a generator ``gen_<family>(rng) -> (id, fn, args)`` that draws random valid
shapes (batch 1, odd sizes, size-1 spatial dims, zero-size batches, transposed views) and
options; ``fn(m, F, *tensors)`` is called once with ``(autodiff, autodiff.nn.functional)`` and
once with ``(torch, torch.nn.functional)``. Both run in float64 and float32 on every CPU device
and must agree in values, dtypes, shapes, gradients of a random weighted sum of the outputs, and
in failing: torch raises -> we raise; torch succeeds -> we succeed.

The cases are reproducible: a case's draw depends only on (family, index).
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as AF
from torch_oracle import C, T  # a float constant input; a non-contiguous (transposed) view


class I:
    """An integer (or bool) constant input."""

    def __init__(self, a) -> None:
        self.a = np.asarray(a)


def _maybe_t(r, a):
    return T(a) if a.ndim >= 2 and r.random() < 0.3 else a


def _make(spec, lib, dev, dtype):
    """(input, leaf or None) of one spec for lib (ad or torch)."""
    if isinstance(spec, I):
        return (ad.tensor(spec.a, device=dev) if lib is ad else lib.tensor(spec.a)), None
    if not isinstance(spec, (np.ndarray, C, T)):
        return spec, None
    arr = spec if isinstance(spec, np.ndarray) else spec.a
    grad = not isinstance(spec, C)
    tr = isinstance(spec, T)
    base = np.ascontiguousarray(arr.swapaxes(-1, -2)) if tr else arr
    if lib is ad:
        leaf = ad.tensor(base, dtype=getattr(ad, dtype), device=dev, requires_grad=grad)
    else:
        leaf = lib.tensor(base, dtype=getattr(lib, dtype), requires_grad=grad)
    return (leaf.mT if tr else leaf), (leaf if grad else None)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "cpu") else x.detach().numpy()


def _call(lib, fn, args, dev, dtype):
    made = [_make(s, lib, dev, dtype) for s in args]
    mod = (ad, AF) if lib is ad else (lib, lib.nn.functional)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lib is ad:
            prev = ad.get_default_device()
            ad.set_default_device(dev)
            try:
                out = fn(*mod, *[m for m, _ in made])
            finally:
                ad.set_default_device(prev)
        else:
            out = fn(*mod, *[m for m, _ in made])
    return _flat(out), [lf for _, lf in made]


def _torch_lenient(outs_t, fn, args, dev, dtype, torch) -> bool:
    """Torch skips some checks on empty outputs and in float32 (its oneDNN path): there we may
    raise where its reference float64 path does."""
    if any(hasattr(t, "numel") and t.numel() == 0 for t in outs_t):
        return True
    if dtype == "float64":
        return False
    try:
        _call(torch, fn, args, dev, "float64")
    except Exception:  # noqa: BLE001 - its float64 path rejects the case
        return True
    return False


def run_case(fn, args, dev, dtype, torch, seed=0):
    """Compare fn on autodiff (device dev) and torch in dtype; raise AssertionError on a
    difference."""
    try:
        outs_t, leaves_t = _call(torch, fn, args, dev, dtype)
    except Exception as e:  # torch rejects: we must reject too
        try:
            _call(ad, fn, args, dev, dtype)
        except Exception:  # noqa: BLE001 - and so do we
            return f"both raise ({type(e).__name__})"
        raise AssertionError(f"torch raises {type(e).__name__}: {e}; we do not") from e
    try:
        outs_a, leaves_a = _call(ad, fn, args, dev, dtype)
    except Exception:
        if _torch_lenient(outs_t, fn, args, dev, dtype, torch):
            return "torch lenient"
        raise
    rtol, atol = (1e-9, 1e-10) if dtype == "float64" else (2e-5, 2e-5)
    assert len(outs_a) == len(outs_t), (len(outs_a), len(outs_t))
    for a, t in zip(outs_a, outs_t):
        if not hasattr(t, "dtype"):  # None, a number
            assert a == t, (a, t)
            continue
        assert str(a.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (a.dtype, t.dtype)
        assert tuple(a.shape) == tuple(t.shape), (tuple(a.shape), tuple(t.shape))
        np.testing.assert_allclose(_np(a), _np(t), rtol=rtol, atol=atol, equal_nan=True)
    diff = [
        (a, t)
        for a, t in zip(outs_a, outs_t)
        if hasattr(t, "requires_grad") and t.requires_grad and t.numel() > 0
    ]
    if not diff:
        return "ok"
    rng = np.random.default_rng(seed)
    loss_a = loss_t = 0
    for a, t in diff:
        w = rng.standard_normal(tuple(t.shape))
        loss_a = loss_a + (a * ad.tensor(w, dtype=a.dtype, device=dev)).sum()
        loss_t = loss_t + (t * torch.tensor(w, dtype=t.dtype)).sum()
    loss_t.backward()
    loss_a.backward()
    gtol = (getattr(fn, "grad_rtol", 1e-8), 1e-9) if dtype == "float64" else (1e-4, 1e-4)
    for la, lt in zip(leaves_a, leaves_t):
        if lt is None:
            continue
        if lt.grad is None or la.grad is None:  # None and zeros are both "no gradient"
            other = la.grad if lt.grad is None else lt.grad
            assert other is None or not _np(other).any(), "a gradient is None"
            continue
        assert tuple(la.grad.shape) == tuple(lt.grad.shape)
        np.testing.assert_allclose(
            _np(la.grad), _np(lt.grad), rtol=gtol[0], atol=gtol[1], equal_nan=True
        )
    return "ok"


# ------------------------------------------------------------------ generators


def _loose(fn):
    """fn whose float64 gradients torch computes in float32 precision."""
    fn.grad_rtol = 1e-6
    return fn


def _sp(r, nd, lo=1, hi=7):
    return [int(v) for v in r.integers(lo, hi, nd)]


def _one(r, nd, lo, hi):
    """An int or an nd-tuple drawn in [lo, hi)."""
    v = [int(x) for x in r.integers(lo, hi, nd)]
    return v[0] if r.random() < 0.5 else tuple(v)


def _batch(r):
    return int(r.choice([0, 1, 1, 2, 3]))


def gen_conv(r):
    nd = int(r.integers(1, 4))
    tr = r.random() < 0.4
    g = int(r.choice([1, 1, 2, 3]))
    cin, cout = g * int(r.integers(1, 3)), g * int(r.integers(1, 3))
    k = _one(r, nd, 1, 4)
    stride, dil = _one(r, nd, 1, 3), _one(r, nd, 1, 3)
    n = _batch(r)
    x = r.standard_normal(([n] if n or r.random() < 0.5 else []) + [cin] + _sp(r, nd, 1, 8))
    if n == 0 and x.ndim == nd + 1:
        x = r.standard_normal([cin] + _sp(r, nd, 1, 8))
    ks = [k] * nd if isinstance(k, int) else list(k)
    bias = r.standard_normal(cout) if r.random() < 0.6 else None
    if tr:
        w = r.standard_normal([cin, cout // g] + ks)
        pad = _one(r, nd, 0, 3)
        opad = _one(r, nd, 0, 2)
        name = f"conv_transpose{nd}d"
        kw = {
            "stride": stride,
            "padding": pad,
            "output_padding": opad,
            "groups": g,
            "dilation": dil,
        }
    else:
        w = r.standard_normal([cout, cin // g] + ks)
        pad = r.choice(["same", "valid", "int", "tuple"])
        pad = {"int": int(r.integers(0, 3)), "tuple": tuple(_sp(r, nd, 0, 3))}.get(pad, pad)
        if pad == "same":
            stride = 1
        name = f"conv{nd}d"
        kw = {"stride": stride, "padding": pad, "dilation": dil, "groups": g}
    args = [_maybe_t(r, x), w, bias]

    def fn(m, F, x, w, b):
        return getattr(F, name)(x, w, b, **kw)

    return f"{name}-{x.shape}-{w.shape}-{kw}-bias{bias is not None}", fn, args


def gen_conv_padmode(r):
    nd = int(r.integers(1, 4))
    mode = str(r.choice(["zeros", "reflect", "replicate", "circular"]))
    g = int(r.choice([1, 2]))
    cin, cout = g * int(r.integers(1, 3)), g * int(r.integers(1, 3))
    k, stride, dil = _one(r, nd, 1, 4), _one(r, nd, 1, 3), _one(r, nd, 1, 3)
    pad = r.choice(["same", "int", "tuple"])
    pad = {"int": int(r.integers(0, 3)), "tuple": tuple(_sp(r, nd, 0, 3))}.get(pad, pad)
    if pad == "same":
        stride = 1
    bias = bool(r.random() < 0.5)
    x = r.standard_normal([_batch(r) or 1, cin] + _sp(r, nd, 2, 8))
    ks = [k] * nd if isinstance(k, int) else list(k)
    w = r.standard_normal([cout, cin // g] + ks)
    b = r.standard_normal(cout)
    kw = {
        "stride": stride,
        "padding": pad,
        "dilation": dil,
        "groups": g,
        "bias": bias,
        "padding_mode": mode,
    }

    def fn(m, F, x, w, b):
        conv = getattr(m.nn, f"Conv{nd}d")(cin, cout, k, **kw).double()
        with m.no_grad():
            conv.weight.copy_(w.detach())
            if bias:
                conv.bias.copy_(b.detach())
        return conv.to(x.dtype)(x)

    return f"Conv{nd}d-{x.shape}-{w.shape}-{kw}", fn, [_maybe_t(r, x), C(w), C(b)]


def gen_maxpool(r):
    nd = int(r.integers(1, 4))
    k = _one(r, nd, 1, 4)
    ks = [k] * nd if isinstance(k, int) else list(k)
    stride = None if r.random() < 0.3 else _one(r, nd, 1, 4)
    pad = int(r.integers(0, min(ks) // 2 + 1)) if r.random() < 0.5 else 0
    dil = _one(r, nd, 1, 3)
    ceil, ri = bool(r.random() < 0.5), bool(r.random() < 0.4)
    n = _batch(r)
    x = r.standard_normal(
        ([n] if n or r.random() < 0.5 else []) + [int(r.integers(1, 4))] + _sp(r, nd, 1, 9)
    )
    if pad and min(x.shape[-nd:]) <= 2 * max(ks):  # no window wholly in the padding: torch
        dil = 1  # gives it an out-of-range index (and its backward can corrupt the heap)
    kw = {
        "stride": stride,
        "padding": pad,
        "dilation": dil,
        "ceil_mode": ceil,
        "return_indices": ri,
    }

    def fn(m, F, x):
        return getattr(F, f"max_pool{nd}d")(x, k, **kw)

    return f"max_pool{nd}d-{x.shape}-k{k}-{kw}", fn, [_maybe_t(r, x)]


def gen_avgpool(r):
    nd = int(r.integers(1, 4))
    k = _one(r, nd, 1, 4)
    ks = [k] * nd if isinstance(k, int) else list(k)
    stride = None if r.random() < 0.3 else _one(r, nd, 1, 4)
    pad = int(r.integers(0, min(ks) // 2 + 1)) if r.random() < 0.6 else 0
    kw = {
        "stride": stride,
        "padding": pad,
        "ceil_mode": bool(r.random() < 0.5),
        "count_include_pad": bool(r.random() < 0.5),
    }
    if nd > 1 and r.random() < 0.3:
        kw["divisor_override"] = int(r.integers(1, 5))
    n = _batch(r)
    x = r.standard_normal(
        ([n] if n or r.random() < 0.5 else []) + [int(r.integers(1, 4))] + _sp(r, nd, 1, 9)
    )

    def fn(m, F, x):
        return getattr(F, f"avg_pool{nd}d")(x, k, **kw)

    return f"avg_pool{nd}d-{x.shape}-k{k}-{kw}", fn, [_maybe_t(r, x)]


def gen_adaptive(r):
    nd = int(r.integers(1, 4))
    kind = str(r.choice(["avg", "max"]))
    n = _batch(r)
    x = r.standard_normal(
        ([n] if n or r.random() < 0.5 else []) + [int(r.integers(1, 4))] + _sp(r, nd, 1, 9)
    )
    out = [int(v) for v in r.integers(1, 11, nd)]
    if nd > 1 and r.random() < 0.3:
        out[int(r.integers(0, nd))] = None
    out = out[0] if nd == 1 or (r.random() < 0.3 and None not in out) else tuple(out)
    ri = kind == "max" and bool(r.random() < 0.5)
    extra = (ri,) if kind == "max" else ()

    def fn(m, F, x):
        return getattr(F, f"adaptive_{kind}_pool{nd}d")(x, out, *extra)

    return f"adaptive_{kind}_pool{nd}d-{x.shape}-{out}-{extra}", fn, [_maybe_t(r, x)]


def gen_lppool(r):
    nd = int(r.integers(1, 3))
    p = float(r.choice([1.0, 2.0, 3.0, 1.5]))
    k = _one(r, nd, 1, 4) if nd == 2 else int(r.integers(1, 4))  # torch's takes no 1-tuple
    stride = None if r.random() < 0.4 else _one(r, nd, 1, 3)
    ceil = bool(r.random() < 0.5)
    x = r.uniform(0.1, 2.0, [_batch(r) or 1, 2] + _sp(r, nd, 1, 8))

    def fn(m, F, x):
        return getattr(F, f"lp_pool{nd}d")(x, p, k, stride, ceil)

    return f"lp_pool{nd}d-{x.shape}-p{p}-k{k}-s{stride}-ceil{ceil}", fn, [_maybe_t(r, x)]


_MODES = {
    1: ["nearest", "nearest-exact", "linear", "area"],
    2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
    3: ["nearest", "nearest-exact", "trilinear", "area"],
}


def gen_interpolate(r):
    nd = int(r.integers(1, 4))
    mode = str(r.choice(_MODES[nd]))
    x = r.standard_normal([_batch(r) or 1, int(r.integers(1, 3))] + _sp(r, nd, 1, 7))
    kw = {"mode": mode}
    if r.random() < 0.5:
        s = [int(v) for v in r.integers(1, 10, nd)]
        kw["size"] = s[0] if r.random() < 0.3 else tuple(s)
    else:
        # torch's nearest backward disagrees with its forward for a fractional scale_factor
        scales = [1.0, 2.0, 3.0] if mode == "nearest" else [0.5, 0.7, 1.0, 1.5, 2.0, 2.3, 3.0]
        s = [float(r.choice(scales)) for _ in range(nd)]
        kw["scale_factor"] = s[0] if r.random() < 0.4 else tuple(s)
        if r.random() < 0.4:
            kw["recompute_scale_factor"] = bool(r.random() < 0.5)
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and r.random() < 0.6:
        kw["align_corners"] = bool(r.random() < 0.5)
    if mode in ("bilinear", "bicubic") and r.random() < 0.3:  # torch's antialias mixes rows
        kw["antialias"] = True  # up under align_corners=True or with an output dim of size 1
        kw["align_corners"] = False
        kw.pop("scale_factor", None), kw.pop("recompute_scale_factor", None)
        kw["size"] = tuple(int(v) for v in r.integers(2, 10, 2))

    def fn(m, F, x):
        return F.interpolate(x, **kw)

    return f"interpolate-{x.shape}-{kw}", fn, [_maybe_t(r, x)]


def gen_pad(r):
    mode = str(r.choice(["constant", "reflect", "replicate", "circular"]))
    nd = int(r.integers(1, 4))
    shape = [_batch(r) or 1, int(r.integers(1, 3))] + _sp(r, nd, 1, 7)
    if r.random() < 0.3:
        shape = shape[1:]
    x = r.standard_normal(shape)
    npad = nd if mode != "constant" else int(r.integers(1, len(shape) + 1))
    pads = [int(v) for v in r.integers(-2, 4, 2 * npad)]
    for i in range(npad if mode == "circular" else 0):  # torch returns uninitialised memory
        n = shape[-1 - i]  # when a crop empties a dim it then wraps: keep one element
        pads[2 * i] = max(pads[2 * i], 1 - n - min(pads[2 * i + 1], 0))
        pads[2 * i + 1] = max(pads[2 * i + 1], 1 - n - min(pads[2 * i], 0))
        kept = n + min(pads[2 * i], 0) + min(pads[2 * i + 1], 0)  # nor wraps past a crop
        pads[2 * i], pads[2 * i + 1] = min(pads[2 * i], kept), min(pads[2 * i + 1], kept)
    pads = tuple(pads)
    kw = {"mode": mode}
    if mode == "constant" and r.random() < 0.5:
        kw["value"] = 1.5

    def fn(m, F, x):
        return F.pad(x, pads, **kw)

    return f"pad-{x.shape}-{pads}-{kw}", fn, [_maybe_t(r, x)]


def gen_pixel(r):
    f = int(r.integers(1, 4))
    lead = [int(v) for v in r.integers(1, 3, int(r.integers(0, 3)))]
    if r.random() < 0.5:
        x = r.standard_normal(lead + [int(r.integers(1, 3)) * f * f] + _sp(r, 2, 1, 4))

        def fn(m, F, x):
            return F.pixel_shuffle(x, f)

        return f"pixel_shuffle-{x.shape}-{f}", fn, [_maybe_t(r, x)]
    x = r.standard_normal(lead + [int(r.integers(1, 3))] + [f * int(v) for v in _sp(r, 2, 1, 3)])

    def fn(m, F, x):
        return F.pixel_unshuffle(x, f)

    return f"pixel_unshuffle-{x.shape}-{f}", fn, [_maybe_t(r, x)]


def gen_fold(r):
    k, d, p, s = (_one(r, 2, 1, 4), _one(r, 2, 1, 3), _one(r, 2, 0, 2), _one(r, 2, 1, 3))
    kw = {"kernel_size": k, "dilation": d, "padding": p, "stride": s}
    c = int(r.integers(1, 3))
    batched = r.random() < 0.8
    if r.random() < 0.5:
        x = r.standard_normal(([_batch(r) or 1] if batched else []) + [c] + _sp(r, 2, 1, 8))

        def fn(m, F, x):
            return F.unfold(x, **kw)

        return f"unfold-{x.shape}-{kw}", fn, [_maybe_t(r, x)]
    out = tuple(_sp(r, 2, 1, 8))
    ks = [k] * 2 if isinstance(k, int) else list(k)

    def blocks(i):
        dd = [d] * 2 if isinstance(d, int) else d
        pp = [p] * 2 if isinstance(p, int) else p
        st = [s] * 2 if isinstance(s, int) else s
        return (out[i] + 2 * pp[i] - dd[i] * (ks[i] - 1) - 1) // st[i] + 1

    nl = max(blocks(0), 0) * max(blocks(1), 0)
    x = r.standard_normal(([_batch(r) or 1] if batched else []) + [c * ks[0] * ks[1], nl])

    def fn2(m, F, x):
        return F.fold(x, out, **kw)

    return f"fold-{x.shape}-{out}-{kw}", fn2, [_maybe_t(r, x)]


def gen_grid(r):
    nd = int(r.integers(2, 4))
    if r.random() < 0.3:
        n = int(r.integers(1, 3))
        theta = r.standard_normal((n, nd, nd + 1))
        size = (n, 2) + tuple(_sp(r, nd, 1, 5))
        ac = bool(r.random() < 0.5)

        def fn(m, F, t):
            return F.affine_grid(t, size, align_corners=ac)

        return f"affine_grid-{size}-ac{ac}", fn, [theta]
    modes = ["bilinear", "nearest"]  # bicubic: not implemented (ValueError)
    mode = str(r.choice(modes))
    pm = str(r.choice(["zeros", "border", "reflection"]))
    ac = bool(r.random() < 0.5)
    n = int(r.integers(1, 3))
    x = r.standard_normal([n, int(r.integers(1, 3))] + _sp(r, nd, 1, 6))
    g = r.uniform(-1.3, 1.3, [n] + _sp(r, nd, 1, 4) + [nd]) + 0.0123

    def fn2(m, F, x, g):
        return F.grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac)

    return f"grid_sample-{x.shape}-{g.shape}-{mode}-{pm}-ac{ac}", fn2, [_maybe_t(r, x), g]


def gen_norm(r):
    kind = str(r.choice(["batch", "instance", "group", "layer", "lrn", "rms", "normalize"]))
    c = int(r.integers(1, 5))
    nd = int(r.integers(0, 3))
    n = int(r.choice([1, 2, 3]))
    x = r.standard_normal([n, c] + _sp(r, nd, 1, 5))
    w, b = r.standard_normal(c) + 1.0, r.standard_normal(c)
    aff = bool(r.random() < 0.6)
    if kind in ("batch", "instance"):
        stats = r.random() < 0.6 if kind == "batch" else r.random() < 0.3
        training = bool(r.random() < 0.5) or not stats
        mom = None if r.random() < 0.3 else float(r.choice([0.1, 0.5]))
        rm, rv = r.standard_normal(c), r.uniform(0.5, 2.0, c)
        kw = {"momentum": mom, "eps": 1e-5}

        def fn(m, F, x, w, b, rm, rv):
            rm_, rv_ = (rm.detach().clone(), rv.detach().clone()) if stats else (None, None)
            wb = (w, b) if aff else (None, None)
            if kind == "batch":
                y = F.batch_norm(x, rm_, rv_, *wb, training, 0.1 if mom is None else mom)
            else:
                y = F.instance_norm(
                    x, rm_, rv_, *wb, use_input_stats=training, momentum=0.1 if mom is None else mom
                )
            return (y, rm_, rv_) if stats else y

        return (
            f"{kind}_norm-{x.shape}-aff{aff}-stats{stats}-train{training}-{kw}",
            fn,
            [_maybe_t(r, x), w, b, C(rm), C(rv)],
        )
    if kind == "group":
        g = int(r.choice([d for d in range(1, c + 1) if c % d == 0]))

        def fn(m, F, x, w, b):
            return F.group_norm(x, g, *((w, b) if aff else (None, None)), eps=1e-5)

        return f"group_norm-{x.shape}-g{g}-aff{aff}", fn, [_maybe_t(r, x), w, b]
    if kind in ("layer", "rms"):
        k = int(r.integers(1, x.ndim + 1))
        shape = x.shape[x.ndim - k :]
        w, b = r.standard_normal(shape) + 1.0, r.standard_normal(shape)
        eps = None if kind == "rms" and r.random() < 0.5 else 1e-5

        def fn(m, F, x, w, b):
            if kind == "layer":
                return F.layer_norm(x, shape, *((w, b) if aff else (None, None)), eps=eps)
            return F.rms_norm(x, shape, w if aff else None, eps=eps)

        return f"{kind}_norm-{x.shape}-{shape}-aff{aff}-eps{eps}", fn, [_maybe_t(r, x), w, b]
    if kind == "lrn":
        size = int(r.integers(1, 5))
        kw = {
            "alpha": float(r.choice([1e-4, 0.5])),
            "beta": float(r.choice([0.75, 1.0])),
            "k": float(r.choice([1.0, 2.0])),
        }

        def fn(m, F, x):
            return F.local_response_norm(x, size, **kw)

        return f"lrn-{x.shape}-{size}-{kw}", fn, [_maybe_t(r, x)]
    p, dim = float(r.choice([1.0, 2.0, 3.0])), int(r.integers(-x.ndim, x.ndim))
    if r.random() < 0.2:
        x[0] = 0.0

    def fn(m, F, x):
        return F.normalize(x, p=p, dim=dim)

    return f"normalize-{x.shape}-p{p}-dim{dim}", fn, [_maybe_t(r, x)]


def gen_embedding(r):
    v, d = int(r.integers(2, 8)), int(r.integers(1, 5))
    w = r.standard_normal((v, d))
    kind = str(r.choice(["embedding", "bag", "one_hot"]))
    if kind == "one_hot":
        idx = r.integers(0, v, r.integers(0, 4, int(r.integers(1, 3))))
        nc = int(r.choice([-1, v, v + 2]))

        def fn(m, F, i):
            return F.one_hot(i, nc)

        return f"one_hot-{idx.shape}-{nc}", fn, [I(idx)]
    pidx = int(r.integers(-v, v)) if r.random() < 0.4 else None
    if kind == "embedding":
        idx = r.integers(0, v, r.integers(1, 4, int(r.integers(1, 3))))
        kw = {"padding_idx": pidx, "scale_grad_by_freq": bool(r.random() < 0.4)}
        if r.random() < 0.3:
            kw["max_norm"], kw["norm_type"] = float(r.choice([0.5, 1.0])), float(r.choice([1, 2]))

        def fn(m, F, i, w):
            w2 = w * 1.0  # max_norm renormalises its weight in place: not a leaf
            out = F.embedding(i, w2, **kw)
            return (out, w2) if "max_norm" in kw else out

        return f"embedding-{idx.shape}-{kw}", fn, [I(idx), w]
    mode = str(r.choice(["sum", "mean", "max"]))
    psw = mode == "sum" and r.random() < 0.4
    if r.random() < 0.5:
        b, bl = int(r.integers(1, 4)), int(r.integers(1, 4))
        idx, offs = r.integers(0, v, (b, bl)), None
        n = idx.size
    else:
        n = int(r.integers(1, 8))
        idx = r.integers(0, v, n)
        offs = np.sort(r.integers(0, n + 1, int(r.integers(1, 4))))
        offs[0] = 0
    ilo = offs is not None and len(offs) > 1 and bool(r.random() < 0.4)  # else torch crashes
    if ilo:  # the documented contract; torch's kernels disagree on any other last offset
        offs[-1] = n
    psw_a = r.standard_normal(idx.shape) if psw else None
    kw = {"mode": mode, "include_last_offset": ilo, "padding_idx": pidx}

    def fn2(m, F, i, w, o, p):
        return F.embedding_bag(
            i, w, o, mode=mode, per_sample_weights=p, include_last_offset=ilo, padding_idx=pidx
        )

    return (
        f"embedding_bag-{idx.shape}-offs{offs}-{kw}-psw{psw}",
        fn2,
        [I(idx), w, None if offs is None else I(offs), psw_a],
    )


_RED = ["mean", "sum", "none"]


def gen_loss(r):
    name = str(
        r.choice(
            [
                "cross_entropy",
                "nll_loss",
                "bce",
                "bce_logits",
                "mse_loss",
                "l1_loss",
                "smooth_l1_loss",
                "huber_loss",
                "kl_div",
                "poisson_nll_loss",
                "gaussian_nll_loss",
                "margin_ranking_loss",
                "hinge_embedding_loss",
                "soft_margin_loss",
                "cosine_embedding_loss",
                "triplet_margin_loss",
                "multilabel_soft_margin_loss",
                "multi_margin_loss",
            ]
        )
    )
    red = str(r.choice(_RED))
    n, c = int(r.choice([0, 1, 2, 5])), int(r.integers(1, 5))
    if name in ("cross_entropy", "nll_loss"):
        sp = _sp(r, int(r.integers(0, 3)), 1, 4)
        x = r.standard_normal([n, c] + sp) if n or r.random() < 0.5 else r.standard_normal([c])
        tshape = [x.shape[0]] + sp if x.ndim > 1 else []
        probs = name == "cross_entropy" and r.random() < 0.3
        tgt = (
            r.dirichlet(np.ones(c), tuple(tshape)).swapaxes(-1, 1 if x.ndim > 1 else -1)
            if probs
            else r.integers(0, c, tshape)
        )
        kw = {"reduction": red}
        if r.random() < 0.4:
            kw["weight"] = C(r.uniform(0.1, 2.0, c))
        if not probs and r.random() < 0.4:
            kw["ignore_index"] = int(r.integers(0, c))
        if name == "cross_entropy" and r.random() < 0.4:
            kw["label_smoothing"] = float(r.choice([0.1, 0.5]))
        inp = x if name == "cross_entropy" else r.standard_normal(x.shape) - 2.0
        w = kw.pop("weight", None)

        def fn(m, F, x, t, w):
            return getattr(F, name)(x, t, weight=w, **kw)

        inp = _maybe_t(r, inp) if inp.ndim < 3 else inp  # torch's K-dim nll backward
        return (
            f"{name}-{x.shape}-probs{probs}-w{w is not None}-{kw}",
            fn,
            [inp, C(tgt) if probs else I(tgt), w],
        )  # needs a contiguous input
    shape = [n] + _sp(r, int(r.integers(0, 3)), 1, 4)
    x, y = r.standard_normal(shape), r.standard_normal(shape)
    kw = {"reduction": red}
    if name in ("bce", "bce_logits"):
        p = r.uniform(0.05, 0.95, shape) if name == "bce" else x
        w = C(r.uniform(0.1, 2, shape[-1:])) if r.random() < 0.4 else None
        pw = C(r.uniform(0.1, 2, shape[-1:])) if name == "bce_logits" and r.random() < 0.4 else None
        t = r.uniform(0, 1, shape)
        t[..., :1] = 1.0 if t.size else 0

        def fn(m, F, p, t, w, pw):
            if name == "bce":
                return F.binary_cross_entropy(p, t, weight=w, **kw)
            return F.binary_cross_entropy_with_logits(p, t, weight=w, pos_weight=pw, **kw)

        return (
            f"{name}-{shape}-{kw}-w{w is not None}-pw{pw is not None}",
            fn,
            [_maybe_t(r, p), C(t), w, pw],
        )
    if name == "smooth_l1_loss":
        kw["beta"] = float(r.choice([0.0, 0.5, 1.0, 2.0]))
        y = np.where(r.random(shape) < 0.2, x + kw["beta"], y)  # the kink
    if name == "huber_loss":
        kw["delta"] = float(r.choice([0.5, 1.0, 2.0]))
        y = np.where(r.random(shape) < 0.2, x - kw["delta"], y)
    if name in ("mse_loss", "l1_loss"):
        y = np.where(r.random(shape) < 0.2, x, y)
    if name == "kl_div":
        kw["log_target"] = bool(r.random() < 0.5)
        if red == "mean" and r.random() < 0.5:
            kw["reduction"] = "batchmean"
        y = np.log(r.uniform(0.05, 1, shape)) if kw["log_target"] else r.uniform(0, 1, shape)
        x = np.log(r.uniform(0.05, 1, shape))
    if name == "poisson_nll_loss":
        kw.update(log_input=bool(r.random() < 0.5), full=bool(r.random() < 0.5))
        x = x if kw["log_input"] else r.uniform(0.1, 3, shape)
        y = r.integers(0, 5, shape).astype(float)
    if name == "gaussian_nll_loss":
        kw.update(full=bool(r.random() < 0.5))
        var = r.uniform(0.1, 2, shape if r.random() < 0.6 else shape[:-1] + [1])

        def fn(m, F, x, y, v):
            return F.gaussian_nll_loss(x, y, v, **kw)

        return f"gaussian_nll-{shape}-{var.shape}-{kw}", fn, [x, y, var]
    if name in (
        "margin_ranking_loss",
        "hinge_embedding_loss",
        "soft_margin_loss",
        "cosine_embedding_loss",
    ):
        kw["margin"] = float(r.choice([0.0, 0.5]))
        if name == "soft_margin_loss":
            kw.pop("margin")
        if name == "cosine_embedding_loss":
            shape = [n, int(r.integers(1, 4))]
            x, y = r.standard_normal(shape), r.standard_normal(shape)
        sgn = np.where(
            r.random(shape[:1] if name == "cosine_embedding_loss" else shape) < 0.5, -1.0, 1.0
        )

        def fn(m, F, x, y, z):
            f = getattr(F, name)
            if name == "margin_ranking_loss":
                return f(x, y, z, **kw)
            if name == "cosine_embedding_loss":
                return f(x, y, z, **kw)
            return f(x, z, **kw)

        return f"{name}-{shape}-{kw}", fn, [x, y, C(sgn)]
    if name == "triplet_margin_loss":
        shape = [n, int(r.integers(1, 4))] if r.random() < 0.8 else [int(r.integers(1, 4))]
        kw.update(
            margin=float(r.choice([0.5, 1.0])),
            p=float(r.choice([1.0, 2.0])),
            swap=bool(r.random() < 0.5),
        )

        def fn(m, F, a, p_, n_):
            return F.triplet_margin_loss(a, p_, n_, **kw)

        return f"triplet-{shape}-{kw}", fn, [r.standard_normal(shape) for _ in range(3)]
    if name == "multilabel_soft_margin_loss":
        shape = [n, c]
        w = C(r.uniform(0.1, 2, c)) if r.random() < 0.4 else None

        def fn(m, F, x, t, w):
            return F.multilabel_soft_margin_loss(x, t, weight=w, **kw)

        return (
            f"mlsm-{shape}-{kw}",
            fn,
            [r.standard_normal(shape), C(r.integers(0, 2, shape).astype(float)), w],
        )
    if name == "multi_margin_loss":  # torch's reduced loss over no samples is uninitialised
        shape = [max(n, 1), c] if r.random() < 0.8 else [c]
        kw.update(p=int(r.choice([1, 2])), margin=float(r.choice([0.5, 1.0])))
        w = C(r.uniform(0.1, 2, c)) if r.random() < 0.4 else None
        t = r.integers(0, c, shape[:-1])

        def fn(m, F, x, t, w):
            return F.multi_margin_loss(x, t, weight=w, **kw)

        return (
            f"multi_margin-{shape}-{kw}-w{w is not None}",
            fn,
            [r.standard_normal(shape), I(t), w],
        )

    def fn2(m, F, x, y):
        return getattr(F, name)(x, y, **kw)

    return f"{name}-{shape}-{kw}", fn2, [_maybe_t(r, x), C(y)]


_ACTS = {
    "relu": {},
    "relu6": {},
    "elu": {"alpha": [1.0, 0.5]},
    "selu": {},
    "celu": {"alpha": [1.0, 2.0]},
    "gelu": {"approximate": ["none", "tanh"]},
    "silu": {},
    "mish": {},
    "hardswish": {},
    "hardsigmoid": {},
    "logsigmoid": {},
    "softsign": {},
    "hardtanh": {"min_val": [-1.0, -0.5], "max_val": [1.0, 2.0]},
    "tanhshrink": {},
    "leaky_relu": {"negative_slope": [0.01, 0.2]},
    "rrelu": {"training": [False]},
    "softplus": {"beta": [1.0, 2.0, 0.5], "threshold": [20.0, 1.0]},
    "threshold": {"threshold": [0.0, 0.5], "value": [0.0, -1.0]},
    "hardshrink": {"lambd": [0.5, 1.0]},
    "softshrink": {"lambd": [0.5, 1.0]},
    "glu": {"dim": [-1, 0]},
    "softmax": {"dim": [0, -1, 1]},
    "log_softmax": {"dim": [0, -1, 1]},
    "softmin": {"dim": [0, -1, 1]},
    "prelu": {},
}
_KINKS = [0.0, -3.0, 3.0, -1.0, 1.0, 0.5, -0.5, 2.0, 6.0, 20.0, 10.0]


def gen_activation(r):
    name = str(r.choice(sorted(_ACTS)))
    kw = {k: v[int(r.integers(0, len(v)))] for k, v in _ACTS[name].items()}
    shape = [int(r.choice([0, 1, 2, 3]))] + _sp(r, int(r.integers(1, 3)), 1, 5)
    if name == "glu":
        shape[kw["dim"]] = 2 * int(r.integers(1, 3))
    x = r.standard_normal(shape) * 2
    x = np.where(r.random(shape) < 0.3, r.choice(_KINKS, shape), x)  # the kinks
    if name == "threshold":
        x = np.where(r.random(shape) < 0.3, kw["threshold"], x)
    if name in ("hardshrink", "softshrink"):
        x = np.where(r.random(shape) < 0.3, kw["lambd"] * r.choice([-1, 1], shape), x)
    if name in ("softmax", "log_softmax", "softmin") and r.random() < 0.4:
        kw["dtype"] = "float64"
    wt = r.uniform(0.1, 0.5, int(r.choice([1, shape[1]])))
    if name == "hardsigmoid":  # torch's float64 backward multiplies by float32(1/6)
        return f"{name}-{shape}-{kw}", _loose(lambda m, F, x, w: F.hardsigmoid(x)), [x, wt]

    def fn(m, F, x, w):
        k = dict(kw, dtype=getattr(m, kw["dtype"])) if "dtype" in kw else kw
        if name == "prelu":
            return F.prelu(x, w)
        return getattr(F, name)(x, **k)

    return f"{name}-{shape}-{kw}", fn, [_maybe_t(r, x), wt]


def gen_attention(r):
    n, h, lq, lk, e, ev = (
        int(r.choice([1, 2])),
        int(r.choice([1, 2, 4])),
        *(int(v) for v in r.integers(1, 5, 4)),
    )
    if r.random() < 0.6:
        hk = h if r.random() < 0.6 else 1
        gqa = hk != h
        q = r.standard_normal((n, h, lq, e))
        k, v = r.standard_normal((n, hk, lk, e)), r.standard_normal((n, hk, lk, ev))
        kw = {"is_causal": bool(r.random() < 0.3), "enable_gqa": gqa}
        if r.random() < 0.4:
            kw["scale"] = float(r.choice([0.3, 1.0]))
        mask = None
        if not kw["is_causal"] and r.random() < 0.5:
            mshape = [(1, 1, lq, lk), (lq, lk), (n, h, lq, lk)][int(r.integers(0, 3))]
            mask = r.random(mshape) < 0.7 if r.random() < 0.5 else r.standard_normal(mshape)
            if mask.dtype == bool:
                mask[..., 0] = True
        margs = [] if mask is None else [I(mask) if mask.dtype == bool else C(mask)]

        def fn(m, F, q, k, v, *mk):
            return F.scaled_dot_product_attention(q, k, v, *mk, dropout_p=0.0, **kw)

        return (
            (f"sdpa-{q.shape}-{k.shape}-{v.shape}-mask{None if mask is None else mask.dtype}-{kw}"),
            fn,
            [q, k, v] + margs,
        )
    emb = h * int(r.integers(1, 3))
    kdim, vdim = (int(r.integers(1, 5)) if r.random() < 0.3 else emb for _ in range(2))
    bf = bool(r.random() < 0.5)
    opts = {
        "bias": bool(r.random() < 0.7),
        "add_bias_kv": bool(r.random() < 0.3),
        "add_zero_attn": bool(r.random() < 0.3),
        "kdim": kdim,
        "vdim": vdim,
        "batch_first": bf,
    }
    call = {"need_weights": bool(r.random() < 0.6), "average_attn_weights": bool(r.random() < 0.5)}
    q = r.standard_normal((n, lq, emb) if bf else (lq, n, emb))
    k = r.standard_normal((n, lk, kdim) if bf else (lk, n, kdim))
    v = r.standard_normal((n, lk, vdim) if bf else (lk, n, vdim))
    kpm = r.random((n, lk)) < 0.3 if r.random() < 0.4 else None
    if kpm is not None:
        kpm[:, 0] = False
    seed = int(r.integers(0, 1 << 30))

    def fn(m, F, q, k, v, *kp):
        torch = __import__("torch")
        torch.manual_seed(seed)
        ref = torch.nn.MultiheadAttention(emb, h, **opts).double()
        mha = m.nn.MultiheadAttention(emb, h, **opts)
        if m is not torch:
            mha.load_state_dict(
                {k_: ad.tensor(t.detach().numpy()) for k_, t in ref.state_dict().items()}
            )
            mha = mha.to(q.dtype)
        else:
            mha = ref.to(q.dtype)
        return mha(q, k, v, key_padding_mask=kp[0] if kp else None, **call)

    return (
        f"mha-{q.shape}-{k.shape}-{v.shape}-{opts}-{call}-kpm{kpm is not None}",
        fn,
        [q, k, v] + ([] if kpm is None else [I(kpm)]),
    )


GENERATORS = {name[4:]: fn for name, fn in list(globals().items()) if name.startswith("gen_")}


# cases per (family, device, dtype): the whole file stays well under a minute on 2 cores
COUNTS = {
    "conv": 48,
    "conv_padmode": 24,
    "maxpool": 40,
    "avgpool": 40,
    "adaptive": 30,
    "lppool": 20,
    "interpolate": 48,
    "pad": 40,
    "pixel": 12,
    "fold": 24,
    "grid": 24,
    "norm": 60,
    "embedding": 40,
    "loss": 80,
    "activation": 80,
    "attention": 30,
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("family", sorted(COUNTS))
def test_functional_fuzz(family, dtype, cpu_device, torch):
    """COUNTS[family] seeded random cases of the family agree with torch.nn.functional."""
    for i in range(COUNTS[family]):
        r = np.random.default_rng([zlib.crc32(family.encode()), i])
        cid, fn, args = GENERATORS[family](r)
        try:
            run_case(fn, args, cpu_device, dtype, torch, seed=i)
        except BaseException as e:
            raise AssertionError(f"{family}[{i}] {cid}: {type(e).__name__}: {e}") from e


def test_generators_cover_every_family():
    assert set(COUNTS) == set(GENERATORS)


# ------------------------------------------------------------------ regressions of what the
# fuzz found, each a fixed case checked against torch (float64, both CPU devices)


def _check(fn, args, dev, torch):
    assert run_case(fn, args, dev, "float64", torch) == "ok"


def _rejects(fn, args, dev, torch):
    assert run_case(fn, args, dev, "float64", torch).startswith("both raise")


R = np.random.default_rng(7)


@pytest.mark.parametrize(
    "kw",
    [
        {"stride": 1, "padding": 1, "output_padding": 1, "dilation": 2},
        {"stride": (2, 1), "padding": (1, 0), "output_padding": 1, "dilation": (2, 2)},
        {"stride": 2, "padding": 0, "output_padding": (1, 1), "dilation": 3},
    ],
)
def test_conv_transpose2d_output_padding_below_dilation(kw, cpu_device, torch):
    """output_padding >= stride (allowed while < dilation) used to fail with a reshape error."""
    _check(
        lambda m, F, x, w, b: F.conv_transpose2d(x, w, b, **kw),
        [R.standard_normal((2, 2, 5, 6)), R.standard_normal((2, 3, 3, 2)), R.standard_normal(3)],
        cpu_device,
        torch,
    )


def test_conv_transpose1d_3d_output_padding_below_dilation(cpu_device, torch):
    _check(
        lambda m, F, x, w: F.conv_transpose1d(
            x, w, stride=1, padding=1, output_padding=1, dilation=2
        ),
        [R.standard_normal((2, 1, 7)), R.standard_normal((1, 2, 3))],
        cpu_device,
        torch,
    )
    _check(
        lambda m, F, x, w: F.conv_transpose3d(
            x, w, stride=(1, 2, 1), padding=(2, 2, 1), output_padding=1, groups=2, dilation=2
        ),
        [R.standard_normal((1, 2, 4, 4, 5)), R.standard_normal((2, 2, 3, 3, 3))],
        cpu_device,
        torch,
    )


def test_conv_transpose_rejects_a_non_positive_output_size(cpu_device, torch):
    _rejects(
        lambda m, F, x, w: F.conv_transpose2d(x, w, stride=(1, 2), padding=(1, 0), groups=2),
        [R.standard_normal((3, 2, 1, 1)), R.standard_normal((2, 2, 2, 2))],
        cpu_device,
        torch,
    )
    _rejects(
        lambda m, F, x, w: F.conv_transpose1d(x, w, stride=2, padding=2, dilation=2),
        [R.standard_normal((1, 4, 2)), R.standard_normal((4, 2, 1))],
        cpu_device,
        torch,
    )


def test_avg_pool3d_rejects_an_input_smaller_than_the_kernel(cpu_device, torch):
    _rejects(
        lambda m, F, x: F.avg_pool3d(x, 3, 2, 1),
        [R.standard_normal((1, 1, 4, 1, 1))],
        cpu_device,
        torch,
    )


def test_interpolate_rejects_an_empty_output(cpu_device, torch):
    _rejects(
        lambda m, F, x: F.interpolate(x, scale_factor=(1.5, 0.5), mode="bilinear"),
        [R.standard_normal((1, 2, 4, 1))],
        cpu_device,
        torch,
    )
    _rejects(
        lambda m, F, x: F.interpolate(x, size=(0, 2)),
        [R.standard_normal((1, 2, 4, 1))],
        cpu_device,
        torch,
    )


@pytest.mark.parametrize(
    "pads, mode",
    [
        ((-1, -2, 2, 0), "reflect"),
        ((0, 0, -2, -3), "constant"),
        ((-1, -2), "replicate"),
        ((-1, -2), "reflect"),
        ((2, -2, 1, 2, -2, 1), "constant"),
    ],
)
def test_pad_rejects_a_negative_or_empty_size_as_torch(pads, mode, cpu_device, torch):
    x = R.standard_normal({6: (2, 1, 4, 4), 4: (1, 2, 4, 1), 2: (1, 2, 3)}[len(pads)])
    _rejects(lambda m, F, x: F.pad(x, pads, mode=mode), [x], cpu_device, torch)


def test_pad_keeps_what_torch_allows(cpu_device, torch):
    x = R.standard_normal((1, 1, 6, 5, 1))
    _check(
        lambda m, F, x: F.pad(x, (-2, 3, 2, -2, -2, 1), mode="replicate"), [x], cpu_device, torch
    )
    _check(
        lambda m, F, x: F.pad(x, (-1, -2), mode="constant"),
        [R.standard_normal((2, 3))],
        cpu_device,
        torch,
    )


def test_fold_rejects_zero_blocks(cpu_device, torch):
    _rejects(
        lambda m, F, x: F.fold(x, (6, 1), 2, stride=2),
        [R.standard_normal((3, 4, 0))],
        cpu_device,
        torch,
    )


@pytest.mark.parametrize("shape", [(1, 4), (1, 3, 1), (1, 1)])
def test_group_norm_rejects_one_value_per_group(shape, cpu_device, torch):
    _rejects(
        lambda m, F, x: F.group_norm(x, shape[1]), [R.standard_normal(shape)], cpu_device, torch
    )


def test_instance_norm_running_stats_without_spatial_dims(cpu_device, torch):
    """Eval-mode instance_norm takes a 2-D input; training needs more than 1 spatial value."""
    rm, rv = C(R.standard_normal(3)), C(R.uniform(0.5, 2, 3))
    _check(
        lambda m, F, x, rm, rv: F.instance_norm(x, rm, rv, use_input_stats=False),
        [R.standard_normal((2, 3)), rm, rv],
        cpu_device,
        torch,
    )
    _rejects(lambda m, F, x: F.instance_norm(x), [R.standard_normal((2, 3, 1))], cpu_device, torch)


def test_one_hot_of_an_empty_tensor_needs_num_classes(cpu_device, torch):
    _rejects(lambda m, F, i: F.one_hot(i), [I(np.zeros((2, 0), dtype=np.int64))], cpu_device, torch)
    _check(
        lambda m, F, i: F.one_hot(i, 3), [I(np.zeros((2, 0), dtype=np.int64))], cpu_device, torch
    )
