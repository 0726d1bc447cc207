"""The module forms of CTC loss, alpha dropout, fractional / LP / unpool 3-D pooling, the
distance-function triplet loss and SyncBatchNorm: each calls its functional form with its
settings, and SyncBatchNorm.convert_sync_batchnorm keeps the converted layers' tensors."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn


def test_modules_match_their_functional_forms():
    ad.manual_seed(0)
    lp = ad.randn(6, 2, 4).log_softmax(2)
    tg, il, tl = ad.tensor([[1, 2], [3, 1]]), [6, 5], [2, 2]
    for red in ("mean", "sum", "none"):
        np.testing.assert_allclose(nn.CTCLoss(reduction=red)(lp, tg, il, tl).numpy(),
                                   F.ctc_loss(lp, tg, il, tl, reduction=red).numpy())
    x = ad.randn(2, 3, 8, 8, 8)
    np.testing.assert_allclose(nn.LPPool3d(2, 2)(x.abs()).numpy(),
                               F.lp_pool3d(x.abs(), 2, 2).numpy())
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    np.testing.assert_array_equal(nn.MaxUnpool3d(2)(y, idx).numpy(),
                                  F.max_unpool3d(y, idx, 2).numpy())
    s = ad.rand(2, 3, 3)
    pool = nn.FractionalMaxPool3d(2, output_size=3, return_indices=True, _random_samples=s)
    for got, want in zip(pool(x), F.fractional_max_pool3d(x, 2, 3, None, True, s)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert nn.FractionalMaxPool2d(3, output_ratio=0.5)(x[:, :, 0]).shape == (2, 3, 4, 4)
    a, p, n = ad.randn(3, 4, 5)
    np.testing.assert_allclose(
        nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True)(a, p, n).numpy(),
        F.triplet_margin_with_distance_loss(a, p, n, margin=0.5, swap=True).numpy())
    drop = nn.AlphaDropout(0.3)
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    drop.train()
    assert not np.array_equal(drop(x).numpy(), x.numpy())
    assert nn.FeatureAlphaDropout(0.3)(x).shape == x.shape
    with pytest.raises(ValueError, match="either an output size, or a pooling ratio"):
        nn.FractionalMaxPool2d(2)


def test_sync_batchnorm_and_conversion():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                          nn.Sequential(nn.BatchNorm1d(4)))
    bn = model[1]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm)
    assert isinstance(converted[2][0], nn.SyncBatchNorm)
    assert converted[1].weight is bn.weight and converted[1].running_mean is bn.running_mean
    x = ad.randn(8, 4, 3, 3, 3)
    sync, plain = nn.SyncBatchNorm(4), nn.BatchNorm3d(4)
    np.testing.assert_allclose(sync(x).detach().numpy(), plain(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(sync.running_var.numpy(), plain.running_var.numpy(), rtol=1e-6)
    assert sorted(sync.state_dict()) == sorted(plain.state_dict())
    with pytest.raises(ad.ShapeError, match="expected at least 2D input"):
        sync(ad.randn(4))
