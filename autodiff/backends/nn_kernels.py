"""Kernels of the nn layers (im2col/col2im lowering of convolutions, pooling, ...), written
with ``self.xp`` so the NumPy and CuPy backends share them. Mixed into NumpyBackend.

Spatial kernels work on (N, C, H, W) arrays; ``pads`` is (top, bottom, left, right) so that
asymmetric ("same" with even kernels) and ceil-mode padding need no extra copy.
"""

from __future__ import annotations

import math
import threading

from .activation_kernels import ActivationKernels
from .fp_quiet import _quiet
from .pool_kernels import PoolKernels
from .resample_kernels import ResampleKernels


def _out_size(n: int, k: int, d: int, s: int) -> int:
    return (n - d * (k - 1) - 1) // s + 1


_SCRATCH = threading.local()
_SCRATCH_ENTRIES = 8


class NNKernels(ActivationKernels, PoolKernels, ResampleKernels):
    """Mixin: nn-layer kernels on top of the array module ``self.xp``."""

    # Large short-lived buffers (padded inputs, the im2col of dy) are reused across calls:
    # a fresh multi-MB array is a fresh mmap or a re-grown heap, and on this VM the page
    # faults of touching it cost more than the copy itself (1.7 ms instead of 0.2 ms for a
    # 2.9 MB im2col inside a CNN step). Per thread, a few entries keyed by (tag, shape,
    # dtype); ``zeroed`` buffers are zero-filled once and callers rewrite only the same
    # interior every time, so their frame stays zero.
    def _scratch(self, tag, shape, dtype, zeroed=False, init=None):
        cache = getattr(_SCRATCH, "bufs", None)
        if cache is None:
            cache = _SCRATCH.bufs = {}
        key = (tag, id(self.xp), self.index, shape, dtype)  # per array module and device
        buf = cache.pop(key, None)
        if buf is None:
            buf = (self.xp.zeros if zeroed else self.xp.empty)(shape, dtype=dtype)
            if init is not None:  # constant contents, computed once
                init(buf)
            while len(cache) >= _SCRATCH_ENTRIES:
                cache.pop(next(iter(cache)))
        cache[key] = buf  # most recently used last
        return buf

    # ------------------------------------------------------------- im2col / col2im
    def _windows(self, x, kernel, dilation, stride):
        """A strided view (N, C, kh, kw, oh, ow) of every window of the padded ``x``."""
        n, c, h, w = x.shape
        (kh, kw), (dh, dw), (sh, sw) = kernel, dilation, stride
        oh, ow = _out_size(h, kh, dh, sh), _out_size(w, kw, dw, sw)
        s0, s1, s2, s3 = x.strides
        return self.xp.lib.stride_tricks.as_strided(
            x, (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw))

    def _pad4(self, x, pads, value=0):
        pt, pb, pl, pr = pads
        if not (pt or pb or pl or pr):
            return x
        return self.xp.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=value)

    def unfold(self, x, kernel, dilation, pads, stride):
        """im2col: (N, C, H, W) -> (N, C*kh*kw, L), L = oh*ow windows in row-major order."""
        v = self._windows(self._pad4(x, pads), kernel, dilation, stride)
        n, c, kh, kw, oh, ow = v.shape
        return v.reshape(n, c * kh * kw, oh * ow)

    def fold(self, cols, size, kernel, dilation, pads, stride):
        """col2im, the adjoint of unfold: sums each column back into its window of an
        (N, C, H, W) array, H, W = ``size``."""
        (kh, kw), (dh, dw), (sh, sw) = kernel, dilation, stride
        pt, pb, pl, pr = pads
        hp, wp = size[0] + pt + pb, size[1] + pl + pr
        oh, ow = _out_size(hp, kh, dh, sh), _out_size(wp, kw, dw, sw)
        n = cols.shape[0]
        c = cols.shape[1] // (kh * kw)
        src = cols.reshape(n, c, kh, kw, oh, ow)
        out = self.xp.zeros((n, c, hp, wp), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                    j * dw:j * dw + sw * (ow - 1) + 1:sw] += src[:, :, i, j]
        if pt or pb or pl or pr:
            out = self.contiguous(out[:, :, pt:hp - pb, pl:wp - pr])
        return out

    def unfold_t(self, x, kernel, dilation, pads, stride):
        """im2col in GEMM-friendly layout: (N, C, H, W) -> (C*kh*kw, N*L), so a convolution
        is one 2-D matmul W (C_out, C*kh*kw) @ cols instead of N batched ones."""
        v = self._windows(self._pad4(x, pads), kernel, dilation, stride)
        n, c, kh, kw, oh, ow = v.shape
        return v.transpose(1, 2, 3, 0, 4, 5).reshape(c * kh * kw, n * oh * ow)

    def fold_t(self, cols, n, size, kernel, dilation, pads, stride):
        """The adjoint of unfold_t: (C*kh*kw, N*L) -> (N, C, H, W)."""
        (kh, kw) = kernel
        c = cols.shape[0] // (kh * kw)
        blocks = cols.reshape(c * kh * kw, n, -1).transpose(1, 0, 2)
        return self.fold(blocks, size, kernel, dilation, pads, stride)

    # Stride-1 convolutions take a "flat" lowering: the input is zero-padded into rows of
    # Wp = W + pl + pr and flattened per image, so the window element (c, i, j) of output
    # (r, s) sits at c*L + (r + i*dh)*Wp + s + j*dw, and every im2col row is one contiguous
    # run of oh*Wp elements (the ow..Wp columns are garbage, cropped after the GEMM). NumPy
    # copies long runs ~10x faster than the ow-long rows of the windowed view (8 elements on
    # an 8x8 image), and the input gradient is a stride-1 convolution of the zero-framed dy
    # with the flipped, transposed kernel (one GEMM with K = C_out*kh*kw) instead of
    # W^T dy + col2im, whose K = C_out GEMM and kh*kw scattered adds were 2-3x slower.
    def _flat_cols(self, x, kernel, dilation, pads, scratch=False):
        """(C*kh*kw, N*oh*Wp) im2col of a stride-1 convolution; returns (cols, (oh, ow, Wp)).
        With ``scratch`` the result is a reused buffer, valid until the next call."""
        xp = self.xp
        n, c, h, w = x.shape
        (kh, kw), (dh, dw) = kernel, dilation
        pt, pb, pl, pr = pads
        hp, wp = h + pt + pb, w + pl + pr
        oh, ow = hp - dh * (kh - 1), wp - dw * (kw - 1)
        size = hp * wp + dw * (kw - 1)  # the last window row reads past the frame
        # the key fixes where the interior lies, so the zero frame is never overwritten
        buf = self._scratch(("pad", pads, h, w), (n, c, size), x.dtype, zeroed=True)
        buf[:, :, :hp * wp].reshape(n, c, hp, wp)[:, :, pt:pt + h, pl:pl + w] = x
        e = buf.itemsize
        v = xp.lib.stride_tricks.as_strided(
            buf, (c, kh, kw, n, oh * wp), (size * e, dh * wp * e, dw * e, c * size * e, e))
        shape = (c * kh * kw, n * oh * wp)
        cols = self._scratch("cols", shape, x.dtype) if scratch else xp.empty(shape, x.dtype)
        xp.copyto(cols.reshape(v.shape), v)
        return cols, (oh, ow, wp)

    def _grouped_matmul(self, w2, cols, groups):
        if groups == 1:
            return self.matmul(w2, cols)
        kg, og = cols.shape[0] // groups, w2.shape[0] // groups
        return self.xp.concatenate([self.matmul(w2[i * og:(i + 1) * og],
                                                cols[i * kg:(i + 1) * kg])
                                    for i in range(groups)], 0)

    def _conv_flat(self, x, w2, kernel, dilation, pads, groups, scratch=False):
        """Stride-1 convolution of x with w2 (C_out, C/groups*kh*kw): (y NCHW, cols)."""
        cols, (oh, ow, wp) = self._flat_cols(x, kernel, dilation, pads, scratch)
        y = self._grouped_matmul(w2, cols, groups)
        oc, n = w2.shape[0], x.shape[0]
        y = y.reshape(oc, n, oh, wp)[:, :, :, :ow].transpose(1, 0, 2, 3)
        return self.contiguous(y), cols

    def _flat_ok(self, kernel, dilation, pads, stride):
        (kh, kw), (dh, dw) = kernel, dilation
        reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
        return (stride == (1, 1) and max(pads[0], pads[1]) <= reach_h
                and max(pads[2], pads[3]) <= reach_w)

    def conv2d_forward(self, x, weight, bias, kernel, dilation, pads, stride, groups):
        """Convolution as im2col + one GEMM per group; returns (y (N, C_out, oh, ow), cols)."""
        oc = weight.shape[0]
        w2 = weight.reshape(oc, -1)
        if self._flat_ok(kernel, dilation, pads, stride):
            y, cols = self._conv_flat(x, w2, kernel, dilation, pads, groups)
        else:
            n = x.shape[0]
            cols = self.unfold_t(x, kernel, dilation, pads, stride)
            y = self._grouped_matmul(w2, cols, groups)
            hp = x.shape[2] + pads[0] + pads[1]
            wp = x.shape[3] + pads[2] + pads[3]
            oh = (hp - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
            ow = (wp - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
            y = self.contiguous(y.reshape(oc, n, oh, ow).transpose(1, 0, 2, 3))
        if bias is not None:
            y += bias.reshape(1, oc, 1, 1)
        return y, cols

    def conv2d_backward(self, g, cols, weight, x_shape, kernel, dilation, pads, stride, groups,
                        need_x, need_w, need_b):
        """Gradients of conv2d_forward: (gx, gw, gb), each None when not needed."""
        if not g.size:  # an empty batch (or output): every gradient is zero
            z = lambda need, shape: self.xp.zeros(shape, g.dtype) if need else None  # noqa: E731
            return z(need_x, x_shape), z(need_w, weight.shape), z(need_b, (weight.shape[0],))
        if self._flat_ok(kernel, dilation, pads, stride):
            return self._conv_flat_backward(g, cols, weight, x_shape, kernel, dilation, pads,
                                            groups, need_x, need_w, need_b)
        oc = weight.shape[0]
        g2 = self.contiguous(g.transpose(1, 0, 2, 3)).reshape(oc, -1)
        w2 = weight.reshape(oc, -1)
        kg, og = w2.shape[1], oc // groups
        gx = gw = gb = None
        if need_b:
            gb = g2.sum(axis=1)
        if need_w:
            parts = [self.matmul(cols[i * kg:(i + 1) * kg], g2[i * og:(i + 1) * og].T).T
                     for i in range(groups)]
            gw = (parts[0] if groups == 1 else self.xp.concatenate(parts, 0))
            gw = self.contiguous(gw).reshape(weight.shape)
        if need_x:
            parts = [self.matmul(self.contiguous(w2[i * og:(i + 1) * og].T),
                                 g2[i * og:(i + 1) * og]) for i in range(groups)]
            gcols = parts[0] if groups == 1 else self.xp.concatenate(parts, 0)
            gx = self.fold_t(gcols, x_shape[0], x_shape[2:], kernel, dilation, pads, stride)
        return gx, gw, gb

    def _conv_flat_backward(self, g, cols, weight, x_shape, kernel, dilation, pads, groups,
                            need_x, need_w, need_b):
        xp = self.xp
        n, oc, oh, ow = g.shape
        cg = weight.shape[1]
        og = oc // groups
        gx = gw = gb = None
        if need_b:
            gb = g.sum(axis=(0, 2, 3))
        if need_w:  # dW = dy cols^T, dy laid out like the forward GEMM output (zero garbage)
            wp = cols.shape[1] // (n * oh)
            g2 = self._scratch(("dy", ow), (oc, n, oh, wp), g.dtype, zeroed=True)
            g2[:, :, :, :ow] = g.transpose(1, 0, 2, 3)  # the ow..wp columns stay zero
            g2 = g2.reshape(oc, -1)
            kg = cols.shape[0] // groups
            parts = [self.matmul(g2[i * og:(i + 1) * og], cols[i * kg:(i + 1) * kg].T)
                     for i in range(groups)]
            gw = (parts[0] if groups == 1 else xp.concatenate(parts, 0)).reshape(weight.shape)
        if need_x:  # dx = dy (framed) correlated with the flipped kernel, C_out <-> C_in/g
            (kh, kw), (dh, dw) = kernel, dilation
            rh, rw = dh * (kh - 1), dw * (kw - 1)
            gpads = (rh - pads[0], rh - pads[1], rw - pads[2], rw - pads[3])
            wt = weight[:, :, ::-1, ::-1].reshape(groups, og, cg, kh, kw).transpose(0, 2, 1, 3, 4)
            wt = self.contiguous(wt).reshape(groups * cg, og * kh * kw)
            gx, _ = self._conv_flat(g, wt, kernel, dilation, gpads, groups, scratch=True)
        return gx, gw, gb

    # ------------------------------------------------------------- normalization
    def layer_norm(self, x, weight, bias, n_norm_dims, eps):
        """Normalize over the last ``n_norm_dims`` dims; returns (y, mean, rstd)."""
        axes = tuple(range(x.ndim - n_norm_dims, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        rstd = 1 / self.xp.sqrt(var + x.dtype.type(eps))
        y = xc * rstd
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        batch = x.shape[: x.ndim - n_norm_dims]
        return y, mean.reshape(batch), rstd.reshape(batch)

    def layer_norm_backward(self, gy, x, mean, rstd, weight, n_norm_dims):
        """Gradients of layer_norm: (gx, gweight or None, gbias or None)."""
        axes = tuple(range(x.ndim - n_norm_dims, x.ndim))
        bshape = mean.shape + (1,) * n_norm_dims
        mean, rstd = mean.reshape(bshape), rstd.reshape(bshape)
        xhat = (x - mean) * rstd
        batch_axes = tuple(range(x.ndim - n_norm_dims))
        gw = gb = None
        if weight is not None:
            gw = (gy * xhat).sum(axis=batch_axes)
            gb = gy.sum(axis=batch_axes)
            g = gy * weight
        else:
            g = gy
        gx = rstd * (g - g.mean(axis=axes, keepdims=True)
                     - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        return gx, gw, gb

    def batch_norm_stats(self, x, axes):
        """Mean and biased variance over ``axes``, both with keepdims=True."""
        if x.dtype.kind == "f" and x.dtype.itemsize < 8 and x.size:
            mean, s1, s2 = self._shifted_moments(x, axes, True)
            n = x.size // mean.size
            return mean.astype(x.dtype), ((s2 - s1 * s1 / n) / n).astype(x.dtype)
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        return mean, (xc * xc).mean(axis=axes, keepdims=True)

    def batch_norm(self, x, weight, bias, mean, var, eps):
        """Normalize with the batch statistics ``mean``, ``var`` (keepdims, from
        batch_norm_stats) and apply the per-channel affine: returns (y, rstd)."""
        rstd = 1 / self.xp.sqrt(var + x.dtype.type(eps))
        scale = rstd if weight is None else rstd * weight.reshape(mean.shape)
        shift = -mean * scale
        if bias is not None:
            shift = shift + bias.reshape(mean.shape)
        return self.channel_affine(x, scale, shift), rstd

    def channel_affine(self, x, scale, shift):
        """x * scale + shift, scale and shift per channel of (N, C, ...) (keepdims shape)."""
        return x * scale + shift

    def batch_norm_backward(self, gy, x, mean, rstd, weight, axes):
        """Gradients of y = (x - mean) * rstd * w + b with batch statistics over ``axes``
        (mean, rstd keepdims): (gx, gw or None, gb or None), gw/gb flattened."""
        xhat = (x - mean) * rstd
        gb = gy.sum(axis=axes, keepdims=True)
        gw = (gy * xhat).sum(axis=axes, keepdims=True)
        m = x.size // mean.size
        scale = rstd if weight is None else rstd * weight.reshape(mean.shape)
        gx = scale * (gy - gb / m - xhat * (gw / m))
        return gx, gw.reshape(-1), gb.reshape(-1)

    # ------------------------------------------------------------- special functions
    def erf(self, a):
        xp = self.xp
        if xp.__name__ == "numpy":
            try:
                from scipy.special import erf
            except ImportError:  # exact but slow: math.erf element by element
                return xp.vectorize(math.erf, otypes=[a.dtype])(a)
            return erf(a).astype(a.dtype, copy=False)
        from cupyx.scipy.special import erf

        return erf(a)

    def gelu(self, x, approximate):
        half = x.dtype.type(0.5)
        if approximate == "tanh":
            c = x.dtype.type(math.sqrt(2.0 / math.pi))
            return half * x * (1 + self.xp.tanh(c * (x + x.dtype.type(0.044715) * x * x * x)))
        return half * x * (1 + self.erf(x * x.dtype.type(1 / math.sqrt(2.0))))

    def gelu_backward(self, x, g, approximate):
        xp, t = self.xp, x.dtype.type
        if approximate == "tanh":
            c = t(math.sqrt(2.0 / math.pi))
            th = xp.tanh(c * (x + t(0.044715) * x * x * x))
            d = t(0.5) * (1 + th) + t(0.5) * x * (1 - th * th) * c * (1 + t(3 * 0.044715) * x * x)
            return g * d
        cdf = t(0.5) * (1 + self.erf(x * t(1 / math.sqrt(2.0))))
        pdf = xp.exp(t(-0.5) * x * x) * t(1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)

    def silu(self, x):
        return x * self.sigmoid(x)

    def silu_backward(self, x, g):
        s = self.sigmoid(x)
        return g * (s * (1 + x * (1 - s)))

    def abs_backward(self, x, g):
        return g * self.xp.sign(x)

    @_quiet
    def output_backward(self, op, y, g):
        """dx of sigmoid / tanh / sqrt from their output y."""
        if op == "sigmoid":
            return g * y * (1 - y)
        return g * (1 - y * y) if op == "tanh" else self.div(g, 2 * y)  # x/0: inf, silently

    # ------------------------------------------------------------- init
    def orthogonal_from(self, a):
        """Q of a's reduced QR decomposition with the signs of R's diagonal folded in
        (a uniformly distributed orthogonal matrix for Gaussian ``a``; rows >= cols)."""
        q, r = self.xp.linalg.qr(a)
        d = self.xp.sign(self.xp.diagonal(r))
        d[d == 0] = 1
        return self.contiguous(q * d[None, :]).astype(a.dtype, copy=False)

    # ------------------------------------------------------------- recurrent layers
    def rnn_forward(self, mode, xproj, h0, c0, w_hh, b_hh, reverse):
        """One recurrent layer over a whole sequence (the time loop in the backend, the
        hidden-to-hidden product on ``self.matmul``, so the C++ GEMM runs it on "cpp").

        Args:
            mode: "LSTM" (gates i, f, g, o), "GRU" (r, z, n), "RNN_TANH" or "RNN_RELU".
            xproj: (L, N, G*H) input projections x W_ih^T + b_ih.
            h0, c0: (N, H) initial state (c0 for LSTM only); w_hh: (G*H, H); b_hh or None.
        Returns:
            (y, cache): y is (L, N, H) hidden states, (L, N, 2H) [h | c] for LSTM.
        """
        if mode == "LSTM":
            return self._lstm_forward(xproj, h0, c0, w_hh, b_hh, reverse)
        xp = self.xp
        n_steps, n, _ = xproj.shape
        hid = h0.shape[-1]
        w_t = self.contiguous(w_hh.T)
        y = xp.empty((n_steps, n, 2 * hid if mode == "LSTM" else hid), dtype=xproj.dtype)
        acts = xp.empty_like(xproj) if mode in ("LSTM", "GRU") else None
        hn_all = xp.empty((n_steps, n, hid), dtype=xproj.dtype) if mode == "GRU" else None
        h, c = h0, c0
        for t in (range(n_steps - 1, -1, -1) if reverse else range(n_steps)):
            gh = self.matmul(h, w_t)
            if b_hh is not None:
                gh += b_hh
            if mode == "LSTM":
                gates = xproj[t] + gh
                a = acts[t]
                a[...] = self.sigmoid(gates)
                a[:, 2 * hid:3 * hid] = self.tanh(gates[:, 2 * hid:3 * hid])
                i, f, g, o = (a[:, k * hid:(k + 1) * hid] for k in range(4))
                c = f * c + i * g
                y[t, :, hid:] = c
                h = o * self.tanh(c)
                y[t, :, :hid] = h
            elif mode == "GRU":
                a = acts[t]
                a[:, :2 * hid] = self.sigmoid(xproj[t, :, :2 * hid] + gh[:, :2 * hid])
                r, z = a[:, :hid], a[:, hid:2 * hid]
                hn_all[t] = gh[:, 2 * hid:]
                a[:, 2 * hid:] = self.tanh(xproj[t, :, 2 * hid:] + r * hn_all[t])
                nt = a[:, 2 * hid:]
                h = nt + z * (h - nt)
                y[t] = h
            else:
                pre = xproj[t] + gh
                h = self.tanh(pre) if mode == "RNN_TANH" else xp.maximum(pre, 0)
                y[t] = h
        return y, (acts, hn_all)

    def rnn_backward(self, mode, gy, y, cache, h0, c0, w_hh, reverse):
        """Backpropagation through time for ``rnn_forward``: returns
        (d xproj, d h0, d c0 or None, d w_hh, d b_hh)."""
        if mode == "LSTM":
            return self._lstm_backward(gy, y, cache, h0, c0, w_hh, reverse)
        xp = self.xp
        acts, hn_all = cache
        n_steps, n, _ = gy.shape
        hid = h0.shape[-1]
        lstm = mode == "LSTM"
        g_width = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hid
        dx = xp.empty((n_steps, n, g_width), dtype=gy.dtype)
        dgh = xp.empty_like(dx) if mode == "GRU" else dx
        hs = y[:, :, :hid] if lstm else y
        order = range(n_steps) if reverse else range(n_steps - 1, -1, -1)
        step = 1 if reverse else -1  # index of the previous step in forward order
        dh = xp.zeros((n, hid), dtype=gy.dtype)
        dc = xp.zeros((n, hid), dtype=gy.dtype) if lstm else None
        for t in order:
            tp = t + step
            first = tp < 0 or tp >= n_steps
            h_prev = h0 if first else hs[tp]
            dh = dh + (gy[t, :, :hid] if lstm else gy[t])
            if lstm:
                c_prev = c0 if first else y[tp, :, hid:]
                a = acts[t]
                i, f, g, o = (a[:, k * hid:(k + 1) * hid] for k in range(4))
                tc = self.tanh(y[t, :, hid:])
                dc = dc + gy[t, :, hid:] + dh * o * (1 - tc * tc)
                d = dx[t]
                d[:, :hid] = dc * g * i * (1 - i)
                d[:, hid:2 * hid] = dc * c_prev * f * (1 - f)
                d[:, 2 * hid:3 * hid] = dc * i * (1 - g * g)
                d[:, 3 * hid:] = dh * tc * o * (1 - o)
                dc = dc * f
                dh = self.matmul(d, w_hh)
            elif mode == "GRU":
                a = acts[t]
                r, z, nt = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:]
                dn = dh * (1 - z) * (1 - nt * nt)
                d = dx[t]
                d[:, 2 * hid:] = dn
                d[:, :hid] = dn * hn_all[t] * r * (1 - r)
                d[:, hid:2 * hid] = dh * (h_prev - nt) * z * (1 - z)
                dg = dgh[t]
                dg[:, :2 * hid] = d[:, :2 * hid]
                dg[:, 2 * hid:] = dn * r
                dh = dh * z + self.matmul(dg, w_hh)
            else:
                h = hs[t]
                dx[t] = dh * (1 - h * h) if mode == "RNN_TANH" else dh * (h > 0)
                dh = self.matmul(dx[t], w_hh)
        if reverse:
            h_prevs = xp.concatenate([hs[1:], h0[None]], 0)
        else:
            h_prevs = xp.concatenate([h0[None], hs[:-1]], 0)
        flat = dgh.reshape(-1, g_width)
        dw = self.matmul(flat.T, h_prevs.reshape(-1, hid))
        return dx, dh, dc, dw, flat.sum(0)

    # The LSTM's time loop, rewritten for per-step overhead (~40% of a seq-64 hidden-256
    # fwd+bwd was ~25 small ufunc calls and their temporaries per step): one tanh over all
    # four gates (sigmoid(x) = 0.5 + 0.5 tanh(x/2), the halving folded into W_hh and the
    # input projections once, exact in binary floating point), tanh(c) kept for the
    # backward, and the backward's products written in place into preallocated rows.
    def _lstm_scale(self, g4, dtype):
        """(scale, shift): a = tanh(gates * scale) * scale + shift is [sig i, sig f, tanh g,
        sig o]."""
        hid = g4 // 4
        scale = self.xp.full(g4, 0.5, dtype=dtype)
        scale[2 * hid:3 * hid] = 1
        shift = scale.copy()
        shift[2 * hid:3 * hid] = 0
        return scale, shift

    def _lstm_forward(self, xproj, h0, c0, w_hh, b_hh, reverse):
        xp = self.xp
        n_steps, n, g4 = xproj.shape
        hid = g4 // 4
        scale, shift = self._lstm_scale(g4, xproj.dtype)
        w_t = self.contiguous(w_hh.T) * scale
        xs = self._scratch("lstm_xs", xproj.shape, xproj.dtype)
        xp.multiply(xproj, scale, out=xs)
        if b_hh is not None:
            xs += b_hh * scale
        y = xp.empty((n_steps, n, 2 * hid), dtype=xproj.dtype)
        acts = xp.empty_like(xproj)
        tcs = xp.empty((n_steps, n, hid), dtype=xproj.dtype)
        h, c = h0, c0
        for t in (range(n_steps - 1, -1, -1) if reverse else range(n_steps)):
            gates = self.matmul(h, w_t)
            gates += xs[t]
            a = acts[t]
            xp.multiply(self.tanh(gates), scale, out=a)
            a += shift
            i, f, g, o = (a[:, k * hid:(k + 1) * hid] for k in range(4))
            c = f * c
            c += i * g
            y[t, :, hid:] = c
            tc = self.tanh(c)
            tcs[t] = tc
            h = o * tc
            y[t, :, :hid] = h
        return y, (acts, tcs)

    def _lstm_backward(self, gy, y, cache, h0, c0, w_hh, reverse):
        xp = self.xp
        acts, tcs = cache
        n_steps, n, g4 = acts.shape
        hid = g4 // 4
        dx = xp.empty_like(acts)
        dact = xp.empty((n, g4), dtype=acts.dtype)
        dh = xp.zeros((n, hid), dtype=acts.dtype)
        dc = xp.zeros((n, hid), dtype=acts.dtype)
        step = 1 if reverse else -1  # index of the previous step in forward order
        for t in (range(n_steps) if reverse else range(n_steps - 1, -1, -1)):
            tp = t + step
            c_prev = c0 if tp < 0 or tp >= n_steps else y[tp, :, hid:]
            a, tc, d = acts[t], tcs[t], dx[t]
            i, f, g, o = (a[:, k * hid:(k + 1) * hid] for k in range(4))
            dh += gy[t, :, :hid]
            dc += gy[t, :, hid:]
            q = tc * tc  # dc += dh o (1 - tanh(c)^2)
            q -= 1
            q *= o
            q *= dh
            dc -= q
            xp.multiply(a, a, out=dact)  # sigmoid' = a (1 - a); tanh' = 1 - g^2
            dg = dact[:, 2 * hid:3 * hid]
            xp.subtract(1, dg, out=dg)
            for lo, hi_ in ((0, 2 * hid), (3 * hid, g4)):
                xp.subtract(a[:, lo:hi_], dact[:, lo:hi_], out=dact[:, lo:hi_])
            xp.multiply(dc, g, out=d[:, :hid])
            xp.multiply(dc, c_prev, out=d[:, hid:2 * hid])
            xp.multiply(dc, i, out=d[:, 2 * hid:3 * hid])
            xp.multiply(dh, tc, out=d[:, 3 * hid:])
            d *= dact
            dc *= f
            dh = self.matmul(d, w_hh)
        hs = y[:, :, :hid]
        h_prevs = self._scratch("lstm_h", hs.shape, hs.dtype)
        if reverse:
            h_prevs[:-1], h_prevs[-1] = hs[1:], h0
        else:
            h_prevs[0], h_prevs[1:] = h0, hs[:-1]
        flat = dx.reshape(-1, g4)
        dw = self.matmul(flat.T, h_prevs.reshape(-1, hid))
        return dx, dh, dc, dw, flat.sum(0)
