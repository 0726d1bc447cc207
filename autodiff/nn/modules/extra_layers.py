"""Module forms of the remaining PyTorch layers: ``CTCLoss``, ``AlphaDropout``,
``FeatureAlphaDropout``, ``FractionalMaxPool2d``/``3d``, ``LPPool3d``, ``MaxUnpool3d``,
``TripletMarginWithDistanceLoss`` and ``SyncBatchNorm`` (batch norm over any number of
spatial dims; with a single process there is nothing to synchronise)."""

from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from ._loss_base import _Loss
from .dropout import _DropoutNd
from .module import Module
from .normalization import _BatchNorm
from .pooling import _LPPoolNd, _MaxUnpoolNd


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see ``F.ctc_loss``).

    Args:
        blank: the blank label (0); reduction: 'mean' (each loss divided by its target
        length, then averaged), 'sum' or 'none'; zero_infinity: zero infinite losses and
        their gradients (an input too short for its target).

    Shape:
        log_probs (T, N, C) or (T, C); targets (N, S) or 1-D concatenated; input_lengths and
        target_lengths (N,); output () or (N,) with reduction 'none'.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(None, None, reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets, input_lengths, target_lengths) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps a zero-mean, unit-variance input's moments."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """``AlphaDropout`` of whole channels of (N, C, *)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)


class _FractionalMaxPoolNd(Module):
    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None) -> None:
        super().__init__()
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{type(self).__name__} requires specifying either an output "
                             f"size, or a pooling ratio (exactly one)")
        self.kernel_size, self.output_size = kernel_size, output_size
        self.output_ratio, self.return_indices = output_ratio, return_indices
        self._random_samples = _random_samples

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, output_size={self.output_size}, "
                f"output_ratio={self.output_ratio}")


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max pooling over pseudo-random overlapping regions (Graham 2014), drawn anew each call
    unless ``_random_samples`` (N, C, 2) is given.

    Shape:
        (N, C, H, W) or (C, H, W) -> output_size, or int(H * ratio) x int(W * ratio).
    """

    def forward(self, input: Tensor):
        return F.fractional_max_pool2d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """``FractionalMaxPool2d`` over (T, H, W); ``_random_samples`` is (N, C, 3)."""

    def forward(self, input: Tensor):
        return F.fractional_max_pool3d(input, self.kernel_size, self.output_size,
                                       self.output_ratio, self.return_indices,
                                       self._random_samples)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of (N, C, D, H, W): (sum over each window of x^p)^(1/p)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d: maxima written back at their indices, zeros
    elsewhere. Shape: D_out = (D_in - 1) stride - 2 padding + kD (likewise H, W)."""

    spatial = 3

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin) for a distance function d (default: the pairwise
    Euclidean distance); ``swap`` uses min(d(a, n), d(p, n)) as the negative distance."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over (N, C, *) with at least 2 dims. PyTorch's synchronises the
    statistics across processes; in one process it is plain batch norm."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2:
            raise ShapeError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D input)")
        self._dims = (input.ndim,)
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every BatchNorm*d replaced by a SyncBatchNorm holding its
        parameters and running statistics (the same objects)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group,
                      bias=module.bias is not None or not module.affine)
            for name in ("weight", "bias"):
                if getattr(module, name, None) is not None:
                    setattr(out, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                if getattr(module, name, None) is not None:
                    out.register_buffer(name, getattr(module, name))
            out.train(module.training)
            return out
        for name, child in list(module.named_children()):
            module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module
