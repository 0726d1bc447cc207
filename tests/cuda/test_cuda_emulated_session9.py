"""Features added in session 9, run end to end on an emulated ``cuda`` device and compared with
the ``numpy`` device.

The emulated device is the CuPy backend of tests/cuda/fake_cupy.py registered as ``cuda:0``,
with one change that makes it strict the way CuPy is: its arrays are ``DevArray``, a NumPy
subclass that refuses to meet a host ``numpy.ndarray`` in a ufunc or a NumPy function
(CuPy raises ``TypeError`` there), and whose ``__array__`` conversion to a host array is
allowed only through ``cupy.asnumpy`` / ``.get()``. Code that calls ``np.asarray`` on device
data, mixes host constants into device arithmetic, or leaves a host array inside a cuda tensor
fails here as it would on a GPU.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types

import fake_cupy
import numpy as np
import pytest

try:  # cupyx.scipy.special's stand-in; without SciPy the tests that reach it skip
    import scipy.special as scipy_special
except ImportError:
    scipy_special = None

import autodiff as ad
from autodiff import backends

_device = importlib.import_module("autodiff.device")

_ALLOW_HOST = [0]  # > 0 while cupy.asnumpy / .get() run


@contextlib.contextmanager
def _host_ok():
    _ALLOW_HOST[0] += 1
    try:
        yield
    finally:
        _ALLOW_HOST[0] -= 1


def _plain(a):
    return a.view(np.ndarray) if isinstance(a, DevArray) else a


def _wrap(r):
    if isinstance(r, DevArray):
        return r
    if isinstance(r, np.ndarray):
        return r.view(DevArray)
    if isinstance(r, np.generic):  # CuPy returns 0-d arrays, not host scalars
        return np.asarray(r).view(DevArray)
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


def _unwrap(args, where):
    """Device args as plain views; a host ndarray among them is CuPy's TypeError."""
    def one(a):
        if isinstance(a, DevArray):
            return a.view(np.ndarray)
        if isinstance(a, np.ndarray):
            raise TypeError(f"emulated cupy: {where} got a host numpy.ndarray "
                            f"(shape {a.shape}) beside device arrays")
        if isinstance(a, (list, tuple)):
            return type(a)(one(v) for v in a)
        if isinstance(a, dict):  # keyword arguments: out= among them
            return {k: one(v) for k, v in a.items()}
        return a
    return one(args)


