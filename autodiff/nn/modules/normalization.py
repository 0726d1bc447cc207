"""Normalization layers: BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm1d/2d, RMSNorm."""

from __future__ import annotations

from ... import creation, dtypes
from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _affine_params(m: Module, affine: bool, bias: bool, shape: tuple, device, dtype) -> None:
    """Register ``weight`` = 1 (when affine) and ``bias`` = 0 (when affine and bias), else
    None, as PyTorch's norm layers (``bias`` is keyword-only on BatchNorm/InstanceNorm/
    GroupNorm since torch 2.13)."""
    fk = {"device": device, "dtype": dtype}
    m.register_parameter("weight", Parameter(creation.ones(*shape, **fk)) if affine else None)
    m.register_parameter("bias", Parameter(creation.zeros(*shape, **fk))
                         if affine and bias else None)


class _NormBase(Module):
    """Shared state of batch and instance norm: weight/bias (affine) and running statistics."""

    _version = 2  # as PyTorch's: version 2 added num_batches_tracked

    def __init__(self, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, device, dtype, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_params(self, affine, bias, (num_features,), device, dtype)
        fk = {"device": device, "dtype": dtype}
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **fk))
            self.register_buffer("running_var", creation.ones(num_features, **fk))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, *args) -> None:
        """A state dict of version < 2 (or without metadata: a plain dict, an old or a
        safetensors checkpoint) may lack num_batches_tracked: it loads as 0, as in PyTorch."""
        key = prefix + "num_batches_tracked"
        if (local_metadata.get("version") or 0) < 2 and self.track_running_stats and \
                key not in state_dict:
            state_dict[key] = creation.tensor(0, dtype=dtypes.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, *args)

    def _momentum(self) -> float:
        """The update factor; momentum=None means a cumulative moving average."""
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                return 1.0 / float(self.num_batches_tracked.item())
        return 0.0 if self.momentum is None else self.momentum

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._dims or input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected a {' or '.join(map(str, self._dims))}"
                             f"-D input with {self.num_features} channels at dim 1 "
                             f"(num_features), got shape {tuple(input.shape)}")
        momentum = self._momentum()
        use_batch = self.training or self.running_mean is None
        track = self.training and self.track_running_stats
        if track:  # inside vmap, PyTorch's error for running stats it would update per element
            from ...func._vmap import check_batch_norm

            check_batch_norm(self)
        return F.batch_norm(input, self.running_mean if track or not use_batch else None,
                            self.running_var if track or not use_batch else None,
                            self.weight, self.bias, use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L): per channel,
    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with batch statistics in training
    (updating running_mean / running_var with ``momentum``) and running statistics in eval.

    Parameters: weight = 1, bias = 0; buffers running_mean = 0, running_var = 1,
    num_batches_tracked = 0.
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) per channel (see BatchNorm1d)."""

    _dims = (4,)


class _InstanceNorm(_NormBase):
    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        s = self._spatial
        if input.ndim not in (s + 1, s + 2):
            raise ShapeError(f"{type(self).__name__}: expected a {s + 1}-D or {s + 2}-D input, "
                             f"got shape {tuple(input.shape)}")
        if input.ndim == s + 1:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        if self.affine and input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected input with {self.num_features} "
                             f"channels (num_features), got shape {tuple(input.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum  # no batch counting here
        use_input = self.training or not self.track_running_stats
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                               use_input, momentum, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Normalize each (sample, channel) of (N, C, L) over L; affine and running statistics
    off by default, as PyTorch."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalize each (sample, channel) of (N, C, H, W) over H, W."""

    _spatial = 2


class LayerNorm(Module):
    """y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias over the last
    len(normalized_shape) dims (the backend's fused layer-norm kernel).

    Parameters: weight = 1, bias = 0 (shape normalized_shape).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_params(self, elementwise_affine, bias, self.normalized_shape, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        n = len(self.normalized_shape)
        if tuple(input.shape[input.ndim - n:]) != self.normalized_shape or input.ndim < n:
            raise ShapeError(f"LayerNorm: expected input with trailing shape "
                             f"{self.normalized_shape} (normalized_shape), got shape "
                             f"{tuple(input.shape)}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalize (N, C, *) over groups of C / num_groups channels, then a per-channel affine
    (weight = 1, bias = 0)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        _affine_params(self, affine, bias, (num_channels,), device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm: expected input (N, {self.num_channels}, *) "
                             f"(num_channels), got shape {tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last len(normalized_shape) dims;
    eps=None uses the dtype's machine epsilon; weight = 1."""

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, device=device,
                                                  dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """AlexNet's local response normalization across channels: each a_c is divided by
    (k + alpha / size * sum of a_c'^2 over the ``size`` channels around c) ^ beta.

    Args:
        size: channels in the window; alpha=1e-4; beta=0.75; k=1.0. No parameters.

    Shape:
        input (N, C, *), output the same.

    Example:
        >>> nn.LocalResponseNorm(2)(ad.randn(32, 5, 24, 24)).shape
        (32, 5, 24, 24)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
