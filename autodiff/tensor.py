"""Tensor: a thin handle over a backend array (data, device, dtype, grad, grad_fn, version).

Math, reduction and shape methods are the functions of ``autodiff.ops`` attached as methods
(see ``_METHODS`` at the bottom); this file holds what is particular to the handle itself.
"""

from __future__ import annotations

import copy
import weakref

import numpy as np

from . import _printing, autograd, dtypes, ops
from .autograd import engine, function, gradcheck, node
from .autograd.grad_mode import state
from .device import Device, device as _device
from .errors import ArgumentError
from .ops import _util
from ._inplace import InplaceMixin
from .ops.transfer import ToDevice
from .size import Size, size_of


class _HookHandle:
    def __init__(self, hooks: list, fn) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _is_size(t: tuple) -> bool:
    return isinstance(t, Size)


class Tensor(InplaceMixin):
    """An n-dimensional array on a device that records operations for reverse-mode autograd.

    Example:
        >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.], device='cpp', dtype=autodiff.float32)
    """

    # set only on views (when _base is not None): _view_chain, ((op class, kwargs), ...) from
    # the base, and _base_fn, the base's grad_fn this view's own grad_fn was derived from
    __slots__ = ("_data", "_dev", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_vc",
                 "_base", "_view_chain", "_base_fn", "_hooks", "_retains_grad", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # NumPy defers to our reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False) -> None:
        """PyTorch's legacy constructor: ``Tensor(data)`` copies data as floats (the default
        dtype), ``Tensor(*sizes)`` / ``Tensor(Size)`` / ``Tensor()`` is an uninitialized float
        tensor of that shape (``nn.Parameter(Tensor(out, in))``, then an init). ``tensor()``
        infers the dtype instead."""
        floats = dtypes.get_default_dtype()
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            data = np.empty(args if args else (0,), floats.np)
        elif len(args) == 1 and isinstance(args[0], tuple) and _is_size(args[0]):
            data = np.empty(tuple(args[0]), floats.np)
        elif len(args) == 1:
            data = args[0]
        else:
            raise TypeError(f"Tensor(): expected data or sizes (ints), got "
                            f"{tuple(type(a).__name__ for a in args)}")
        self._construct(data, dtype or floats, device, requires_grad)

    def _construct(self, data, dtype, device, requires_grad: bool) -> None:
        from .creation import _to_array

        dev = _device(device) if device is not None else None
        arr, dev = _to_array(data, dtype, dev)
        self._init(arr, dev, False, None)
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, data, dev, requires_grad, grad_fn) -> None:
        # a NumPy reduction to 0-d gives a scalar: hold a 0-d array, so views, detach() and
        # numpy() share its memory as in PyTorch
        self._data = np.asarray(data) if isinstance(data, np.generic) else data
        self._dev = dev
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = grad_fn
        self._output_nr = 0
        self._vc = [0]
        self._base = None
        self._hooks = None
        self._retains_grad = False

    @classmethod
    def _make(cls, data, dev, requires_grad, grad_fn) -> Tensor:
        """A Tensor over an existing backend array, without conversion (the ops' path)."""
        t = object.__new__(Tensor)
        t._init(data, dev, requires_grad, grad_fn)
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        return size_of(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> Device:
        return self._dev

    @property
    def is_cuda(self) -> bool:
        return self._dev.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (shared with its views)."""
        return self._vc[0]

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward() (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            for what, got, want in (("size", value.shape, self.shape),
                                    ("data type", value.dtype, self.dtype),
                                    ("device", value.device, self.device)):
                if got != want:
                    raise RuntimeError(f"attempting to assign a gradient with {what} {got} to a "
                                       f"tensor with {what} {want}. Please ensure that the "
                                       f"gradient and the tensor have the same {what}")
        self._grad = value

    @property
    def data(self) -> Tensor:
        """The same storage as a Tensor outside the graph."""
        return Tensor._make(self._data, self._dev, False, None)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data, self._dev = value._data, value._dev

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def T(self) -> Tensor:
        return ops.movement.Permute.apply(self, axes=tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"mT: tensor of dimension {self.ndim} has no matrix transpose")
        return ops.transpose(self, -2, -1)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad is not False

    def size(self, dim: int | None = None):
        if dim is None:
            return size_of(self._data.shape)
        return self._data.shape[_util.norm_dim(dim, self.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_util.norm_dim(dim, self.ndim)]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def get_device(self) -> int:
        return -1 if self._dev.index is None else self._dev.index

    # ----------------------------------------------------------------- conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing memory (CPU devices only; with force, a copy from
        any device, as PyTorch's)."""
        if force and not self._dev.backend.is_cpu:
            return self.detach().cpu().numpy()
        if not self._dev.backend.is_cpu:
            raise TypeError(f"can't convert {self._dev} tensor to numpy; use .cpu() first")
        return self._writable()  # a 0-d array, never a NumPy scalar (PyTorch gives an array)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        return self._dev.backend.to_numpy(self._data).item()

    def tolist(self):
        return self._dev.backend.to_numpy(self._data).tolist()

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    @property
    def __cuda_array_interface__(self) -> dict:
        """The CUDA array interface of a cuda tensor's storage; CPU tensors have none
        (AttributeError, so ``hasattr`` is False and consumers try ``__array__``)."""
        if self._dev.type != "cuda":
            raise AttributeError(f"a tensor on {self._dev} has no __cuda_array_interface__")
        return self._data.__cuda_array_interface__

    def to(self, *args, **kwargs) -> Tensor:
        """to(device), to(dtype), to(device, dtype), to(tensor); differentiable."""
        dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        copy, fmt = kwargs.pop("copy", False), kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a._dev, a.dtype
            elif isinstance(a, (dtypes.DType, type, np.dtype)) or (
                    isinstance(a, str) and a.replace("autodiff.", "") in dtypes._BY_NAME):
                dt = a
            elif a is not None:
                dev = a
        out = self
        if dev is not None:
            target = _device(dev)
            if target is not out._dev:
                out = ToDevice.apply(out, target=target)
        if dt is not None:
            out = ops.elementwise.cast(out, dtypes.from_any(dt))
        if copy and out is self:
            out = ops.clone(self)
        return out if fmt is None else out.contiguous(memory_format=fmt)  # (preserve: itself)

    def cpu(self) -> Tensor:
        if self._dev.backend.is_cpu:
            return self
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False) -> Tensor:
        name = "cuda" if device is None else (device if isinstance(device, str) else f"cuda:{device}")
        return self.to(name)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"autodiff.{self.dtype.name}"
        return self.to(dtype)

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def __deepcopy__(self, memo) -> Tensor:
        """A leaf's data, requires_grad and .grad, copied; PyTorch refuses the graph's tensors."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        t = memo[id(self)] = object.__new__(type(self))
        t._init(self._dev.backend.copy(self._data), self._dev, self._requires_grad, None)
        if self._grad is not None:
            t._grad = copy.deepcopy(self._grad, memo)
        return t

    def detach(self) -> Tensor:
        t = Tensor._make(self._data, self._dev, False, None)
        t._vc = self._vc  # shares memory, so shares the version counter
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._requires_grad:  # its writes would reach the graph
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, "
                               f"got {self.dtype.name}")
        self._requires_grad = bool(requires_grad)
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node._edge(self)  # a view whose base changed in place: re-derive its grad_fn first
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _HookHandle(self._hooks, hook)
        self.grad_fn.register_hook(self._output_nr, hook)
        return _HookHandle(self.grad_fn.pre_hooks[self._output_nr], hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        node._edge(self)
        if self.grad_fn is None or self._retains_grad is self.grad_fn:
            return
        self._retains_grad = fn = self.grad_fn  # an in-place op moves it to the new grad_fn
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None and t._retains_grad is fn:
                g = g if state.enabled else g.detach()
                t._grad = ops.clone(g) if t._grad is None else t._grad + g

        keep.retains_grad = True
        fn.register_hook(self._output_nr, keep)

    # ----------------------------------------------------------------- creation helpers
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self._dev,
                      requires_grad=requires_grad)

    def _new(self, fill, size, dtype, device, requires_grad):
        from . import creation

        return creation.full(_util.shape_arg(size), fill, dtype=dtype or self.dtype,
                             device=device or self._dev, requires_grad=requires_grad)

    def new_zeros(self, *sizes, size=(), dtype=None, device=None, requires_grad=False) -> Tensor:
        return self._new(0, sizes or (size,), dtype, device, requires_grad)

    def new_ones(self, *sizes, size=(), dtype=None, device=None, requires_grad=False) -> Tensor:
        return self._new(1, sizes or (size,), dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self._new(fill_value, (size,), dtype, device, requires_grad)

    def new_empty(self, *sizes, size=(), dtype=None, device=None, requires_grad=False) -> Tensor:
        return self._new(0, sizes or (size,), dtype, device, requires_grad)

    # ----------------------------------------------------------------- Python protocol
    def __repr__(self) -> str:
        return _printing.tensor_repr(self)

    def __format__(self, spec: str) -> str:
        # a 0-d tensor formats as its number, as PyTorch's (f"{loss}" in a training log); any
        # other takes no format spec (object.__format__'s TypeError, as PyTorch)
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __contains__(self, element) -> bool:
        """``element in t``: whether any entry equals it (a number, or a tensor broadcast)."""
        if not isinstance(element, (Tensor, bool, int, float)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element).__name__}.")
        return bool((self == element).any().item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(ops.unbind(self, 0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is "
                               f"ambiguous")
        return bool(self.item())

    def _scalar(self):
        if self._data.size != 1:  # PyTorch's ValueError here (item() raises RuntimeError)
            raise ArgumentError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    __hash__ = object.__hash__

    def __getitem__(self, idx):
        return ops.getitem(self, idx)

    __add__ = ops.add
    __sub__ = ops.sub
    __mul__ = ops.mul
    __truediv__ = ops.div
    __pow__ = ops.pow
    __matmul__ = ops.matmul
    def __eq__(self, other):  # t == None is False, as in PyTorch
        return NotImplemented if other is None else ops.eq(self, other)

    def __ne__(self, other):
        return NotImplemented if other is None else ops.ne(self, other)

    __lt__ = ops.lt
    __le__ = ops.le
    __gt__ = ops.gt
    __ge__ = ops.ge
    __neg__ = ops.neg
    __abs__ = ops.abs
    __and__ = ops.bitwise_and
    __or__ = ops.bitwise_or
    __xor__ = ops.bitwise_xor

    def __rand__(self, other):
        return ops.bitwise_and(other, self)

    def __ror__(self, other):
        return ops.bitwise_or(other, self)

    def __rxor__(self, other):
        return ops.bitwise_xor(other, self)

    def __radd__(self, other):
        return ops.add(other, self)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __floordiv__(self, other):
        return ops.div(self, other, rounding_mode="floor")

    def __rfloordiv__(self, other):
        return ops.div(other, self, rounding_mode="floor")

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __pos__(self):
        return self

    def __invert__(self):
        if self._data.dtype.kind == "b":
            return ops.logical_not(self)
        return _util.constant(~self._data, self._dev)

    def expand(self, *sizes, size=None) -> Tensor:  # x.expand(2, 3), ((2, 3)) or size=(2, 3)
        return ops.expand_(self, *sizes) if size is None else ops.expand_(self, size)

    def where(self, condition, other) -> Tensor:
        return ops.where(condition, self, other)

    def clip(self, min=None, max=None) -> Tensor:
        return ops.clamp(self, min, max)

    def sum_to_size(self, *sizes, size=None) -> Tensor:
        shape, x = _util.shape_arg(sizes if size is None else (size,)), self
        if tuple(shape) != tuple(x.shape) and not (x.is_floating_point() or x.is_complex()):
            x = x.to(dtypes.int64)  # a sum of integers or bools is int64, as PyTorch's
        return ops.sum_to(x, shape)


_METHODS = """abs add argmax argmin argsort all amax amin any broadcast_to ceil chunk clamp clone
contiguous cos div dot eq exp expand_as flatten flip floor gather ge gt isfinite isinf isnan
le log log1p log_softmax logical_not logsumexp lt masked_fill matmul max maximum mean min
minimum movedim mul narrow ne neg norm outer permute pow prod reciprocal relu repeat
repeat_interleave reshape reshape_as round rsqrt scatter_add select sigmoid sign sin softmax sort
split sqrt square squeeze std sub sum swapaxes t tanh tile topk transpose tril triu trunc unbind
unflatten unsqueeze var view view_as bmm mv""".split()
for _name in _METHODS:
    setattr(Tensor, _name, getattr(ops, _name))


node.Tensor = engine.Tensor = _util.Tensor = function.Tensor = gradcheck.Tensor = Tensor
