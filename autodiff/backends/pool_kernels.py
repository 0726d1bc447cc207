"""Pooling kernels (max and average, forward and adjoint), written with ``self.xp`` so the
NumPy and CuPy backends share them; a base of NNKernels, whose window views (``_windows``,
``_pad4``) and scratch buffers they use. ``pads`` is (top, bottom, left, right).
"""

from __future__ import annotations

import math


class PoolKernels:
    """Mixin: pooling on top of the array module ``self.xp``."""

    # Non-overlapping windows (kernel == stride, the common 2x2/2) take a tiled path: the
    # window argmax is found with a few whole-array compares over long runs (rows of W, then
    # every kw-th element), and dx is one scatter of dy to flat positions. The windowed view
    # + argmax + take/put_along_axis it replaces iterated over kh*kw-element rows, ~5x slower.
    @staticmethod
    def _tiled(shape, kernel, dilation, pads, stride) -> bool:
        return (kernel == stride and dilation == (1, 1) and not any(pads)
                and shape[2] % kernel[0] == 0 and shape[3] % kernel[1] == 0)

    def _tiled_max(self, x, kernel):
        xp = self.xp
        n, c, h, w = x.shape
        (kh, kw), oh, ow = kernel, h // kernel[0], w // kernel[1]
        # (kh, N*C*oh*W): each window row one contiguous plane, so the compares run on long
        # 1-D loops (NumPy is ~10x slower on the W-long rows of the strided view)
        rows = self.contiguous(x.reshape(n * c * oh, kh, w).transpose(1, 0, 2))
        rows = rows.reshape(kh, -1)
        m, ri = rows[0], xp.zeros(rows.shape[1], dtype=xp.intp)
        for i in range(1, kh):  # the first row holding each column's max
            e = rows[i]
            gt = (e > m) | xp.isnan(e)  # a NaN wins (and propagates), as in PyTorch
            ri += gt * (i * kw - ri)  # arithmetic select: np.where is ~10x slower here
            m = xp.maximum(e, m)
        m, ri = m.reshape(-1, kw), ri.reshape(-1, kw)
        best, arg = m[:, 0], ri[:, 0]
        for j in range(1, kw):  # then the column; ties go to the smaller flat index
            e, cand = m[:, j], ri[:, j] + j
            gt = (e > best) | ((e == best) & (cand < arg)) | xp.isnan(e)
            best, arg = xp.maximum(e, best), arg + gt * (cand - arg)
        return best.reshape(n, c, oh, ow), arg.reshape(n, c, oh, ow, 1)

    def _tiled_positions(self, idx, size, kernel):
        """Flat positions in the (N, C, H, W) input of each window's in-window index."""
        xp = self.xp
        n, c, oh, ow, _ = idx.shape
        (kh, kw), w = kernel, size[1]

        def fill(base):  # the flat position of each window's top-left element
            rows = (xp.arange(n * c * oh, dtype=idx.dtype) * (kh * w)).reshape(n, c, oh, 1)
            base[...] = rows + xp.arange(ow, dtype=idx.dtype) * kw

        base = self._scratch(("pool_base", kernel, w), idx.shape[:4], idx.dtype, init=fill)
        row, col = xp.divmod(idx[..., 0], kw)
        row *= w
        row += col
        row += base
        return row

    def max_pool2d(self, x, kernel, dilation, pads, stride):
        """Returns (y, idx): the window maxima and the flat in-window index of each."""
        xp = self.xp
        if self._tiled(x.shape, kernel, dilation, pads, stride):
            return self._tiled_max(x, kernel)
        fill = -math.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        v = self._windows(self._pad4(x, pads, fill), kernel, dilation, stride)
        n, c, kh, kw, oh, ow = v.shape
        win = v.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, oh, ow, kh * kw)
        idx = win.argmax(axis=-1)[..., None]
        return xp.take_along_axis(win, idx, axis=-1)[..., 0], idx

    def max_pool2d_scatter(self, g, idx, size, kernel, dilation, pads, stride):
        """dx of max pooling: each dy added at the position its window's max came from."""
        n, c, oh, ow = g.shape
        if self._tiled((n, c) + tuple(size), kernel, dilation, pads, stride):
            out = self.xp.zeros((n, c) + tuple(size), dtype=g.dtype)
            out.reshape(-1)[self._tiled_positions(idx, size, kernel)] = g
            return out
        kk = kernel[0] * kernel[1]
        cols = self.xp.zeros((n, c, oh, ow, kk), dtype=g.dtype)
        self.xp.put_along_axis(cols, idx, g[..., None], axis=-1)
        cols = cols.transpose(0, 1, 4, 2, 3).reshape(n, c * kk, oh * ow)
        return self.fold(cols, size, kernel, dilation, pads, stride)

    def max_pool2d_gather(self, gx, idx, kernel, dilation, pads, stride):
        """The adjoint of max_pool2d_scatter: gx read at each window's argmax."""
        if self._tiled(gx.shape, kernel, dilation, pads, stride):
            gx = self.contiguous(gx)
            return gx.reshape(-1)[self._tiled_positions(idx, gx.shape[2:], kernel)]
        v = self._windows(self._pad4(gx, pads), kernel, dilation, stride)
        n, c, kh, kw, oh, ow = v.shape
        win = v.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, oh, ow, kh * kw)
        return self.xp.take_along_axis(win, idx, axis=-1)[..., 0]

    def _avg_divisor(self, div_h, div_w, dtype):
        """Each output's divisor div_h[oy] * div_w[ox]: a scalar when they are all equal."""
        import numpy as np

        d = np.outer(np.asarray(div_h, dtype=np.float64), np.asarray(div_w, dtype=np.float64))
        if d.size and (d == d.flat[0]).all():
            return dtype.type(d.flat[0])
        return self.xp.asarray(d.astype(dtype))

    def avg_pool2d(self, x, kernel, pads, stride, div_h, div_w):
        """Average pooling: each window's in-image sum (row-major window order, as PyTorch
        adds) divided by div_h[oy] * div_w[ox]."""
        v = self._windows(self._pad4(x, pads), kernel, (1, 1), stride)
        total = v[:, :, 0, 0].copy()
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                if i or j:
                    total += v[:, :, i, j]
        return total / self._avg_divisor(div_h, div_w, x.dtype)

    def avg_pool2d_backward(self, gy, size, kernel, pads, stride, div_h, div_w):
        """The adjoint of avg_pool2d: each gy / divisor added over its window."""
        (kh, kw), (sh, sw) = kernel, stride
        pt, pb, pl, pr = pads
        n, c, oh, ow = gy.shape
        hp, wp = size[0] + pt + pb, size[1] + pl + pr
        share = gy / self._avg_divisor(div_h, div_w, gy.dtype)
        out = self.xp.zeros((n, c, hp, wp), dtype=gy.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += share
        if pt or pb or pl or pr:
            out = self.contiguous(out[:, :, pt:hp - pb, pl:wp - pr])
        return out
