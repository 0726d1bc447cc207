"""Lazy layers, as PyTorch's: the input size (in_features, in_channels, num_features) is
inferred at the first forward, which materializes the ``UninitializedParameter``s, runs the
regular layer's initialisation and turns the module into that layer (``cls_to_become``)."""

from __future__ import annotations

from ... import creation, dtypes
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .layers3d import BatchNorm3d, Conv3d, ConvTranspose3d, InstanceNorm3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, InstanceNorm1d, InstanceNorm2d

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _UninitializedMixin:
    """A placeholder tensor of unknown shape that remembers its device and dtype until
    ``materialize(shape)`` gives it storage and makes it a ``cls_to_become``."""

    __slots__ = ()
    is_lazy = True
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate (uninitialised) storage of ``shape``; the class becomes cls_to_become."""
        data = Tensor.data.fget(self)
        self.data = creation.empty(*shape, device=device or data.device,
                                   dtype=dtype or data.dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "This error usually happens in `load_state_dict` when trying to load "
                           "an uninitialized parameter into an initialized one. Call `forward` "
                           "to initialize the parameters before accessing their attributes.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        data = Tensor.data.fget(self)
        return type(self)(self.requires_grad, data.device, data.dtype)

    def __reduce_ex__(self, proto):
        return (type(self), (self.requires_grad,))


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A Parameter whose shape is not known yet (a lazy layer's weight before its first
    forward); it becomes a ``Parameter`` on ``materialize(shape)``."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        super().__init__(creation.empty(0, device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape is not known yet; it becomes a ``Tensor`` on ``materialize``."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None) -> None:
        data = creation.empty(0, device=device, dtype=dtype)
        self._init(data._data, data._dev, False, None)
        if requires_grad:
            self.requires_grad_(True)

    def to(self, *args, **kwargs) -> UninitializedBuffer:
        """Stays uninitialized: only the device and dtype to materialize with change."""
        t = Tensor.data.fget(self).to(*args, **kwargs)
        return UninitializedBuffer(self.requires_grad, t.device, t.dtype)


def is_lazy(t) -> bool:
    return getattr(t, "is_lazy", False) is True


def _infer_parameters(module, args) -> None:
    """The forward pre-hook of a lazy module: materialize, then become ``cls_to_become``."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    delattr(module, "_initialize_hook")
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """Mixed in before a layer class: parameters start as ``UninitializedParameter`` and
    ``initialize_parameters(*inputs)`` (called before the first forward) materializes them."""

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer is still uninitialized."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is inferred from the first input (``input.shape[-1]``).

    Args:
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    Example:
        >>> fc = nn.LazyLinear(2)
        >>> fc(ad.randn(3, 4)).shape, fc
        ((3, 2), Linear(in_features=4, out_features=2, bias=True))
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():  # loaded from a state_dict
            self.in_features = self.weight.shape[1]
            return
        with no_grad():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConvXdMixin(LazyModuleMixin):
    """in_channels from the first input: dim 1 when batched, dim 0 when not."""

    def _lazy_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        n = len(self.kernel_size) + 1
        if input.ndim not in (n, n + 1):
            raise RuntimeError(f"Expected {n}D (unbatched) or {n + 1}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{tuple(input.shape)}")
        return input.shape[1] if input.ndim == n + 1 else input.shape[0]

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():  # loaded from a state_dict
            self.in_channels = self.weight.shape[0 if self.transposed else 1] * (
                1 if self.transposed else self.groups)
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError(f"{type(self).__name__}: in_channels ({self.in_channels}) must be "
                             f"divisible by groups ({self.groups})")
        g, k = self.groups, self.kernel_size
        with no_grad():
            if self.transposed:
                self.weight.materialize((self.in_channels, self.out_channels // g, *k))
            else:
                self.weight.materialize((self.out_channels, self.in_channels // g, *k))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base: type, transposed: bool) -> type:
    """LazyConv{1,2,3}d / LazyConvTranspose{1,2,3}d: ``base`` without in_channels."""
    if transposed:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0,
                     output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                     padding_mode: str = "zeros", device=None, dtype=None) -> None:
            super(cls, self).__init__(0, 0, kernel_size, stride, padding, output_padding,
                                      groups, False, dilation, padding_mode, device, dtype)
            self._lazy_init(out_channels, bias, device, dtype)
    else:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                     groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                     device=None, dtype=None) -> None:
            super(cls, self).__init__(0, 0, kernel_size, stride, padding, dilation, groups,
                                      False, padding_mode, device, dtype)
            self._lazy_init(out_channels, bias, device, dtype)

    doc = (f"A {base.__name__} whose in_channels is inferred from the first input (dim 1, or 0 "
           f"when unbatched); the other arguments are {base.__name__}'s.")
    cls = type(f"Lazy{base.__name__}", (_LazyConvXdMixin, base),
               {"cls_to_become": base, "__init__": __init__, "__doc__": doc,
                "__module__": __name__})
    return cls


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)


class _LazyNormBase(LazyModuleMixin):
    """num_features from the first input's dim 1. Unlike the eager InstanceNorm, affine and
    track_running_stats default to True here (as in PyTorch)."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, dtype=dtypes.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():  # loaded from a state_dict
            ref = self.weight if self.affine else self.running_mean
            self.num_features = ref.shape[0] if ref is not None else input.shape[1]
            return
        self.num_features = input.shape[1]
        with no_grad():
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None:
                    t.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(base: type) -> type:
    doc = (f"A {base.__name__} whose num_features is inferred from the first input's dim 1 "
           f"(args: eps, momentum, affine=True, track_running_stats=True).")
    return type(f"Lazy{base.__name__}", (_LazyNormBase, base),
                {"cls_to_become": base, "__doc__": doc, "__module__": __name__})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)
