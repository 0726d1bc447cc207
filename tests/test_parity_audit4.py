"""Fixes from the sixteenth session's tensor-op audit against PyTorch: float32 variance of data
far from zero, reductions and scans of small float types, and special values, dtypes and
keyword forms where autodiff differed from PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

DEVICES = ["numpy", "cpp"]


@pytest.mark.parametrize("device", DEVICES)
def test_float32_variance_of_data_far_from_zero(device):
    rng = np.random.RandomState(0)
    a = (1e5 + rng.randn(4096, 8) * 0.1).astype(np.float32)
    exact = a.astype(np.float64)
    x = ad.tensor(a, device=device)
    rel = lambda got, want: np.abs(got / want - 1).max()  # noqa: E731
    assert rel(x.var(0, unbiased=False).numpy(), exact.var(0)) < 1e-6  # columns (was 3e-2)
    assert rel(ad.tensor(a.T.copy(), device=device).var(1).numpy(), exact.var(0, ddof=1)) < 1e-6
    assert rel(x.var().numpy(), exact.var(ddof=1)) < 1e-6
    assert rel(x.std(0).numpy(), exact.std(0, ddof=1)) < 1e-6
    b = (1e4 + rng.randn(8, 3, 16, 16)).astype(np.float32)
    bn = ad.nn.BatchNorm2d(3).to(device)
    bn(ad.tensor(b, device=device))
    want = 0.9 + 0.1 * b.astype(np.float64).var((0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_var.numpy(), want, rtol=1e-6)
    stats = ad.nn.BatchNorm1d(8).to(device)
    stats(x)
    np.testing.assert_allclose(stats.running_var.numpy(), 0.9 + 0.1 * exact.var(0, ddof=1),
                               rtol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_small_float_sums_and_scans_add_up_wider(device):
    assert ad.ones(5000, dtype=ad.float16, device=device).cumsum(0)[-1].item() == 5000
    assert ad.ones(2**24 + 10, device=device).cumsum(0)[-1].item() == 2**24 + 10
    got = (ad.ones(100, 50, dtype=ad.float16, device=device) * 1.1).sum(0)
    want = (torch.ones(100, 50, dtype=torch.float16) * 1.1).sum(0)
    assert got.dtype == ad.float16 and got[0].item() == want[0].item()


@pytest.mark.parametrize("device", DEVICES)
def test_special_points_as_pytorch(device):
    def both(fn_ad, fn_t, *vals):
        xs = [ad.tensor(v, dtype=ad.float64, device=device, requires_grad=True) for v in vals]
        ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vals]
        a, t = fn_ad(*xs), fn_t(*ts)
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), equal_nan=True)
        a.sum().backward()
        t.sum().backward()
        for x, y in zip(xs, ts):
            np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), equal_nan=True)

    both(ad.special.xlog1py, torch.special.xlog1py, [0.0, 1.0, 0.0], [2.0, 2.0, 0.5])
    both(ad.special.entr, torch.special.entr, [0.0, 0.5, -1.0, float("nan"), 2.0])
    both(lambda s, e, w: ad.lerp(s, e, w), torch.lerp, [float("inf"), 0.0, 1.0],
         [0.0, 1.0, 3.0], [0.7, 0.2, 0.5])


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
@pytest.mark.parametrize("q", [0.1, 0.3, 0.5, 0.9])
def test_quantiles_with_infinities(interpolation, q):
    inf = float("inf")
    for v in ([4.0, 1.0, inf, -inf], [4.0, 1.0, inf, 2.0], [3.0, 1.0, 2.0, 5.0, 7.0]):
        want = torch.quantile(torch.tensor(v), q, interpolation=interpolation).item()
        for fn in (ad.quantile, ad.nanquantile):
            got = fn(ad.tensor(v), q, interpolation=interpolation).item()
            np.testing.assert_allclose(got, want, equal_nan=True)


@pytest.mark.parametrize("device", DEVICES)
def test_integer_and_unsigned_operands(device):
    def t(v, dt):
        return ad.tensor(v, dtype=dt, device=device)

    rng = np.random.default_rng(0)
    a, b = rng.integers(-128, 128, 200), rng.integers(-9, 10, 200)
    b[b == 0] = 1
    a[:3] = -128  # abs(-128) is -128 in int8: the old trunc division went wrong there
    got = ad.div(t(a, ad.int8), t(b, ad.int8), rounding_mode="trunc").numpy()
    want = torch.div(torch.tensor(a, dtype=torch.int8), torch.tensor(b, dtype=torch.int8),
                     rounding_mode="trunc").numpy()
    np.testing.assert_array_equal(got, want)
    assert ad.copysign(t([1, 200], ad.uint8), -3).tolist() == [-1.0, -200.0]
    assert np.isnan(ad.xlogy(t([1, 2], ad.uint8), -3).numpy()).all()
    np.testing.assert_allclose(ad.xlogy(t(255, ad.uint8), t([2, 3], ad.int8)).numpy(),
                               [176.7525, 280.1461], rtol=1e-5)
    assert ad.xlogy(t([1, 2], ad.int64), t(2.0, ad.float64)).dtype == ad.float64
    s = t([[200, 100], [1, 2]], ad.uint8).sum_to_size(1, 2)
    assert s.dtype == ad.int64 and s.tolist() == [[201, 102]]
    x = t([5.0, -5.0], ad.float32)
    x.div_(2, rounding_mode="floor")
    assert x.tolist() == [2.0, -3.0]


@pytest.mark.parametrize("device", DEVICES)
def test_uint8_index_is_a_mask_and_unique_keeps_nans(device):
    x = ad.arange(6, device=device).reshape(3, 2)
    with pytest.warns(UserWarning, match="uint8"):
        got = x[ad.tensor([1, 0, 1], dtype=ad.uint8, device=device)]
    assert got.tolist() == [[0, 1], [4, 5]]
    nan = float("nan")
    vals, inv, counts = ad.unique(ad.tensor([2.0, nan, 1.0, 2.0, nan], device=device),
                                  return_inverse=True, return_counts=True)
    tv, ti, tc = torch.unique(torch.tensor([2.0, nan, 1.0, 2.0, nan]), return_inverse=True,
                              return_counts=True)
    np.testing.assert_array_equal(vals.numpy(), tv.numpy())
    assert inv.tolist() == ti.tolist() and counts.tolist() == tc.tolist()


@pytest.mark.parametrize("device", DEVICES)
def test_det_gradient_of_singular_matrices_is_the_adjugate(device):
    for m in ([[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]):
        a = ad.tensor(m, dtype=ad.float64, device=device, requires_grad=True)
        ad.linalg.det(a).backward()
        A = np.array(m)
        n = len(m)
        adj = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(A, j, 0), i, 1))
                         for j in range(n)] for i in range(n)])
        np.testing.assert_allclose(a.grad.numpy(), adj.T, atol=1e-12)
    a = ad.tensor(np.random.default_rng(1).random((2, 3, 3)), device=device, requires_grad=True)
    assert ad.autograd.gradcheck(ad.linalg.det, (a.double().detach().requires_grad_(),))


def test_legacy_tensor_constructor():
    x = ad.Tensor([1, 2])  # floats, as torch.Tensor: 0.7 is not truncated
    x[0] = 0.7
    assert x.dtype == ad.float32 and x.tolist() == pytest.approx([0.7, 2.0])
    p = ad.nn.Parameter(ad.Tensor(4, 3))  # the custom-layer pattern, then an init
    ad.nn.init.kaiming_uniform_(p)
    assert p.shape == (4, 3) and p.dtype == ad.float32 and p.requires_grad
    assert ad.Tensor().shape == (0,) and ad.Tensor(ad.Size([2, 3])).shape == (2, 3)
    assert ad.Tensor((2, 3)).tolist() == [2.0, 3.0]  # a plain tuple is data
    assert ad.Tensor(np.arange(3)).dtype == ad.float32
    assert ad.tensor([1, 2]).dtype == ad.int64  # tensor() still infers
    with pytest.raises(TypeError, match="data or sizes"):
        ad.Tensor([1], [2])


def test_format_size_contains_and_numpy_keyword_names():
    assert f"{ad.tensor(0.123456)}" == f"{torch.tensor(0.123456)}"
    assert f"{ad.tensor(2.0):.3f}" == "2.000" and f"{ad.tensor(3)}" == "3"
    s = ad.ones(2, 3).size()
    assert isinstance(s, ad.Size) and s == (2, 3) and s.numel() == 6
    t = ad.arange(6.0).reshape(2, 3)
    assert 3.0 in t and 7 not in t
    assert t.sum(axis=0).tolist() == [3.0, 5.0, 7.0]
    assert ad.sum(input=t, dim=1).tolist() == [3.0, 12.0]
    assert t.mean(axis=1, keepdims=True).shape == (2, 1)
    assert t.argmax(axis=1).tolist() == [2, 2] and t.amax(axis=0).tolist() == [3.0, 4.0, 5.0]
    assert ad.cat([t, t], axis=1).shape == (2, 6) and ad.stack([t, t], axis=0).shape == (2, 2, 3)


def test_cpu_means_the_host_device_chosen_by_autodiff_device():
    import subprocess
    import sys

    code = ("import autodiff as ad; m = ad.nn.Linear(2, 2).cpu(); x = ad.ones(1, 2).cpu();"
            "print(m(x).device, ad.ones(2).to('cpu').device, ad.ones(2, device='cpu').device)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "AUTODIFF_DEVICE": "numpy"})
    assert out.stdout.split() == ["numpy"] * 3, out.stderr
    m = ad.nn.Linear(2, 2).to("numpy").cpu()  # a host device already: stays, as Tensor.cpu()
    assert m.weight.device == ad.device("numpy")


@pytest.mark.parametrize("device", DEVICES)
def test_einsum_sublists_view_dtype_logaddexp_bool_and_int_powers(device):
    a, b = ad.randn(2, 3, device=device), ad.randn(3, 4, device=device)
    np.testing.assert_allclose(ad.einsum(a, [0, 1], b, [1, 2], [0, 2]).numpy(),
                               (a @ b).numpy(), rtol=1e-5, atol=1e-6)
    assert ad.einsum(a, [0, 1], b, [1, 2]).shape == (2, 4)
    assert ad.einsum(a, [Ellipsis, 1], [Ellipsis]).shape == (2,)
    x = ad.tensor([1.0, -2.0], device=device)
    assert x.view(ad.int32).tolist() == [1065353216, -1073741824]
    assert ad.ones(2, 4, device=device).view(ad.float64).shape == (2, 2)
    got = ad.logaddexp(ad.tensor([True, False], device=device), ad.tensor([0.5, 0.5], device=device))
    np.testing.assert_allclose(got.numpy(), [1.4740770, 0.9740770], rtol=1e-6)
    e = [-128, -3, -2, 0, 1, 5]
    for base in (2, -1, 1, 0, 3):
        want = (torch.tensor(base) ** torch.tensor(e, dtype=torch.int8)).tolist()
        assert (base ** ad.tensor(e, dtype=ad.int8, device=device)).tolist() == want


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(-1), lambda m: m.eye(-1), lambda m: m.arange(0, 1, 0),
    lambda m: m.linspace(0, 1, -1), lambda m: m.randint(3, 3, (2,)), lambda m: m.rand(2, -3),
    lambda m: int(m.tensor([1, 2])),
])
def test_bad_creation_arguments_raise_pytorchs_runtime_error(make):
    try:
        make(torch)
    except Exception as exc:  # noqa: BLE001 (the oracle's exception type)
        want = type(exc)
    with pytest.raises(want):
        make(ad)
    with pytest.raises(ValueError):  # and Python's type for a bad value
        make(ad)


def test_negating_a_bool_tensor_and_grad_fn_names():
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -ad.tensor([True])
    x = ad.ones(2, requires_grad=True)
    assert "grad_fn=<MulBackward0>" in repr(x * 2) and repr(torch.ones(2, requires_grad=True)
                                                             * 2).endswith("<MulBackward0>)")


def test_legacy_typed_tensors_and_methods():
    x = ad.FloatTensor(2, 3)
    assert x.shape == (2, 3) and x.dtype == ad.float32
    assert isinstance(x, ad.FloatTensor) and not isinstance(x, ad.LongTensor)
    assert ad.LongTensor([1, 2]).dtype == ad.int64 and ad.FloatTensor([1, 2]).dtype == ad.float32
    y = ad.ones(2, dtype=ad.float64)
    assert y.new(3).dtype == ad.float64 and y.new([1, 2]).tolist() == [1.0, 2.0]
    assert y.layout is ad.strided and not y.is_sparse
    z = ad.arange(6.0)
    assert z.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    try:
        ad.set_default_tensor_type(ad.DoubleTensor)
        assert ad.ones(1).dtype == ad.float64
    finally:
        ad.set_default_tensor_type("torch.FloatTensor")
    assert ad.ones(1).dtype == ad.float32 and ad.version.__version__ == ad.__version__


@pytest.mark.parametrize("batch_first, grad", [(True, False), (False, False), (True, True)])
def test_transformer_encoder_inference_zeroes_padded_positions_as_pytorch(batch_first, grad):
    import warnings

    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        te = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
            16, 4, 32, dropout=0.0, batch_first=batch_first), 2)
    with warnings.catch_warnings(record=True) as aw:
        warnings.simplefilter("always")
        ae = ad.nn.TransformerEncoder(ad.nn.TransformerEncoderLayer(
            16, 4, 32, dropout=0.0, batch_first=batch_first), 2)
    assert [str(w.message) for w in aw] == [str(w.message) for w in tw]
    ae.load_state_dict({k: ad.tensor(v.detach().numpy()) for k, v in te.state_dict().items()})
    te.eval()
    ae.eval()
    x = np.random.default_rng(0).random((3, 5, 16) if batch_first else (5, 3, 16), np.float32)
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = pad[2, 4:] = True
    with torch.set_grad_enabled(grad), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "nested tensors are a prototype"
        want = te(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).detach().numpy()
    with ad.set_grad_enabled(grad):
        got = ae(ad.tensor(x), src_key_padding_mask=ad.tensor(pad)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_binary_ops_take_pytorchs_keyword_names():
    a, b = ad.ones(2, 2), ad.full((2, 2), 3.0)
    assert ad.add(input=a, other=b, alpha=2)[0, 0].item() == 7.0
    assert ad.sub(input=a, other=b)[0, 0].item() == -2.0
    assert ad.mul(input=a, other=b)[0, 0].item() == 3.0
    assert ad.div(input=b, other=a, rounding_mode="floor")[0, 0].item() == 3.0
    assert ad.pow(input=b, exponent=2)[0, 0].item() == 9.0
    assert ad.matmul(input=a, other=b)[0, 0].item() == 6.0
    assert ad.maximum(input=a, other=b)[0, 0].item() == 3.0
    assert not ad.eq(input=a, other=b).any().item() and a.add(other=b)[0, 0].item() == 4.0
