"""The Tensor handle: attributes, conversions (sharing memory between CPU devices), dtypes and
aliases, promotion with Python scalars and 0-d tensors, repr, Python protocols, in-place
version counters."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


def test_attributes(device):
    t = ad.zeros(2, 3, 4, device=device)
    assert isinstance(t, ad.Tensor) and ad.is_tensor(t)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dtype is ad.float32 and t.is_floating_point()
    assert t.device == ad.device(device) and t.is_cuda == device.startswith("cuda")
    assert not t.requires_grad and t.grad is None and t.grad_fn is None and t.is_leaf
    assert t.is_contiguous() and not t.transpose(0, 1).is_contiguous()
    assert t.stride() == (12, 4, 1)
    assert not ad.zeros(2, dtype=ad.int64).is_floating_point()


@pytest.mark.parametrize("name,dtype", [
    ("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
    ("int32", np.int32), ("int64", np.int64), ("bool", np.bool_), ("half", np.float16),
    ("float", np.float32), ("double", np.float64), ("int", np.int32), ("long", np.int64),
])
def test_dtypes_and_aliases(name, dtype, device):
    dt = getattr(ad, name)
    assert dt.np == np.dtype(dtype)
    t = ad.ones(2, dtype=dt, device=device)
    assert t.cpu().numpy().dtype == dtype and t.dtype is dt
    assert ad.ones(2, dtype=name, device=device).dtype is dt


def test_dtype_aliases_are_the_same_objects():
    assert ad.half is ad.float16 and ad.float is ad.float32 and ad.double is ad.float64
    assert ad.int is ad.int32 and ad.long is ad.int64
    assert repr(ad.float32) == "autodiff.float32"


def test_conversions(device):
    t = ad.tensor([1.5, -2.5], device=device)
    assert t.double().dtype is ad.float64 and t.float().dtype is ad.float32
    assert t.long().tolist() == [1, -2] and t.long().dtype is ad.int64
    assert t.half().dtype is ad.float16 and t.int().dtype is ad.int32
    assert t.bool().tolist() == [True, True]
    assert t.to(ad.float64).dtype is ad.float64 and t.to("float64").dtype is ad.float64
    assert t.to(dtype=ad.int64).dtype is ad.int64
    assert t.type_as(ad.zeros(1, dtype=ad.float64)).dtype is ad.float64
    assert t.to(t) is t
    host = t.cpu()
    assert (host is t) == (not t.is_cuda)  # a CPU tensor is already on the host
    assert host.device.type in ("numpy", "cpp") and host.tolist() == t.tolist()


@pytest.mark.parametrize("src,dst", [("numpy", "cpp"), ("cpp", "numpy")])
def test_to_between_cpu_devices_shares_memory(src, dst):
    if "cpp" not in ad.available_devices():
        pytest.skip("cpp: the C++ extension autodiff._C is not built")
    t = ad.tensor([1.0, 2.0], device=src)
    u = t.to(dst)
    assert str(u.device) == dst and np.shares_memory(u.numpy(), t.numpy())
    u.add_(1)
    assert t.tolist() == [2.0, 3.0]
    x = ad.tensor([1.0, 2.0], device=src, requires_grad=True)
    (x.to(dst) * 3).sum().backward()  # differentiable
    assert x.grad.tolist() == [3.0, 3.0] and str(x.grad.device) == src


def test_to_device_and_dtype_together():
    t = ad.tensor([1, 2], device="numpy")
    u = t.to("numpy", ad.float64)
    assert u.dtype is ad.float64 and str(u.device) == "numpy"
    u = t.to(device="numpy", dtype=ad.float32)
    assert u.dtype is ad.float32


def test_numpy_and_array_protocol(cpu_device):
    t = ad.tensor([[1.0, 2.0]], device=cpu_device)
    a = t.numpy()
    a[0, 0] = 9
    assert t[0, 0].item() == 9
    assert np.asarray(t).dtype == np.float32 and np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.array(t), [[9.0, 2.0]])


def test_detach_shares_memory_and_data(cpu_device):
    x = ad.tensor([1.0, 2.0], device=cpu_device, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), x.numpy())
    assert not x.data.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    c = x.clone()
    assert c.requires_grad and not c.is_leaf and not np.shares_memory(c.numpy(), x.numpy())


def test_item_tolist_len_iter(device):
    t = ad.tensor([[1, 2], [3, 4]], device=device)
    assert t.tolist() == [[1, 2], [3, 4]]
    assert [r.tolist() for r in t] == [[1, 2], [3, 4]]
    assert ad.tensor(2.5, device=device).item() == 2.5
    assert isinstance(ad.tensor(3, device=device).item(), int)
    assert ad.tensor([7], device=device).item() == 7
    with pytest.raises(RuntimeError, match="4 elements"):
        t.item()
    with pytest.raises(TypeError):
        len(ad.tensor(1.0))
    with pytest.raises(TypeError):
        iter(ad.tensor(1.0))


def test_python_scalar_protocols(device):
    t = ad.tensor(3, device=device)
    assert int(t) == 3 and float(t) == 3.0 and bool(t) and [0, 1, 2, 3][t] == 3
    assert f"{ad.tensor(2.5):.2f}" == "2.50"
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ad.tensor([1, 2], device=device))


def test_repr_shows_values_device_dtype_grad_fn(device):
    x = ad.tensor([1.0, 2.0], device=device, requires_grad=True)
    r = repr(x)
    # the default float dtype, int64 and bool are not printed, as in PyTorch
    assert "1." in r and "2." in r and device in r and "dtype" not in r and "requires_grad" in r
    assert "grad_fn=<MulBackward" in repr(x * 2)
    assert repr(ad.tensor([1], device=device)) == f"tensor([1], device='{device}')"
    assert "dtype=autodiff.int32" in repr(ad.tensor([1], dtype=ad.int32, device=device))
    big = repr(ad.zeros(10000, device=device))
    assert "..." in big and len(big) < 500


@pytest.mark.parametrize("a,b,expected", [
    ((np.array([1, 2]),), 2.5, ad.float32),
    ((np.array([1, 2], dtype=np.int32),), 1, ad.int32),
    ((np.array([1.0], dtype=np.float16),), 1.0, ad.float16),
    ((np.array([1.0], dtype=np.float32),), (np.array(1.0),), ad.float32),
    ((np.array([1]),), (np.array(1.0),), ad.float64),
    ((np.array([1], dtype=np.int32),), (np.array(1),), ad.int32),
    ((np.array([1], dtype=np.int32),), (np.array([1]),), ad.int64),
    ((np.array([1.0], dtype=np.float32),), (np.array([1]),), ad.float32),
    ((np.array([1.0], dtype=np.float16),), (np.array([1]),), ad.float16),
    ((np.array([1.0], dtype=np.float16),), (np.array(1.0, dtype=np.float32),), ad.float16),
    ((np.array(1.0, dtype=np.float32),), (np.array(1.0),), ad.float64),
    ((np.array(1),), 2.5, ad.float32),
    ((np.array([True]),), 1, ad.int64),
    ((np.array([True]),), 1.5, ad.float32),
    ((np.array([1], dtype=np.int32),), (np.array(1.0, dtype=np.float16),), ad.float16),
    ((np.array([1.0], dtype=np.float64),), (np.array([1.0], dtype=np.float32),), ad.float64),
], ids=["i64+float", "i32+int", "f16+float", "f32+f64_0d", "i64+f64_0d", "i32+i64_0d",
        "i32+i64", "f32+i64", "f16+i64", "f16+f32_0d", "f32_0d+f64_0d", "i64_0d+float",
        "bool+int", "bool+float", "i32+f16_0d", "f64+f32"])
def test_type_promotion_like_pytorch(a, b, expected, device):
    """(tensor data,) marks a tensor; a bare Python value is a scalar operand."""
    ta = ad.tensor(a[0], device=device)
    tb = ad.tensor(b[0], device=device) if isinstance(b, tuple) else b
    bools = ad.bool in (ta.dtype, getattr(tb, "dtype", None)) or isinstance(tb, bool)
    for result in (ta + tb, tb + ta, ta * tb) + (() if bools else (ta - tb,)):
        assert result.dtype is expected  # (PyTorch refuses - with a bool operand)


def test_int_pow_promotion(device):
    t = ad.tensor([2, 3], device=device)
    assert (t ** 2).dtype is ad.int64 and (t ** 2).tolist() == [4, 9]
    assert (t ** 2.0).dtype is ad.float32 and (t ** 1.0).dtype is ad.float32
    assert (t ** 0.5).dtype is ad.float32 and (2 ** t).dtype is ad.int64


def test_comparisons_return_bool(device):
    t = ad.tensor([1.0, 2.0], device=device)
    for r in (t == 1, t != 1, t < 2, t <= 2, t > 1, t >= 1, t.eq(t), t.ne(t), t.lt(t),
              t.le(t), t.gt(t), t.ge(t)):
        assert r.dtype is ad.bool and not r.requires_grad
    assert (t == ad.tensor([1, 3], device=device)).tolist() == [True, False]


def test_any_all_methods(device):
    t = ad.tensor([[True, False], [True, True]], device=device)
    assert t.any().item() and not t.all().item()
    assert t.all(1).tolist() == [False, True]


def test_reflected_numpy_operands(device):
    t = ad.tensor([1.0, 2.0], device=device)
    r = np.float32(2.0) * t
    assert isinstance(r, ad.Tensor) and r.tolist() == [2.0, 4.0]
    r = np.array([1.0, 1.0], dtype=np.float32) + t
    assert isinstance(r, ad.Tensor) and r.tolist() == [2.0, 3.0]


def test_in_place_arithmetic_and_results(device):
    t = ad.tensor([1.0, 2.0], device=device)
    orig = t
    t += 1
    t *= 2
    t -= ad.tensor([1.0, 1.0], device=device)
    t /= 2
    assert t is orig and t.tolist() == [1.5, 2.5] and t._version == 4
    t.add_(ad.tensor([1.0, 1.0], device=device), alpha=2)
    assert t.tolist() == [3.5, 4.5]
    t.clamp_(max=4.0)
    assert t.tolist() == [3.5, 4.0]
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(2, 2\)"):
        t.add_(ad.ones(2, 2, device=device))


def test_int_tensor_in_place_keeps_dtype(device):
    t = ad.tensor([1, 2], device=device)
    t += 1
    assert t.dtype is ad.int64 and t.tolist() == [2, 3]


def test_integer_casts_do_not_require_grad(device):
    x = ad.tensor([1.5, -2.5], device=device, requires_grad=True)
    for t in (x.long(), x.int(), x.bool(), x.to(ad.int64), (x > 0), x.argmax()):
        assert not t.requires_grad and t.grad_fn is None
    assert x.double().requires_grad


def test_requires_grad_setter(device):
    t = ad.ones(2, device=device)
    t.requires_grad = True
    assert t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad


def test_contiguous_and_views(device):
    t = ad.arange(6.0, device=device).reshape(2, 3).t()
    c = t.contiguous()
    assert c.is_contiguous() and c.tolist() == t.tolist()
    x = ad.arange(6.0, device=device)
    assert x.contiguous() is x
    assert x.view(2, 3).view_as(x).shape == (6,)
    assert x.reshape_as(ad.zeros(3, 2)).shape == (3, 2)


def test_topk_sort(device):
    t = ad.tensor([3.0, 1.0, 4.0, 1.5], device=device)
    v, i = t.topk(2)
    assert v.tolist() == [4.0, 3.0] and i.tolist() == [2, 0]
    v, i = t.sort(descending=True)
    assert v.tolist() == [4.0, 3.0, 1.5, 1.0] and i.tolist() == [2, 0, 3, 1]
    assert t.argsort().tolist() == [1, 3, 0, 2]
    assert t.topk(0).values.shape == (0,)


def test_deepcopy_copies_leaves_and_refuses_graph_tensors(device):
    """As PyTorch: a leaf's data, requires_grad and .grad are copied; a tensor with a grad_fn
    raises (a copy.deepcopy of a pruned module's computed weight). It deep-copied the graph."""
    import copy

    x = ad.ones(3, device=device, requires_grad=True)
    x.grad = ad.full((3,), 2.0, device=device)
    y = copy.deepcopy(x)
    assert y.requires_grad and y.is_leaf and y.grad is not x.grad
    y.detach().add_(1)
    y.grad.add_(1)
    assert x.tolist() == [1.0] * 3 and x.grad.tolist() == [2.0] * 3
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(x * 2)
    assert copy.deepcopy((x * 2).detach()).grad_fn is None


def test_format_spec_only_for_0d_tensors(torch):
    """f"{t:.2f}" formats a 0-d tensor's number; any other tensor (one element included) and a
    0-d Parameter take no spec: object.__format__'s TypeError, as PyTorch."""
    for lib in (torch, ad):
        assert f"{lib.tensor(1.5):.2f}" == "1.50" and f"{lib.tensor(1.5)}" == "1.5"
        for t in (lib.ones(1), lib.ones(2, 2), lib.nn.Parameter(lib.tensor(1.0))):
            with pytest.raises(TypeError, match="unsupported format string"):
                f"{t:.2f}"
            assert f"{t}" == str(t)