class DevArray(np.ndarray):
    """A device array of the emulated CuPy (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        ins = _unwrap(inputs, f"ufunc {ufunc.__name__}")
        if "out" in kwargs:
            kwargs["out"] = _unwrap(kwargs["out"], f"ufunc {ufunc.__name__} out=")
        return _wrap(getattr(ufunc, method)(*ins, **kwargs))

    def __array_function__(self, func, types_, args, kwargs):
        name = func.__name__
        if name in ("asarray", "array", "ascontiguousarray", "asanyarray"):
            raise TypeError(f"emulated cupy: numpy.{name} on a device array")
        a, k = _unwrap(args, f"numpy.{name}"), _unwrap(kwargs, f"numpy.{name}")
        return _wrap(func(*a, **k))

    def __array__(self, dtype=None, copy=None):
        if not _ALLOW_HOST[0]:
            raise TypeError("emulated cupy: implicit conversion of a device array to a NumPy "
                            "array (use backend.to_numpy / cupy.asnumpy)")
        v = self.view(np.ndarray)
        return v if dtype is None else v.astype(dtype)

    def __reduce__(self):
        raise TypeError("emulated cupy: pickling a device array")

    @property
    def device(self):
        return fake_cupy._Device(0)

    def get(self):
        return np.array(self.view(np.ndarray))

    def __float__(self):
        return float(self.view(np.ndarray))

    def __int__(self):
        return int(self.view(np.ndarray))

    def __bool__(self):
        return bool(self.view(np.ndarray))

    def __index__(self):
        raise TypeError("emulated cupy: a device array is not an index")

    def tolist(self):
        return self.view(np.ndarray).tolist()

    def item(self, *a):
        return self.view(np.ndarray).item(*a)


def _fn(name):
    if name == "lib":  # cupy.lib.stride_tricks.as_strided
        as_strided = np.lib.stride_tricks.as_strided
        return types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
            as_strided=lambda a, *s, **k: _wrap(as_strided(_plain(a), *s, **k))))
    f = getattr(np, name)
    if not callable(f) or isinstance(f, type) and not issubclass(f, np.generic):
        return f
    if isinstance(f, type):  # np.float32(x) etc.
        return f

    def run(*args, **kwargs):
        return _wrap(f(*_unwrap(args, f"cupy.{name}"), **_unwrap(kwargs, f"cupy.{name}")))
    return run


def _to_dev(a, dtype=None, copy=False):
    if isinstance(a, DevArray):
        return a.astype(dtype) if dtype is not None else (a.copy() if copy else a)
    return np.array(a, dtype=dtype).view(DevArray)


def _scipy(name):
    if scipy_special is not None:
        return getattr(scipy_special, name)
    return lambda *a, **k: pytest.skip(f"the emulated cupyx.scipy.special.{name} needs SciPy")


def _make_modules():
    cupy, cupyx = fake_cupy._make_modules()
    base_kernel_getter = fake_cupy.RawModule.get_function

    class RawModule(fake_cupy.RawModule):
        def get_function(self, expr):
            k = base_kernel_getter(self, expr)

            def launch(grid, block, args, shared_mem=0):
                return k(grid, block, tuple(_plain(a) for a in args), shared_mem)
            return _Launch(launch)

    red, elt = cupy.ReductionKernel, cupy.ElementwiseKernel
    cupy.__getattr__ = _fn
    cupy.ndarray = DevArray
    cupy.RawModule = RawModule
    cupy.ReductionKernel = lambda *s: _dev_fn(red(*s))
    cupy.ElementwiseKernel = lambda *s: _dev_fn(elt(*s))
    cupy.asarray = _to_dev
    cupy.array = lambda a, dtype=None, copy=True, order="K": _to_dev(a, dtype, copy=True)
    cupy.asnumpy = _asnumpy
    cupy.ascontiguousarray = lambda a, dtype=None: _wrap(np.require(_plain(a), dtype, "C"))
    cupy.argsort = lambda a, axis=-1: _wrap(np.argsort(_plain(a), axis=axis, kind="stable"))
    cupy.from_dlpack = lambda o: _wrap(np.from_dlpack(o))
    cupyx.scipy = types.SimpleNamespace(special=types.SimpleNamespace(
        **{n: _dev_fn(_scipy(n)) for n in ("erf", "erfc", "erfcx", "ndtri", "log_ndtr",
                                                           "erfinv", "i0e", "i1e", "zeta")}))
    sys.modules["cupyx.scipy"], sys.modules["cupyx.scipy.special"] = (
        cupyx.scipy, cupyx.scipy.special)
    cupyx.scatter_add = lambda a, idx, v: np.add.at(_plain(a), _unwrap(idx, "scatter_add"),
                                                    _plain(v))
    return cupy, cupyx


class _Launch:
    def __init__(self, fn):
        self.fn = fn
        self.max_dynamic_shared_size_bytes = 0

    def __call__(self, *a, **k):
        return self.fn(*a, **k)


def _dev_fn(f):
    return lambda *a, **k: _wrap(f(*(_plain(v) for v in a), **k))


def _asnumpy(a, *args, **kwargs):
    with _host_ok():
        return np.array(a.view(np.ndarray)) if isinstance(a, DevArray) else np.asarray(a)


def _load():
    cupy, cupyx = _make_modules()
    saved = {k: sys.modules.get(k) for k in ("cupy", "cupyx")}
    orig = fake_cupy._make_modules
    fake_cupy._make_modules = lambda: (cupy, cupyx)
    try:
        mod, _ = fake_cupy.load_emulated_backend()
    finally:
        fake_cupy._make_modules = orig
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v

    class EmulatedBackend(mod.CupyBackend):
        def to_numpy(self, a):
            return _asnumpy(a)

    return cupy, cupyx, EmulatedBackend(0)


CUPY, CUPYX, BACKEND = _load()


@pytest.fixture
def cuda(monkeypatch):
    """Registers the strict emulated backend as device ``cuda:0`` for one test."""
    monkeypatch.setitem(sys.modules, "cupy", CUPY)
    monkeypatch.setitem(sys.modules, "cupyx", CUPYX)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", CUPYX.scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.special", CUPYX.scipy.special)
    monkeypatch.setitem(backends._instances, ("cuda", 0), BACKEND)
    monkeypatch.setattr(backends, "cuda_unavailable_reason", lambda: None)
    monkeypatch.setattr(backends, "cuda_device_count", lambda: 1)
    dev = _device.Device("cuda", 0)
    for key in (("cuda", 0), "cuda", "cuda:0"):
        monkeypatch.setitem(_device._cache, key, dev)
    return dev


def on_dev(t, dev="cuda"):
    """The tensor ``t`` (numpy device) copied to ``dev``."""
    return t.to(dev)


def check_dev(t):
    """A cuda result holds a device array (no host array left inside a cuda tensor)."""
    if isinstance(t, (list, tuple)):
        for v in t:
            check_dev(v)
        return
    if isinstance(t, ad.Tensor):
        assert str(t.device).startswith("cuda"), t.device
        assert isinstance(t._data, DevArray), f"host array {type(t._data).__name__} in a cuda tensor"


def host(t):
    if isinstance(t, (list, tuple)):
        return [host(v) for v in t]
    return t.detach().cpu().numpy() if isinstance(t, ad.Tensor) else np.asarray(t)


def same(fn, *arrays, rtol=1e-6, atol=1e-8, **kw):
    """fn on numpy tensors and on cuda tensors give the same result (and cuda stays cuda)."""
    want = fn(*[ad.tensor(a) for a in arrays], **kw)
    got = fn(*[ad.tensor(a, device="cuda") for a in arrays], **kw)
    check_dev(got)
    for g, w in zip(_flat(host(got)), _flat(host(want))):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
    return got


def _flat(v):
    return v if isinstance(v, list) else [v]


def test_emulation_is_strict(cuda):
    x = ad.tensor([1.0, 2.0], device="cuda")
    assert isinstance(x._data, DevArray)
    assert type(np.asarray(x._data)) is np.ndarray  # not caught here; check_dev catches it
    with pytest.raises(TypeError):
        x._data + np.ones(2)
    np.testing.assert_array_equal((x * 2 + 1).cpu().numpy(), [3.0, 5.0])


R = np.random.default_rng(0)
X = R.standard_normal((3, 4))
Y = R.standard_normal((3, 4)) + 3.0
P = R.uniform(0.1, 3.0, (3, 4))
U = R.uniform(-0.9, 0.9, (3, 4))
_A4 = R.standard_normal((4, 4))
SPD = _A4 @ _A4.T + 4 * np.eye(4)
sp = ad.special
EW_CASES = [
    ("remainder", lambda a, b: ad.remainder(a, b), X, Y),
    ("fmod", lambda a, b: ad.fmod(a, b), X, Y),
    ("div_floor", lambda a, b: ad.div(a, b, rounding_mode="floor"), X, Y),
    ("div_trunc", lambda a, b: ad.div(a, b, rounding_mode="trunc"), X, Y),
    ("clamp_tensor", lambda a, b: ad.clamp(a, min=-b / 10, max=b / 5), X, Y),
    ("round_decimals", lambda a: ad.round(a * 100, decimals=1), X),
    ("i0e", sp.i0e, X), ("i1e", sp.i1e, X), ("i0", sp.i0, X), ("i1", sp.i1, X),
    ("zeta", lambda a, b: sp.zeta(a + 1.5, b), P, P),
    ("bessel_j0", sp.bessel_j0, X), ("bessel_j1", sp.bessel_j1, X),
    ("bessel_y0", sp.bessel_y0, P), ("bessel_y1", sp.bessel_y1, P),
    ("mbessel_i0", sp.modified_bessel_i0, X), ("mbessel_i1", sp.modified_bessel_i1, X),
    ("mbessel_k0", sp.modified_bessel_k0, P), ("mbessel_k1", sp.modified_bessel_k1, P),
    ("smbessel_k0", sp.scaled_modified_bessel_k0, P),
    ("smbessel_k1", sp.scaled_modified_bessel_k1, P),
    ("cheb_t", lambda a: sp.chebyshev_polynomial_t(a, 3), U),
    ("cheb_u", lambda a: sp.chebyshev_polynomial_u(a, 4), U),
    ("hermite_h", lambda a: sp.hermite_polynomial_h(a, 3), X),
    ("laguerre", lambda a: sp.laguerre_polynomial_l(a, 3), X),
    ("legendre", lambda a: sp.legendre_polynomial_p(a, 3), U),
    ("special_round", lambda a: sp.round(a * 100, decimals=1), X),
    ("erfcx", sp.erfcx, X), ("ndtri", lambda a: sp.ndtri((a + 1) / 2), U),
    ("log_ndtr", sp.log_ndtr, X), ("entr", sp.entr, P), ("xlog1py", sp.xlog1py, P, P),
    ("digamma", sp.digamma, P), ("polygamma", lambda a: sp.polygamma(1, a), P),
    ("multigammaln", lambda a: sp.multigammaln(a + 2, 2), P), ("erfinv", sp.erfinv, U),
    ("inv_ex", lambda a: ad.linalg.inv_ex(a)[0], SPD),
    ("solve_ex", lambda a, b: ad.linalg.solve_ex(a, b)[0], SPD, X.T),
    ("cholesky_ex", lambda a: ad.linalg.cholesky_ex(a)[0], SPD),
    ("cond", lambda a: ad.linalg.cond(a), SPD),
    ("tensorinv", lambda a: ad.linalg.tensorinv(a.reshape(4, 2, 2), ind=1), SPD),
    ("tensorsolve", lambda a, b: ad.linalg.tensorsolve(a, b), SPD, X[0]),
    ("ldl", lambda a: ad.linalg.ldl_factor(a)[0], SPD),
    ("ldl_solve", lambda a, b: ad.linalg.ldl_solve(*ad.linalg.ldl_factor(a), b), SPD, X.T),
]


@pytest.mark.parametrize("case", EW_CASES, ids=[c[0] for c in EW_CASES])
def test_functions_match_numpy(cuda, case):
    same(case[1], *case[2:], rtol=1e-6, atol=1e-9)


GRAD_CASES = [c for c in EW_CASES if c[0] in (
    "remainder", "fmod", "clamp_tensor", "i0e", "i1e", "i0", "i1",
    "erfcx", "log_ndtr", "digamma", "erfinv", "xlog1py", "inv_ex", "solve_ex", "cond")]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_numpy(cuda, case):
    def grad(*ts):
        ts = [t.requires_grad_() for t in ts]
        case[1](*ts).sum().backward()
        return [t.grad if t.grad is not None else ad.zeros_like(t) for t in ts]
    same(grad, *case[2:], rtol=1e-6, atol=1e-9)


F = ad.nn.functional
IMG = R.standard_normal((2, 3, 5, 6))
GRID = R.uniform(-1.1, 1.1, (2, 4, 3, 2))
MODULE_CASES = [
    ("grid_bicubic", lambda x, g: F.grid_sample(x, g, mode="bicubic", align_corners=False),
     IMG, GRID),
    ("grid_bilinear", lambda x, g: F.grid_sample(x, g, mode="bilinear"), IMG, GRID),
    ("interp_bicubic", lambda x: F.interpolate(x, size=(7, 9), mode="bicubic"), IMG),
    ("interp_area", lambda x: F.interpolate(x, size=(2, 3), mode="area"), IMG),
    ("interp_scale", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear",
                                             align_corners=True), IMG),
    ("channels_last", lambda x: x.to(memory_format=ad.channels_last) * 1, IMG),
    ("channels_last_contig", lambda x: x.contiguous(memory_format=ad.channels_last), IMG),
    ("bce_logits", lambda a, b: ad.torch_nn_extra.binary_cross_entropy_with_logits(
        a, (b > 3).float(), None, None, 1), X, Y),
    ("native_norm", lambda a: ad.torch_nn_extra.native_norm(a, 2, 1), X),
    ("native_layer_norm", lambda a: ad.torch_nn_extra.native_layer_norm(a, (4,), None, None,
                                                                        1e-5)[0], X),
    ("histogramdd", lambda a: ad.histogramdd(a[:, :2], bins=3)[0], X),
    ("assert_close", lambda a: (ad.testing.assert_close(a, a * 1), a)[1], X),
]


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_nn_functions_match_numpy(cuda, case):
    same(case[1], *case[2:], rtol=1e-6, atol=1e-9)


def test_creation_memory_format(cuda):
    t = ad.empty((2, 3, 4, 5), device="cuda", memory_format=ad.channels_last)
    check_dev(t)
    z = ad.zeros_like(on_dev(ad.tensor(IMG)), memory_format=ad.channels_last)
    check_dev(z)
    assert z.is_contiguous(memory_format=ad.channels_last)
    e = ad.empty_strided((2, 3), (1, 2), device="cuda")
    check_dev(e)


def test_assert_close_mixed_and_failing(cuda):
    a = ad.tensor(X, device="cuda")
    with pytest.raises(AssertionError):
        ad.testing.assert_close(a, a + 1)
    t = ad.testing.make_tensor(3, 4, dtype=ad.float32, device="cuda")
    check_dev(t)


_FUSED = pytest.mark.xfail(strict=True, reason="the strict emulation has no autodiff_adam "
                           "ElementwiseKernel (tests/cuda/test_cuda_optim.py covers it)")
OPTIMS = [("SGD", {"momentum": 0.9}), pytest.param("Adam", {}, marks=_FUSED),
          pytest.param("AdamW", {"amsgrad": True}, marks=_FUSED),
          ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("RMSprop", {"centered": True}),
          ("Rprop", {}), ("Adagrad", {}), ("Adadelta", {}), ("ASGD", {}), ("Adafactor", {}),
          ("Muon", {})]


def _train(device, name, kwargs, state=None):
    w = ad.tensor(X, device=device, requires_grad=True)
    opt = getattr(ad.optim, name)([w], lr=1e-2, **kwargs)
    if state is not None:
        opt.load_state_dict(state)
    for k in range(3):
        w.grad = ad.tensor(X * (k + 1) - 0.5, device=device)
        opt.step()
    return w, opt


@pytest.mark.parametrize("name,kwargs", OPTIMS, ids=[o.values[0] if hasattr(o, "values") else o[0] for o in OPTIMS])
def test_optimizers_match_numpy(cuda, name, kwargs):
    w_ref, opt_ref = _train("numpy", name, kwargs)
    w, _ = _train("cuda", name, kwargs)
    check_dev(w)
    np.testing.assert_allclose(host(w), host(w_ref), rtol=1e-6, atol=1e-9)
    w2, _ = _train("cuda", name, kwargs, state=opt_ref.state_dict())  # numpy state -> cuda
    w2_ref, _ = _train("numpy", name, kwargs, state=opt_ref.state_dict())
    check_dev(w2)
    np.testing.assert_allclose(host(w2), host(w2_ref), rtol=1e-6, atol=1e-9)


def test_save_load_map_location(cuda, tmp_path):
    t = ad.tensor(X, device="cuda")
    ad.save({"w": t}, tmp_path / "a.pt")
    for loc in ("cuda", "numpy", None):
        got = ad.load(tmp_path / "a.pt", map_location=loc)["w"]
        np.testing.assert_array_equal(host(got), X)
    check_dev(ad.load(tmp_path / "a.pt", map_location="cuda")["w"])
    ad.safetensors.save_file({"w": t}, tmp_path / "a.safetensors")
    got = ad.safetensors.load_file(tmp_path / "a.safetensors", device="cuda")["w"]
    check_dev(got)
    np.testing.assert_array_equal(host(got), X)
    data = ad.safetensors.save({"w": t})
    np.testing.assert_array_equal(host(ad.safetensors.load(data, device="cuda")["w"]), X)


def test_clip_grad_and_total_norm(cuda):
    def run(*ws):
        ws = [w.requires_grad_() for w in ws]
        for w in ws:
            w.grad = w * 3
        n = ad.nn.utils.clip_grad_norm_(ws, 1.0)
        return [n, ad.nn.utils.get_total_norm([w.grad for w in ws])] + [w.grad for w in ws]
    same(run, X, Y)


def test_fusion_and_parametrizations(cuda):
    nn = ad.nn

    def fused(x):
        ad.manual_seed(0)
        conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
        conv.to(x.device, x.dtype), bn.to(x.device, x.dtype)
        bn.eval(), conv.eval()
        return nn.utils.fuse_conv_bn_eval(conv, bn)(x)

    same(fused, IMG)

    def ortho(x):
        ad.manual_seed(0)
        lin = nn.Linear(4, 4).to(x.device, x.dtype)
        nn.utils.parametrizations.orthogonal(lin)
        return lin(x)

    same(ortho, X, rtol=1e-5)


def test_adaptive_softmax_and_batched_grad(cuda):
    def adaptive(x):
        ad.manual_seed(0)
        m = ad.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [4, 8]).to(x.device, x.dtype)
        return m(x, ad.tensor([1, 5, 9], device=x.device)).output

    same(adaptive, X, rtol=1e-5)

    def jac(x):
        return ad.func.jacrev(lambda v: (v * v).sum(-1))(x)

    same(jac, X)


def test_dataloader_workers_with_cuda_tensors(cuda):
    ds = ad.utils.data.TensorDataset(ad.tensor(X, device="cuda"))
    batches = list(ad.utils.data.DataLoader(ds, batch_size=2))
    check_dev(batches[0][0])
    with pytest.raises(RuntimeError, match="cuda"):
        list(ad.utils.data.DataLoader(ds, batch_size=2, num_workers=2))
