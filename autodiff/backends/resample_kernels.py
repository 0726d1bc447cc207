"""Linear resampling along one axis, the separable step of ``F.interpolate``'s linear modes:
``y[.., j, ..] = x[.., lo[j], ..] (1 - f[j]) + x[.., hi[j], ..] f[j]`` (PyTorch's weights and
order) and its adjoint, written with ``self.xp`` so the NumPy and CuPy backends share them;
the cpp backend overrides both with one C++ pass each."""

from __future__ import annotations


class ResampleKernels:
    """Mixin: lerp_along and its adjoint on top of ``self.xp`` and ``self.index_add``."""

    def _lerp_weights(self, frac, axis: int, ndim: int, dtype):
        return self.xp.asarray(frac, dtype=dtype).reshape((-1,) + (1,) * (ndim - axis - 1))

    def lerp_along(self, x, axis: int, lo, hi, frac):
        xp, f = self.xp, self._lerp_weights(frac, axis, x.ndim, x.dtype)
        return xp.take(x, xp.asarray(lo), axis) * (1 - f) + xp.take(x, xp.asarray(hi), axis) * f

    def lerp_along_backward(self, g, axis: int, lo, hi, frac, n: int):
        xp, f = self.xp, self._lerp_weights(frac, axis, g.ndim, g.dtype)
        shape, at = g.shape[:axis] + (n,) + g.shape[axis + 1:], (slice(None),) * axis
        return (self.index_add(shape, at + (xp.asarray(lo),), g * (1 - f))
                + self.index_add(shape, at + (xp.asarray(hi),), g * f))
