"""Eighteenth session's PyTorch-parity fixes: ``Tensor.shape`` is an ``autodiff.Size``, as
``torch.Size``: ``numel()``, and slices and sums that stay Sizes."""

import pytest

import autodiff as ad

torch = pytest.importorskip("torch")


def test_shape_is_a_size_like_torch(device):
    x = ad.randn(2, 3, 4, device=device)
    t = torch.randn(2, 3, 4)
    s = x.shape
    assert isinstance(s, ad.Size) and isinstance(s, tuple)
    assert s == t.shape == (2, 3, 4) and hash(s) == hash((2, 3, 4))
    assert s.numel() == t.shape.numel() == 24
    for got, want in [(s[1:], t.shape[1:]), (s[::-1], t.shape[::-1]), (s + (5,), t.shape + (5,)),
                      ((1,) + s, (1,) + t.shape), (s * 2, t.shape * 2), (2 * s, 2 * t.shape)]:
        assert isinstance(got, ad.Size) and type(want) is torch.Size and tuple(got) == tuple(want)
    assert s[0] == 2 and type(s[0]) is int and s[-1] == 4
    assert repr(s) == "autodiff.Size([2, 3, 4])" and repr(t.shape) == "torch.Size([2, 3, 4])"
    assert x.size() == s and x.size(1) == 3


def test_a_tensor_of_a_shape_is_uninitialized_of_that_shape(device):
    # torch.Tensor(x.shape) allocates that shape (a Size is sizes, a plain tuple is data)
    x = ad.zeros(2, 5, device=device)
    assert ad.Tensor(x.shape).shape == tuple(torch.Tensor(torch.zeros(2, 5).shape).shape) == (2, 5)
    assert ad.zeros(x.shape).shape == (2, 5) and ad.ones(x.shape[1:]).shape == (5,)
