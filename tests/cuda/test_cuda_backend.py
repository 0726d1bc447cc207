"""The "cuda" device on a real GPU: kernel parity with the NumPy backend, cross-device moves
with gradients, interop (DLPack, __cuda_array_interface__), seeding, TF32, multi-GPU, and
modules/optimizers/serialization across devices. Skipped without a GPU and CuPy."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not ad.cuda.is_available(), reason="no CUDA GPU/CuPy")]

if ad.cuda.is_available():
    import cupy

    from autodiff.backends import cupy_backend as cb

from cuda_cases import CASES, REF, check_case

DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]


@pytest.fixture(scope="module")
def b():
    return ad.device("cuda").backend


# ------------------------------------------------------------------ kernels vs NumPy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ("contig", "T", "sliced"))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernel_parity(b, case, layout, dtype):
    check_case(case, b, cupy.asarray, cupy.asnumpy, dtype, layout)


@pytest.mark.parametrize("method,shape,extra,template", [
    ("softmax", (64, 1000), (1,), "softmax_forward"),
    ("log_softmax", (64, 1000), (1,), "softmax_forward"),
    ("sum_to", (512, 96), ((96,),), "reduce_cols"),
    ("batch_norm_stats", (8, 16, 32, 32), ((0, 2, 3),), "batch_norm_stats_partial"),
])
def test_fused_kernel_runs(b, monkeypatch, method, shape, extra, template):
    """float32 inputs go through our RawKernels, not the CuPy composite."""
    seen = []
    real = cb.kernel

    def spy(tmpl, dtype, device):
        seen.append(tmpl.split("<")[0])
        return real(tmpl, dtype, device)

    monkeypatch.setattr(cb, "kernel", spy)
    x = cupy.random.standard_normal(shape, dtype=np.float32)
    getattr(b, method)(x, *extra)
    assert seen == [template]


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extremes(b, dtype):
    x = np.array([[1e4, -1e4, 0.0, 3.0], [-np.inf, 1.0, -np.inf, 2.0],
                  [-np.inf] * 4, [np.nan, 1.0, 2.0, 3.0]], dtype=dtype)
    with np.errstate(invalid="ignore"):
        for fn in ("softmax", "log_softmax"):
            want = getattr(REF, fn)(x, 1)
            got = cupy.asnumpy(getattr(b, fn)(cupy.asarray(x), 1))
            np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)


def test_long_rows_and_many_rows(b):
    rng = np.random.default_rng(0)
    for shape in [(2, 300_001), (100_000, 3)]:
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(cupy.asnumpy(b.softmax(cupy.asarray(x), 1)),
                                   REF.softmax(x, 1), rtol=1e-5, atol=1e-9)
        y = b.layer_norm(cupy.asarray(x), None, None, 1, 1e-5)[0]
        yr = REF.layer_norm(x, None, None, 1, 1e-5)[0]
        np.testing.assert_allclose(cupy.asnumpy(y), yr, rtol=1e-4, atol=1e-4)


def test_other_backend_methods(b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 6)).astype(np.float32)
    da = cupy.asarray(a)
    for desc in (False, True):
        v, i = b.sort(cupy.asarray(np.round(a)), 1, desc, True)
        rv, ri = REF.sort(np.round(a), 1, desc, True)
        np.testing.assert_array_equal(cupy.asnumpy(v), rv)
        np.testing.assert_array_equal(cupy.asnumpy(i), ri)
    v, i = b.topk(da, 3, 1, True, True)
    np.testing.assert_array_equal(cupy.asnumpy(v), REF.topk(a, 3, 1, True, True)[0])
    idx = np.array([0, 3, 0, 0])
    for dt in (np.float32, np.float64, np.float16, np.int64, np.int32):
        g = np.arange(24).reshape(4, 6).astype(dt)
        got = b.index_add((5, 6), (cupy.asarray(idx),), cupy.asarray(g))
        np.testing.assert_array_equal(cupy.asnumpy(got), REF.index_add((5, 6), (idx,), g))
    si = rng.integers(0, 6, (5, 4))
    got = b.scatter_add(da, 1, cupy.asarray(si), da)
    np.testing.assert_allclose(cupy.asnumpy(got), REF.scatter_add(a, 1, si, a), rtol=1e-6)
    np.testing.assert_allclose(cupy.asnumpy(b.matmul(da, da.T)), a @ a.T, rtol=1e-5)
    assert b.asarray(2.5, np.float32).shape == () and b.asarray(2.5, np.float32).dtype == np.float32
    z = b.from_numpy(np.array(3.0))
    assert z.shape == () and b.to_numpy(z).item() == 3.0
    assert b.owns(b.copy(da)) and not b.owns(da[1:])
    b.setitem(da, (slice(0, 1),), np.zeros((1, 6), np.float32))
    assert float(da[0].sum()) == 0.0


def test_tf32_matmul_is_opt_in_and_restores_compute_type(b):
    from cupy._core import _routines_linalg as lin

    a = cupy.random.standard_normal((256, 256), dtype=np.float32)
    before = lin.get_compute_type(np.dtype(np.float32))
    exact = cupy.asnumpy(a).astype(np.float64) @ cupy.asnumpy(a).astype(np.float64)
    old = b.tf32
    try:
        b.tf32 = True
        fast = cupy.asnumpy(b.matmul(a, a))
    finally:
        b.tf32 = old
    assert lin.get_compute_type(np.dtype(np.float32)) == before
    np.testing.assert_allclose(fast, exact, rtol=5e-2, atol=5e-2 * np.abs(exact).max())


# ------------------------------------------------------------------ tensors across devices
def test_moves_carry_gradients_back():
    x = ad.randn(3, 4, device="cpu", requires_grad=True)
    for move in (lambda t: t.cuda(), lambda t: t.to("cuda"), lambda t: t.to("cuda:0")):
        x.grad = None
        y = move(x)
        assert y.is_cuda and str(y.device) == "cuda:0"
        (y * y).sum().backward()
        assert x.grad.device == x.device
        np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)
    z = ad.randn(2, 3, device="cuda", requires_grad=True)
    (z.cpu() * 3).sum().backward()
    assert z.grad.is_cuda
    np.testing.assert_allclose(z.grad.cpu().numpy(), 3.0)


def test_ops_and_backward_match_cpu():
    ad.manual_seed(0)
    x = ad.randn(4, 7, dtype=ad.float64)
    w = ad.randn(7, dtype=ad.float64)
    outs = {}
    for dev in ("cpu", "cuda"):
        xd = x.to(dev).detach().requires_grad_()
        wd = w.to(dev).detach().requires_grad_()
        y = ad.nn.functional.layer_norm(xd * wd, (7,)) if hasattr(ad, "nn") else xd * wd
        loss = (y.softmax(-1) * y.log_softmax(0)).sum() + (xd[[0, 0, 2]] ** 2).sum()
        loss.backward()
        outs[dev] = [loss.item(), xd.grad.cpu().numpy(), wd.grad.cpu().numpy()]
    for a, c in zip(outs["cpu"], outs["cuda"]):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_mixed_devices_raise_naming_both():
    with pytest.raises(RuntimeError, match="cuda"):
        ad.ones(2, device="cpu") + ad.ones(2, device="cuda")


def test_host_indices_index_a_cuda_tensor_but_not_the_reverse():
    x = ad.arange(6.0, device="cuda").reshape(2, 3)
    idx = ad.tensor([1, 0], device="cpu")  # as PyTorch: copied to the GPU
    assert x[idx].is_cuda and x[idx].tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    x[ad.tensor([False, True], device="cpu")] = 7.0
    assert x.tolist() == [[0.0, 1.0, 2.0], [7.0, 7.0, 7.0]]
    with pytest.raises(RuntimeError, match="indices are on cuda:0 but the tensor is on"):
        ad.arange(6.0, device="cpu")[idx.cuda()]


def test_numpy_needs_cpu_first_and_detach_shares_device_memory():
    t = ad.tensor([[1.0, 2.0]], device="cuda", requires_grad=True)
    for convert in (lambda: t.detach().numpy(), lambda: np.asarray(t.detach())):
        with pytest.raises(TypeError, match=r"cuda:0 tensor to numpy; use \.cpu\(\) first"):
            convert()
    d = t.detach()
    assert d.__cuda_array_interface__["data"][0] == t.__cuda_array_interface__["data"][0]
    np.testing.assert_array_equal(t.detach().cpu().numpy(), [[1.0, 2.0]])


def test_manual_seed_gives_the_same_numbers_on_every_device():
    for fn in (ad.randn, ad.rand):
        ad.manual_seed(123)
        host = fn(5, 3, device="cpu").numpy()
        ad.manual_seed(123)
        dev = fn(5, 3, device="cuda").cpu().numpy()
        np.testing.assert_array_equal(host, dev)
    p = ad.tensor([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]], device="cpu")
    ad.manual_seed(7)
    a = ad.multinomial(p, 2).numpy()
    ad.manual_seed(7)
    np.testing.assert_array_equal(a, ad.multinomial(p.cuda(), 2).cpu().numpy())


# ------------------------------------------------------------------ interop
def test_dlpack_with_cupy_shares_memory():
    c = cupy.arange(6, dtype=cupy.float32)
    t = ad.from_dlpack(c)
    assert t.is_cuda and t.shape == (6,)
    c[0] = 42
    assert t[0].item() == 42
    back = cupy.from_dlpack(t)
    back[1] = -1
    assert t[1].item() == -1
    assert t.__dlpack_device__()[0] == 2


def test_cuda_array_interface_is_zero_copy():
    t = ad.ones(3, 2, device="cuda")
    cai = t.__cuda_array_interface__
    assert cai["shape"] == (3, 2) and cai["data"][0] == t._data.data.ptr
    c = cupy.asarray(t)
    c[0, 0] = 5
    assert t[0, 0].item() == 5


def test_dlpack_with_torch_cuda_shares_memory():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    tt = torch.arange(4, dtype=torch.float32, device="cuda")
    t = ad.from_dlpack(tt)
    tt[0] = 9
    assert t.is_cuda and t[0].item() == 9
    back = torch.from_dlpack(t)
    assert back.data_ptr() == tt.data_ptr()


# ------------------------------------------------------------------ several GPUs
def test_second_gpu_allocates_there():
    if ad.cuda.device_count() < 2:
        pytest.skip("one GPU")
    with cupy.cuda.Device(0):
        t = ad.randn(4, 64, device="cuda:1")
        y = t.softmax(-1) + 1
        assert y._data.device.id == 1 and t.to("cuda:0")._data.device.id == 0


# ------------------------------------------------------------------ modules, optim, io
def test_module_optimizer_and_save_load_across_devices(tmp_path):
    nn = pytest.importorskip("autodiff.nn")
    optim = pytest.importorskip("autodiff.optim")
    if not hasattr(nn, "Linear") or not hasattr(optim, "SGD"):
        pytest.skip("nn.Linear / optim.SGD not written yet")
    ad.manual_seed(0)
    m = nn.Linear(5, 3).to("cuda")
    assert all(p.is_cuda for p in m.parameters())
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    x = ad.randn(8, 5, device="cuda")
    before = m.weight.cpu().numpy().copy()
    for _ in range(2):
        opt.zero_grad()
        m(x).pow(2).mean().backward()
        opt.step()
    assert m.weight.is_cuda and not np.allclose(before, m.weight.cpu().numpy())
    path = tmp_path / "m.ad"
    ad.save(m.state_dict(), path)
    for loc, is_cuda in (("cpu", False), ("cuda", True)):
        sd = ad.load(path, map_location=loc)
        assert all(v.is_cuda == is_cuda for v in sd.values())
        np.testing.assert_array_equal(sd["weight"].cpu().numpy(), m.weight.cpu().numpy())
    m2 = nn.Linear(5, 3, device="cpu")  # load_state_dict copies into m2's own device
    m2.load_state_dict(ad.load(path, map_location="cpu"))
    np.testing.assert_allclose(m2(x.cpu()).numpy(), m(x).cpu().numpy(), rtol=1e-5)
