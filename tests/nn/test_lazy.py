"""Lazy layers against PyTorch's: uninitialized parameters and repr before the first forward;
after it, the regular class, shapes, repr, state_dict keys, forward and gradients."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from nn_helpers import compare_with_torch

import autodiff as ad
import autodiff.nn as nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
CASES = {  # name: (constructor args, input shape)
    "LazyLinear": ((3,), (2, 5)),
    "LazyConv1d": ((4, 3), (2, 3, 8)),
    "LazyConv2d": ((4, 3), (2, 3, 6, 6)),
    "LazyConv3d": ((4, 2), (1, 3, 4, 4, 4)),
    "LazyConvTranspose1d": ((4, 3), (2, 3, 5)),
    "LazyConvTranspose2d": ((4, 3), (2, 3, 4, 4)),
    "LazyConvTranspose3d": ((2, 2), (1, 3, 3, 3, 3)),
    "LazyBatchNorm1d": ((), (4, 3)),
    "LazyBatchNorm2d": ((), (4, 3, 2, 2)),
    "LazyBatchNorm3d": ((), (2, 3, 2, 2, 2)),
    "LazyInstanceNorm1d": ((), (2, 3, 5)),
    "LazyInstanceNorm2d": ((), (2, 3, 4, 4)),
    "LazyInstanceNorm3d": ((), (2, 3, 2, 2, 2)),
}


def _repr(m) -> str:
    # torch >= 2.6 norms print a ``bias=`` argument our norms do not take
    return repr(m).replace(", bias=True, track", ", track")


@pytest.mark.parametrize("name", list(CASES))
def test_lazy_layer_matches_torch(name, cpu_device):
    args, shape = CASES[name]
    a, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert _repr(a) == _repr(t)
    assert list(a.state_dict()) == list(t.state_dict())
    assert [type(p).__name__ for p in a.parameters()] == [type(p).__name__ for p in
                                                           t.parameters()]
    assert repr(a.weight) == repr(t.weight) == "<UninitializedParameter>"
    assert a.has_uninitialized_params()
    x = RNG.standard_normal(shape).astype(np.float32)
    ya, yt = a(ad.tensor(x)), t(torch.tensor(x))
    assert type(a).__name__ == type(t).__name__ == name[4:]
    assert type(a) is getattr(nn, name[4:])
    assert ya.shape == tuple(yt.shape) and _repr(a) == _repr(t)
    assert list(a.state_dict()) == list(t.state_dict())
    for (ka, pa), (kt, pt) in zip(a.state_dict().items(), t.state_dict().items()):
        assert ka == kt and pa.shape == tuple(pt.shape) and pa.dtype.name == str(pt.dtype)[6:]
    assert all(type(p) is nn.Parameter for p in a.parameters())
    assert not a._forward_pre_hooks
    compare_with_torch(a, t, [x.astype(np.float64)], cpu_device, torch)  # forward, grads


def test_lazy_linear_infers_from_the_last_dim_and_keeps_dtype():
    m = nn.LazyLinear(2, bias=False, dtype=ad.float64)
    assert m.bias is None and list(m.state_dict()) == ["weight"]
    m(ad.randn(3, 4, 7, dtype=ad.float64))
    assert m.in_features == 7 and m.weight.shape == (2, 7) and m.weight.dtype == ad.float64
    lazy = nn.LazyLinear(2).to(ad.float64)
    lazy(ad.randn(1, 3, dtype=ad.float64))
    assert lazy.weight.dtype == ad.float64


def test_lazy_batchnorm_to_dtype_before_forward():
    m = nn.LazyBatchNorm1d().to(ad.float64)
    m(ad.randn(4, 3, dtype=ad.float64))
    assert m.running_mean.dtype == ad.float64 and m.running_mean.shape == (3,)
    assert type(m.running_mean) is ad.Tensor and int(m.num_batches_tracked.item()) == 1


def test_lazy_conv_unbatched_input_and_errors():
    m = nn.LazyConv2d(4, 3)
    assert m(ad.randn(3, 5, 5)).shape == (4, 3, 3) and m.in_channels == 3
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D .batched. input"):
        nn.LazyConv2d(4, 3)(ad.randn(5, 5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(ad.randn(1, 3, 5, 5))


def test_uninitialized_parameter_behaviour():
    m = nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        m.weight.shape
    c = copy.deepcopy(m)
    assert isinstance(c.weight, nn.UninitializedParameter) and c.weight is not m.weight
    p = nn.UninitializedParameter()
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.requires_grad
    b = nn.UninitializedBuffer()
    b.materialize((4,), dtype=ad.float64)
    assert type(b) is ad.Tensor and b.dtype == ad.float64 and not b.requires_grad
    with pytest.raises(ValueError, match="uninitialized parameters"):
        nn.utils.spectral_norm(nn.LazyLinear(3))


def test_load_state_dict_materializes_a_lazy_layer():
    t = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.BatchNorm1d(3))
    a = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d())
    a.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    assert a[0].weight.shape == (3, 5) and not a[0].has_uninitialized_params()
    x = RNG.standard_normal((4, 5)).astype(np.float32)
    a.eval()
    t.eval()
    np.testing.assert_allclose(a(ad.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(a[0]) == repr(t[0]) and type(a[1]) is nn.BatchNorm1d
