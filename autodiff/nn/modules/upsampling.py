"""Resampling layers: Upsample, UpsamplingNearest2d, UpsamplingBilinear2d (``F.interpolate``)."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Resample (N, C, *spatial) to ``size`` or by ``scale_factor`` with ``F.interpolate``.

    Args:
        size: int or tuple, the output's spatial size; scale_factor: float or tuple (give
            exactly one of the two); mode="nearest" (see ``F.interpolate`` for the others);
        align_corners=None: for the linear modes, map the corner pixel centres onto each
            other; recompute_scale_factor=None: compute the sampling from the output size
            rather than from ``scale_factor``.

    Shape:
        input (N, C, *in), output (N, C, *out) with out = size or floor(in * scale_factor).

    Example:
        >>> nn.Upsample(scale_factor=2, mode="bilinear")(ad.randn(1, 3, 4, 5)).shape
        (1, 3, 8, 10)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor=None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W): ``Upsample(size, scale_factor,
    mode="nearest")``.

    Example:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ad.randn(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with aligned corners: ``Upsample(size,
    scale_factor, mode="bilinear", align_corners=True)``.

    Example:
        >>> nn.UpsamplingBilinear2d(size=(5, 7))(ad.randn(1, 1, 2, 3)).shape
        (1, 1, 5, 7)
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
