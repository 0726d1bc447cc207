"""The 3-D layers (Conv3d, ConvTranspose3d, 3-D pooling, BatchNorm3d, InstanceNorm3d),
EmbeddingBag and MultiLabelMarginLoss against PyTorch with the same weights: outputs, input
and parameter gradients on every device; representative cases gradchecked (and
gradgradchecked) in float64."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import compare_with_torch, gradcheck_module

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn

R = np.random.default_rng(0)


def rn(*shape):
    return R.standard_normal(shape)


def sized_call(output_size):
    return lambda module, x: module(x, output_size=output_size)


CASES = [
    # convolutions: odd sizes, strides, padding, dilation, groups, unbatched, padding modes
    ("conv3d", lambda m: m.Conv3d(2, 3, 3), [rn(2, 2, 4, 5, 6)]),
    ("conv3d_stride_pad_dil", lambda m: m.Conv3d(2, 4, (3, 2, 3), stride=(2, 1, 2),
                                                 padding=(1, 0, 2), dilation=(1, 2, 1)),
     [rn(2, 2, 5, 6, 7)]),
    ("conv3d_groups_nobias", lambda m: m.Conv3d(4, 6, 2, groups=2, bias=False),
     [rn(1, 4, 3, 4, 3)]),
    ("conv3d_same", lambda m: m.Conv3d(2, 2, (2, 3, 4), padding="same", dilation=(2, 1, 1)),
     [rn(1, 2, 5, 4, 6)]),
    ("conv3d_valid_unbatched", lambda m: m.Conv3d(3, 2, 2, padding="valid"), [rn(3, 3, 4, 5)]),
    ("conv3d_reflect", lambda m: m.Conv3d(2, 2, 3, padding=1, padding_mode="reflect"),
     [rn(1, 2, 3, 4, 5)]),
    ("conv3d_circular_same", lambda m: m.Conv3d(1, 2, 3, padding="same",
                                                padding_mode="circular"), [rn(1, 1, 4, 3, 5)]),
    ("conv_transpose3d", lambda m: m.ConvTranspose3d(2, 3, 3), [rn(2, 2, 3, 4, 3)]),
    ("conv_transpose3d_stride_pad", lambda m: m.ConvTranspose3d(
        4, 6, (3, 2, 3), stride=(2, 3, 1), padding=(1, 0, 1), output_padding=(1, 1, 0),
        groups=2, dilation=(1, 1, 2)), [rn(2, 4, 3, 4, 3)]),
    ("conv_transpose3d_unbatched_nobias", lambda m: m.ConvTranspose3d(
        3, 2, 2, stride=3, padding=2, dilation=2, output_padding=1, bias=False),
     [rn(3, 3, 4, 3)]),
    ("conv_transpose3d_output_size", lambda m: m.ConvTranspose3d(2, 2, 3, stride=2),
     [rn(1, 2, 2, 3, 2)], sized_call((6, 8, 5))),
    # pooling
    ("maxpool3d", lambda m: m.MaxPool3d(2), [rn(2, 3, 5, 6, 7)]),
    ("maxpool3d_all_options", lambda m: m.MaxPool3d((3, 2, 3), (2, 1, 2), 1, (1, 2, 1),
                                                    return_indices=True, ceil_mode=True),
     [rn(2, 2, 5, 6, 7)]),
    ("maxpool3d_unbatched_indices", lambda m: m.MaxPool3d(3, 2, 1, return_indices=True),
     [rn(3, 5, 6, 7)]),
    ("avgpool3d", lambda m: m.AvgPool3d(2), [rn(2, 3, 5, 6, 7)]),
    ("avgpool3d_ceil_nopad_count", lambda m: m.AvgPool3d((3, 2, 3), (2, 1, 2), 1,
                                                         ceil_mode=True,
                                                         count_include_pad=False),
     [rn(1, 2, 5, 6, 7)]),
    ("avgpool3d_unbatched_ceil", lambda m: m.AvgPool3d(3, 2, 1, ceil_mode=True),
     [rn(3, 5, 6, 7)]),
    ("avgpool3d_divisor", lambda m: m.AvgPool3d(3, 2, 1, divisor_override=5),
     [rn(1, 3, 5, 6, 7)]),
    ("adaptive_avgpool3d", lambda m: m.AdaptiveAvgPool3d((2, 3, None)), [rn(2, 3, 5, 7, 6)]),
    ("adaptive_avgpool3d_unbatched_up", lambda m: m.AdaptiveAvgPool3d(4), [rn(3, 5, 3, 6)]),
    ("adaptive_maxpool3d", lambda m: m.AdaptiveMaxPool3d((2, 3, 4), return_indices=True),
     [rn(2, 3, 5, 7, 6)]),
    ("adaptive_maxpool3d_unbatched", lambda m: m.AdaptiveMaxPool3d(2), [rn(3, 4, 7, 6)]),
    # normalization (training mode: batch statistics and running-stat updates)
    ("batchnorm3d", lambda m: m.BatchNorm3d(3), [rn(2, 3, 3, 4, 2)]),
    ("batchnorm3d_noaffine", lambda m: m.BatchNorm3d(2, affine=False, momentum=None),
     [rn(3, 2, 2, 3, 2)]),
    ("instancenorm3d", lambda m: m.InstanceNorm3d(3), [rn(2, 3, 3, 4, 2)]),
    ("instancenorm3d_affine_track", lambda m: m.InstanceNorm3d(
        2, affine=True, track_running_stats=True), [rn(2, 2, 3, 2, 3)]),
    ("instancenorm3d_unbatched", lambda m: m.InstanceNorm3d(2), [rn(2, 3, 2, 3)]),
    # multilabel margin loss (repeated labels, all-label rows, -1 terminated rows)
    ("multilabel_margin", lambda m: m.MultiLabelMarginLoss(),
     [0.3 * rn(3, 5), np.array([[3, 3, -1, 1, 0], [0, 1, 2, 3, 4], [4, 2, -1, -1, -1]])]),
    ("multilabel_margin_sum", lambda m: m.MultiLabelMarginLoss(reduction="sum"),
     [0.3 * rn(2, 4), np.array([[1, -1, 0, 0], [2, 0, 3, -1]])]),
    ("multilabel_margin_none_1d", lambda m: m.MultiLabelMarginLoss(reduction="none"),
     [0.3 * rn(5), np.array([4, 0, -1, 1, 1])]),
]
NO_GRADCHECK = {"batchnorm3d_noaffine"}  # momentum=None counts batches: not a pure function


def _params(cases):
    return [pytest.param(c[1], c[2], c[3] if len(c) > 3 else None, id=c[0]) for c in cases]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's, on
@pytest.mark.parametrize("ctor,inputs,call", _params(CASES))  # the asymmetric 'same' case
def test_layer_matches_torch(ctor, inputs, call, device, torch):
    compare_with_torch(ctor(nn), ctor(torch.nn), inputs, device, torch, call=call)


GRADCHECK = ["conv3d_stride_pad_dil", "conv3d_groups_nobias", "conv_transpose3d_stride_pad",
             "maxpool3d_all_options", "avgpool3d_ceil_nopad_count", "adaptive_avgpool3d",
             "adaptive_maxpool3d_unbatched", "instancenorm3d_affine_track", "multilabel_margin"]


def _small(inputs):
    """Shrink the batch to one sample to keep finite differences fast."""
    return [a[:1] if a.ndim >= 4 and a.dtype.kind == "f" else a for a in inputs]


@pytest.mark.parametrize("ctor,inputs,call", _params(
    [c for c in CASES if c[0] in GRADCHECK]))
def test_layer_gradcheck(ctor, inputs, call, cpu_device):
    module = ctor(nn)
    module.eval() if isinstance(module, nn.BatchNorm3d) else None
    gradcheck_module(module, _small(inputs), cpu_device)


def test_conv3d_gradgradcheck():
    x = ad.tensor(rn(1, 2, 3, 4, 3), requires_grad=True)
    w = ad.tensor(rn(2, 1, 2, 2, 2), requires_grad=True)
    b = ad.tensor(rn(2), requires_grad=True)
    fn = lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2)
    assert ad.autograd.gradgradcheck(fn, (x, w, b))
    wt = ad.tensor(rn(2, 1, 2, 2, 2), requires_grad=True)
    fnt = lambda x, w: F.conv_transpose3d(x, w, None, stride=2, padding=1, groups=2)
    assert ad.autograd.gradgradcheck(fnt, (x, wt))


def test_pool3d_gradgradcheck():
    x = ad.tensor(rn(1, 2, 4, 3, 5), requires_grad=True)
    assert ad.autograd.gradgradcheck(lambda x: F.max_pool3d(x, 2, 1, 1), (x,))
    assert ad.autograd.gradgradcheck(lambda x: F.avg_pool3d(x, 2, 2, 1, True, False), (x,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("layout", ["offsets", "2d_padding", "last_offset_padding"])
def test_embedding_bag_matches_torch(mode, layout, device, torch):
    w = rn(10, 3)
    if layout == "offsets":
        idx, kw = np.array([1, 2, 4, 5, 4, 3, 2, 9]), {"offsets": np.array([0, 2, 2, 5])}
    elif layout == "2d_padding":
        idx, kw = np.array([[1, 2, 4], [5, 4, 3], [4, 4, 4]]), {"padding_idx": 4}
    else:
        idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
        kw = {"offsets": np.array([0, 2, 2, 5, 8]), "padding_idx": 2,
              "include_last_offset": True}

    def run(lib, bag_mod):
        bag = bag_mod.EmbeddingBag(10, 3, mode=mode, padding_idx=kw.get("padding_idx"),
                                   include_last_offset=kw.get("include_last_offset", False))
        wt = lib.tensor(w)
        bag.weight.data = wt if lib is not ad else wt.to(device)
        off = kw.get("offsets")
        x = lib.tensor(idx) if lib is not ad else ad.tensor(idx, device=device)
        o = None if off is None else (lib.tensor(off) if lib is not ad
                                      else ad.tensor(off, device=device))
        y = bag(x, o)
        g = np.random.default_rng(1).standard_normal(tuple(y.shape))
        (y * (lib.tensor(g) if lib is not ad else ad.tensor(g, device=device))).sum().backward()
        return y.detach().cpu().numpy(), bag.weight.grad.cpu().numpy()

    (ya, ga), (yt, gt) = run(ad, nn), run(torch, torch.nn)
    np.testing.assert_allclose(ya, yt, atol=1e-12)
    np.testing.assert_allclose(ga, gt, atol=1e-12)


def test_embedding_bag_per_sample_weights(device, torch):
    w, p = rn(10, 3), rn(8)
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3])
    wa = ad.tensor(w, device=device, requires_grad=True)
    pa = ad.tensor(p, device=device, requires_grad=True)
    ya = F.embedding_bag(ad.tensor(idx, device=device), wa, ad.tensor(off, device=device),
                         mode="sum", per_sample_weights=pa)
    wt, pt = torch.tensor(w, requires_grad=True), torch.tensor(p, requires_grad=True)
    yt = torch.nn.functional.embedding_bag(torch.tensor(idx), wt, torch.tensor(off),
                                           mode="sum", per_sample_weights=pt)
    np.testing.assert_allclose(ya.detach().cpu().numpy(), yt.detach().numpy(), atol=1e-12)
    (ya * ya).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(wa.grad.cpu().numpy(), wt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(pa.grad.cpu().numpy(), pt.grad.numpy(), atol=1e-12)
    with pytest.raises(NotImplementedError):
        F.embedding_bag(ad.tensor(idx), wa, ad.tensor(off), mode="mean", per_sample_weights=pa)


def test_embedding_bag_gradcheck():
    w = ad.tensor(rn(6, 2), requires_grad=True)
    p = ad.tensor(rn(5), requires_grad=True)
    idx, off = ad.tensor([1, 2, 4, 5, 1]), ad.tensor([0, 2])
    assert ad.autograd.gradcheck(
        lambda w, p: F.embedding_bag(idx, w, off, mode="sum", per_sample_weights=p), (w, p))
    assert ad.autograd.gradcheck(lambda w: F.embedding_bag(idx, w, off, mode="max"), (w,))


def test_dropout3d_zeroes_whole_channels():
    x = ad.ones(4, 6, 2, 3, 2)
    y = nn.Dropout3d(0.5)(x).numpy()
    per_channel = y.reshape(4, 6, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0 < (per_channel == 0).all(-1).sum() < 24
    m = nn.Dropout3d(0.5).eval()
    assert m(x) is x or np.array_equal(m(x).numpy(), x.numpy())
    assert nn.Dropout3d(0.3)(ad.ones(6, 2, 2, 2)).shape == (6, 2, 2, 2)


def test_errors():
    with pytest.raises(ValueError, match="strided"):
        F.conv3d(ad.randn(1, 1, 4, 4, 4), ad.randn(1, 1, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose3d(ad.randn(1, 1, 2, 2, 2), ad.randn(1, 1, 2, 2, 2), output_padding=1)
    with pytest.raises(ad.errors.ShapeError):
        F.max_pool3d(ad.randn(2, 3, 4), 2)
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(ad.tensor([[1, 2]]), ad.randn(4, 2), ad.tensor([0]))
