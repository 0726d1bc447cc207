"""conv2d reuses scratch buffers between calls (nn_kernels._scratch): shapes that share a
padded size but differ in height/width must never see another call's stale data."""

from __future__ import annotations

import numpy as np

import autodiff as ad
import autodiff.nn.functional as F


def _conv_ref(x, w, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i:i + kh, j:j + kw], w)
    return out


def test_conv2d_after_other_shapes_with_the_same_padded_size(cpu_device):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2, 3, 3))
    for shape in [(2, 2, 5, 7), (2, 2, 7, 5), (2, 2, 6, 6), (1, 2, 5, 7), (2, 2, 5, 7)]:
        x = rng.standard_normal(shape)
        got = F.conv2d(ad.tensor(x, device=cpu_device), ad.tensor(w, device=cpu_device),
                       padding=1)
        np.testing.assert_allclose(got.numpy(), _conv_ref(x, w, 1), rtol=1e-10, atol=1e-10)
