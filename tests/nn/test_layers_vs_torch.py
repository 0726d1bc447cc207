"""Every layer against PyTorch with copied weights: outputs, input and parameter gradients,
buffers (train and eval), and a float64 gradcheck on every CPU device."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import compare_with_torch, gradcheck_module

import autodiff.nn as nn

R = np.random.default_rng(0)
# PyTorch's notice about even kernels with padding="same"
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def rn(*shape):
    return R.standard_normal(shape)


# (id, constructor taking the nn namespace, input arrays)
CASES = [
    ("linear", lambda m: m.Linear(4, 3), [rn(2, 4)]),
    ("linear_nobias_3d", lambda m: m.Linear(4, 3, bias=False), [rn(2, 2, 4)]),
    ("bilinear", lambda m: m.Bilinear(3, 2, 4), [rn(2, 3), rn(2, 2)]),
    ("conv1d", lambda m: m.Conv1d(2, 3, 3, stride=2, padding=1), [rn(2, 2, 7)]),
    ("conv1d_same_dil", lambda m: m.Conv1d(2, 4, 3, padding="same", dilation=2, groups=2),
     [rn(1, 2, 6)]),
    ("conv2d", lambda m: m.Conv2d(2, 3, 3, padding=1), [rn(2, 2, 5, 5)]),
    ("conv2d_stride_dil", lambda m: m.Conv2d(2, 2, (3, 2), stride=(2, 1), dilation=(1, 2),
                                             padding=(1, 0)), [rn(1, 2, 6, 5)]),
    ("conv2d_same_even", lambda m: m.Conv2d(2, 2, 4, padding="same"), [rn(1, 2, 5, 5)]),
    ("conv2d_groups", lambda m: m.Conv2d(4, 6, 3, groups=2, bias=False), [rn(1, 4, 4, 4)]),
    ("conv2d_depthwise", lambda m: m.Conv2d(3, 3, 3, groups=3, padding=1), [rn(1, 3, 4, 4)]),
    ("conv2d_reflect", lambda m: m.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"),
     [rn(1, 2, 4, 4)]),
    ("conv2d_circular", lambda m: m.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
     [rn(1, 1, 4, 4)]),
    ("conv_transpose2d", lambda m: m.ConvTranspose2d(2, 3, 3, stride=2, padding=1,
                                                     output_padding=1), [rn(1, 2, 3, 3)]),
    ("conv_transpose2d_groups", lambda m: m.ConvTranspose2d(4, 2, 2, groups=2, dilation=2),
     [rn(1, 4, 3, 3)]),
    ("maxpool2d", lambda m: m.MaxPool2d(2), [rn(1, 2, 4, 4)]),
    ("maxpool2d_pad_ceil", lambda m: m.MaxPool2d(3, 2, padding=1, ceil_mode=True),
     [rn(1, 1, 6, 5)]),
    ("maxpool1d", lambda m: m.MaxPool1d(3, 2), [rn(1, 2, 7)]),
    ("avgpool2d", lambda m: m.AvgPool2d(3, 2, padding=1, count_include_pad=False),
     [rn(1, 2, 5, 5)]),
    ("avgpool2d_ceil", lambda m: m.AvgPool2d(2, ceil_mode=True), [rn(1, 1, 5, 5)]),
    ("avgpool1d", lambda m: m.AvgPool1d(2), [rn(1, 2, 6)]),
    ("adaptive_avgpool2d", lambda m: m.AdaptiveAvgPool2d((2, 3)), [rn(1, 2, 5, 4)]),
    ("adaptive_avgpool2d_div", lambda m: m.AdaptiveAvgPool2d(2), [rn(1, 2, 4, 4)]),
    ("batchnorm1d", lambda m: m.BatchNorm1d(3), [rn(4, 3)]),
    ("batchnorm1d_3d", lambda m: m.BatchNorm1d(3, momentum=None), [rn(2, 3, 4)]),
    ("batchnorm2d", lambda m: m.BatchNorm2d(2), [rn(2, 2, 3, 3)]),
    ("batchnorm2d_noaffine", lambda m: m.BatchNorm2d(2, affine=False), [rn(2, 2, 2, 2)]),
    ("layernorm", lambda m: m.LayerNorm(4), [rn(2, 3, 4)]),
    ("layernorm_2d", lambda m: m.LayerNorm((3, 4)), [rn(2, 3, 4)]),
    ("groupnorm", lambda m: m.GroupNorm(2, 4), [rn(2, 4, 3)]),
    ("instancenorm1d", lambda m: m.InstanceNorm1d(3), [rn(2, 3, 5)]),
    ("instancenorm2d_affine", lambda m: m.InstanceNorm2d(2, affine=True,
                                                         track_running_stats=True),
     [rn(2, 2, 3, 3)]),
    ("rmsnorm", lambda m: m.RMSNorm(4), [rn(2, 4)]),
    ("rmsnorm_eps", lambda m: m.RMSNorm([2, 3], eps=1e-3), [rn(2, 2, 3)]),
    ("embedding", lambda m: m.Embedding(5, 3, padding_idx=1),
     [np.array([[0, 1, 4], [1, 2, 2]])]),
    ("flatten", lambda m: m.Flatten(), [rn(2, 3, 2)]),
    ("unflatten", lambda m: m.Unflatten(1, (2, 3)), [rn(2, 6)]),
    ("identity", lambda m: m.Identity(), [rn(2, 3)]),
    ("channel_shuffle", lambda m: m.ChannelShuffle(2), [rn(1, 4, 2, 2)]),
    ("pixel_shuffle", lambda m: m.PixelShuffle(2), [rn(1, 8, 2, 3)]),
    ("relu", lambda m: m.ReLU(), [rn(3, 4)]),
    ("leaky_relu", lambda m: m.LeakyReLU(0.2), [rn(3, 4)]),
    ("elu", lambda m: m.ELU(0.5), [rn(3, 4)]),
    ("gelu", lambda m: m.GELU(), [rn(3, 4)]),
    ("gelu_tanh", lambda m: m.GELU("tanh"), [rn(3, 4)]),
    ("silu", lambda m: m.SiLU(), [rn(3, 4)]),
    ("sigmoid", lambda m: m.Sigmoid(), [rn(3, 4)]),
    ("tanh", lambda m: m.Tanh(), [rn(3, 4)]),
    ("softmax", lambda m: m.Softmax(dim=1), [rn(3, 4)]),
    ("log_softmax", lambda m: m.LogSoftmax(dim=0), [rn(3, 4)]),
    ("softplus", lambda m: m.Softplus(beta=2.0, threshold=1.0), [rn(3, 4)]),
    ("sequential", lambda m: m.Sequential(m.Linear(3, 4), m.Tanh(), m.Linear(4, 2)),
     [rn(2, 3)]),
]
NO_GRADCHECK = {"embedding", "maxpool2d_pad_ceil"}


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("ctor,inputs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_layer_matches_torch(ctor, inputs, train, cpu_device, torch):
    compare_with_torch(ctor(nn), ctor(torch.nn), inputs, cpu_device, torch, train=train)


@pytest.mark.parametrize("ctor,inputs", [c[1:] for c in CASES if c[0] not in NO_GRADCHECK],
                         ids=[c[0] for c in CASES if c[0] not in NO_GRADCHECK])
def test_layer_gradcheck(ctor, inputs, cpu_device):
    gradcheck_module(ctor(nn), inputs, cpu_device)


def test_conv2d_double_backward(cpu_device):
    import autodiff as ad
    import autodiff.nn.functional as F

    x = ad.randn(1, 2, 4, 4, dtype=ad.float64, device=cpu_device, requires_grad=True)
    w = ad.randn(4, 1, 3, 3, dtype=ad.float64, device=cpu_device, requires_grad=True)
    b = ad.randn(4, dtype=ad.float64, device=cpu_device, requires_grad=True)
    assert ad.autograd.gradgradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), (x, w, b))
