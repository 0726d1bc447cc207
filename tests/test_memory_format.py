"""memory_format= on Tensor.contiguous / clone / is_contiguous / to, the *_like creators,
empty and Module.to, against PyTorch's strides (channels-last layouts are permuted copies)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")


def _pair(shape=(2, 3, 4, 5)):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    return ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _fmt(lib, name):
    return getattr(lib, name)


@pytest.mark.parametrize("name,shape", [("channels_last", (2, 3, 4, 5)),
                                        ("channels_last_3d", (2, 3, 4, 5, 6))])
def test_tensor_methods_give_torch_strides_values_and_grads(name, shape):
    x, tx = _pair(shape)
    cases = [
        lambda t, m: t.contiguous(memory_format=_fmt(m, name)),
        lambda t, m: t.to(memory_format=_fmt(m, name)),
        lambda t, m: t.contiguous(memory_format=_fmt(m, name)).clone(),
        lambda t, m: t.contiguous(memory_format=_fmt(m, name)).clone(
            memory_format=m.contiguous_format),
        lambda t, m: t.contiguous(memory_format=_fmt(m, name)).contiguous(),
    ]
    for f in cases:
        x.grad, tx.grad = None, None
        a, b = f(x, ad), f(tx, torch)
        assert a.stride() == b.stride()
        assert a.is_contiguous() == b.is_contiguous()
        assert a.is_contiguous(memory_format=_fmt(ad, name)) == b.is_contiguous(
            memory_format=_fmt(torch, name))
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        (a * a).sum().backward()
        (b * b).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                "randn_like"])
def test_like_creators_preserve_or_set_the_layout(fn):
    x = ad.randn(2, 3, 4, 5).contiguous(memory_format=ad.channels_last)
    tx = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert getattr(ad, fn)(x).stride() == getattr(torch, fn)(tx).stride()
    assert getattr(ad, fn)(x, memory_format=ad.contiguous_format).stride() == getattr(torch, fn)(
        tx, memory_format=torch.contiguous_format).stride()
    y = getattr(ad, fn)(ad.randn(2, 3, 4, 5), memory_format=ad.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    leaf = getattr(ad, fn)(x, requires_grad=True)
    assert leaf.is_leaf and leaf.requires_grad


def test_empty_full_like_randint_like_and_module_to():
    assert ad.empty(2, 3, 4, 5, memory_format=ad.channels_last).stride() == torch.empty(
        2, 3, 4, 5, memory_format=torch.channels_last).stride()
    x = ad.randn(2, 3, 4, 5).contiguous(memory_format=ad.channels_last)
    assert ad.full_like(x, 2.0).stride() == (60, 1, 15, 3)
    assert ad.randint_like(x, 5).stride() == (60, 1, 15, 3)
    m = ad.nn.Conv2d(3, 8, 3).to(memory_format=ad.channels_last)
    tm = torch.nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    assert m.weight.stride() == tm.weight.stride() and m.weight.is_leaf
    assert m.bias.stride() == (1,)
    out = m(x)
    out.sum().backward()
    assert out.shape == (2, 8, 2, 3) and m.weight.grad.shape == (8, 3, 3, 3)


def test_wrong_rank_and_wrong_type_raise():
    with pytest.raises(RuntimeError, match="rank 4"):
        ad.randn(2, 3).contiguous(memory_format=ad.channels_last)
    with pytest.raises(TypeError, match="memory_format"):
        ad.randn(2, 3).contiguous(memory_format="channels_last")
