"""Padding kernels (constant, reflect, replicate, circular, and the adjoint of the last
three), written with ``self.xp`` so the NumPy and CuPy backends share them.

Each fills one output array by slices: ``np.pad`` costs ~30 us of Python a call whatever
the size, and the integer-array gathers that reflect padding was composed of took 9 ms on a
(32, 64, 32, 32) batch (NumPy's fancy indexing along the last axis), this 0.9 ms.  The
padding is separable: each dim is padded in turn, its corners read from the dims before.
``widths`` holds a (lo, hi) pair per dim, all >= 0.
"""

from __future__ import annotations


def _at(d: int, s: slice, center: tuple) -> tuple:
    """An index of ``s`` along dim d, all of the dims before (already padded) and the centre
    of the dims after."""
    return (slice(None),) * d + (s,) + center[d + 1:]


def _centered(xp, a, widths):
    """(an uninitialised padded array with ``a`` at its centre, the centre's index)."""
    out = xp.empty(tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, widths)), a.dtype)
    center = tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, widths))
    out[center] = a
    return out, center


class PadKernels:
    """Mixin: padding on top of the array module ``self.xp``."""

    def pad(self, a, pad_width, value):
        """``a`` with ``value`` around it (np.pad's constant mode)."""
        out, center = _centered(self.xp, a, pad_width)
        for d, (lo, hi) in enumerate(pad_width):
            if lo:
                out[_at(d, slice(0, lo), center)] = value
            if hi:
                out[_at(d, slice(out.shape[d] - hi, None), center)] = value
        return out

    def edge_pad(self, a, widths, mode: str):
        """``a`` padded from its own entries: PyTorch's reflect (no edge repeat, lo and hi
        < n), replicate (the edge repeated) or circular (wrapped around, lo and hi <= n)."""
        out, center = _centered(self.xp, a, widths)
        for d, (lo, hi) in enumerate(widths):
            n, end = a.shape[d], lo + a.shape[d]
            if lo:  # out[p] = x[j(p)] for p < lo, x[j] being out[lo + j]
                src = {"reflect": slice(2 * lo, lo, -1), "replicate": slice(lo, lo + 1),
                       "circular": slice(n, n + lo)}[mode]
                out[_at(d, slice(0, lo), center)] = out[_at(d, src, center)]
            if hi:
                stop = end - 2 - hi if end - 2 - hi >= 0 else None
                src = {"reflect": slice(end - 2, stop, -1), "replicate": slice(end - 1, end),
                       "circular": slice(lo, lo + hi)}[mode]
                out[_at(d, slice(end, end + hi), center)] = out[_at(d, src, center)]
        return out

    def edge_pad_backward(self, g, widths, mode: str):
        """The adjoint of ``edge_pad``: each padded entry's gradient added back onto the entry
        it was read from, dim by dim."""
        for d, (lo, hi) in enumerate(widths):
            if not (lo or hi):
                continue
            size = g.shape[d]
            n = size - lo - hi

            def at(s, d=d):
                return (slice(None),) * d + (s,)

            out = g[at(slice(lo, lo + n))].copy()
            if mode == "reflect":
                if lo:
                    out[at(slice(1, lo + 1))] += g[at(slice(lo - 1, None, -1))]
                if hi:
                    out[at(slice(n - 1 - hi, n - 1))] += g[at(slice(size - 1, lo + n - 1, -1))]
            elif mode == "replicate":
                if lo:
                    out[at(slice(0, 1))] += g[at(slice(0, lo))].sum(axis=d, keepdims=True)
                if hi:
                    out[at(slice(n - 1, n))] += g[at(slice(lo + n, size))].sum(axis=d,
                                                                                keepdims=True)
            else:  # circular
                if lo:
                    out[at(slice(n - lo, n))] += g[at(slice(0, lo))]
                if hi:
                    out[at(slice(0, hi))] += g[at(slice(lo + n, size))]
            g = out
        return g
