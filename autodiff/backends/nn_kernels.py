"""Kernels of the nn layers (im2col/col2im lowering of convolutions, pooling, ...), written
with ``self.xp`` so the NumPy and CuPy backends share them. Mixed into NumpyBackend."""

from __future__ import annotations


class NNKernels:
    """Mixin: nn-layer kernels on top of the array module ``self.xp``."""
