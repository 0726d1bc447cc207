"""Tensor creation: from data, constant fills, ranges, random numbers, NumPy and DLPack."""

from __future__ import annotations

import math

import numpy as np

from . import dtypes
from .device import device as _device
from .device import get_default_device
from .errors import ArgumentError, DTypeError
from .ops._util import shape_arg
from .random import _generator
from .tensor import Tensor


def _infer_dtype(data) -> dtypes.DType:
    """PyTorch's inference: bool -> bool, int -> int64, float -> default float dtype."""
    arr = np.asarray(data)
    kind = arr.dtype.kind
    if kind == "b":
        return dtypes.bool_
    if kind in "iu":
        return dtypes.int64
    if kind == "f" and _first_leaf(data).__class__.__module__ == "numpy":
        # NumPy float scalars keep their precision, as in PyTorch: [np.float64(1.5)] -> float64
        leaves = list(_flat(data))
        scalars = [d.dtype for d in leaves if isinstance(d, np.floating)]
        if any(type(d) is float for d in leaves):  # Python floats count as the default dtype
            scalars.append(dtypes.get_default_dtype().np)
        return dtypes.from_numpy_dtype(np.result_type(*scalars))
    if kind == "f" or arr.size == 0:
        return dtypes.get_default_dtype()
    raise TypeError(f"could not infer a dtype for data of NumPy dtype {arr.dtype}")


def _to_array(data, dtype, dev):
    """(backend array, device) holding a copy of ``data``."""
    dt = None if dtype is None else dtypes.from_any(dtype)
    if isinstance(data, Tensor):
        dev = dev or data._dev
        src = data.to(dev).detach() if dev is not data._dev else data
        arr = dev.backend.copy(src._data)
        return (arr if dt is None else dev.backend.cast(arr, dt.np)), dev
    dev = dev or get_default_device()
    b = dev.backend
    if (b.is_array(data) or isinstance(data, (np.ndarray, np.generic))  # NumPy scalars keep
            or hasattr(data, "__dlpack__")):  # their dtype, as in PyTorch
        host = data if isinstance(data, np.ndarray) else None
        if host is None and not b.is_array(data):
            if _on_gpu(data):  # e.g. a CUDA tensor of another library: go through DLPack
                src = from_dlpack(data)
                return _to_array(src, dt, dev)
            host = np.asarray(data)
        if host is not None:
            if host.dtype.kind == "O":
                raise TypeError("tensor(): object arrays are not supported")
            dt = dt or dtypes.from_numpy_dtype(host.dtype)
            return b.from_numpy(np.array(host, dtype=dt.np)), dev
        dt = dt or dtypes.from_numpy_dtype(data.dtype)
        return b.copy(b.cast(data, dt.np)), dev
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_tensors_to_lists(data)
    dt = dt or _infer_dtype(data)
    try:
        host = np.array(data, dtype=dt.np)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"tensor(): could not convert data to a {dt.name} tensor: {exc}") from None
    return b.from_numpy(host), dev


def _on_gpu(obj) -> bool:
    """True for a DLPack producer whose memory is on a GPU (DLPack device type 2, CUDA)."""
    try:
        return int(obj.__dlpack_device__()[0]) == 2
    except (AttributeError, TypeError, ValueError, IndexError):
        return False


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _nested_tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_nested_tensors_to_lists(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors).

    Example:
        >>> ad.tensor([[1, 2], [3, 4]], dtype=ad.float32, requires_grad=True)
    """
    t = Tensor.__new__(Tensor)
    t._construct(data, dtype, device, requires_grad)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a Tensor or CPU array when it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and dtype is None and (
            device is None or _device(device).backend.is_cpu):
        return from_numpy(data) if device is None else from_numpy(data).to(device)
    return tensor(data, dtype=dtype, device=device)


def _dev(device):
    return get_default_device() if device is None else _device(device)


def _dt(dtype, default=None):
    if dtype is None:
        return default or dtypes.get_default_dtype()
    return dtypes.from_any(dtype)


def _sizes(kind, size) -> tuple:
    """``size`` as a shape; a negative dimension is PyTorch's RuntimeError (NumPy's ValueError)."""
    shape = shape_arg(size)
    if any(n < 0 for n in shape):
        raise ArgumentError(f"{kind}: Trying to create tensor with negative dimension "
                            f"{min(shape)}: {list(shape)}")
    return shape


def _fill(kind, size, value, dtype, device, requires_grad):
    dev = _dev(device)
    dt = _dt(dtype)
    shape = _sizes(kind, size)
    b = dev.backend
    if kind == "full":
        arr = b.full(shape, value, dt.np)
    else:
        arr = getattr(b, kind)(shape, dt.np)
    t = Tensor._make(arr, dev, False, None)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _fill("zeros", _size(shape, size), None, dtype, device, requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _fill("ones", _size(shape, size), None, dtype, device, requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False,
          memory_format=None) -> Tensor:
    return _laid_out(_fill("empty", _size(shape, size), None, dtype, device, requires_grad),
                     None, memory_format)


def _size(shape: tuple, size) -> tuple:
    """The shape given positionally, f(2, 3) or f((2, 3)), or as PyTorch's size= keyword."""
    if size is None:
        return shape
    if shape:
        raise TypeError("got the shape both positionally and as size=")
    return (size,)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else
                 dtypes.int64 if isinstance(fill_value, (int, np.integer)) else None)
    return _fill("full", (size,), fill_value, dtype,
                 device, requires_grad)


def _laid_out(out: Tensor, like: Tensor | None, memory_format) -> Tensor:
    """``out`` in ``memory_format``; None or ``preserve_format`` (PyTorch's default for the
    ``*_like`` functions) keeps ``like``'s channels-last layout."""
    if memory_format is None and (like is None or like._data.flags.c_contiguous):
        return out  # the common case, without the import
    from ._memory_format import _layout_of, contiguous_format, preserve_format

    fmt = _layout_of(like) if memory_format in (None, preserve_format) else memory_format
    if fmt is contiguous_format or fmt is preserve_format:
        return out
    return out.detach().contiguous(memory_format=fmt).requires_grad_(out.requires_grad)


def _like(fn, t, dtype, device, requires_grad, memory_format=None, **kw):
    out = fn(t.shape, dtype=dtype or t.dtype, device=device or t._dev,
             requires_grad=requires_grad, **kw)
    return _laid_out(out, t, memory_format)


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad, memory_format)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(ones, input, dtype, device, requires_grad, memory_format)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _like(empty, input, dtype, device, requires_grad, memory_format)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    out = full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input._dev,
               requires_grad=requires_grad)
    return _laid_out(out, input, memory_format)


def rand_like(input, dtype=None, device=None, requires_grad=False, generator=None,
              memory_format=None) -> Tensor:
    return _like(rand, input, dtype, device, requires_grad, memory_format, generator=generator)


def randn_like(input, dtype=None, device=None, requires_grad=False, generator=None,
               memory_format=None) -> Tensor:
    return _like(randn, input, dtype, device, requires_grad, memory_format, generator=generator)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    vals = start, end, step = tuple(v.item() if isinstance(v, Tensor) else v
                                    for v in (start, end, step))
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    integral = all(isinstance(v, (int, np.integer)) for v in vals)
    dt = _dt(dtype, dtypes.int64 if integral else None)
    dev = _dev(device)
    if integral or not dt.is_floating_point:
        arr = dev.backend.arange(start, end, step, dt.np)
    else:  # PyTorch computes in double and counts ceil((end - start) / step) elements
        n = max(int(np.ceil((end - start) / step)), 0)
        arr = dev.backend.asarray(start + step * np.arange(n, dtype=np.float64), dt.np)
    t = Tensor._make(arr, dev, False, None)
    return t.requires_grad_(True) if requires_grad else t


def _linspace_points(start, end, steps: int, np_dtype) -> np.ndarray:
    """PyTorch's float32/float64 linspace bit for bit: step = (end - start) / (steps - 1) in the
    dtype, then start + i * step for the first half and end - (steps - 1 - i) * step for the
    second, each a fused multiply-add (one rounding; long double holds the exact product for
    float32, nearly always for float64). NumPy's start + i * step drifts at the far end."""
    lo, hi = np_dtype.type(start), np_dtype.type(end)
    if steps <= 1:
        return np.full(steps, lo, np_dtype)
    step = np.longdouble((hi - lo) / np_dtype.type(steps - 1))
    i = np.arange(steps)
    first = np.longdouble(lo) + step * i
    second = np.longdouble(hi) - step * (steps - 1 - i)
    return np.where(i < steps // 2, first, second).astype(np_dtype)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    dev, dt = _dev(device), _dt(dtype)
    if int(steps) < 0:
        raise ArgumentError(f"linspace: number of steps must be non-negative, got {steps}")
    if dt.np in (np.float32, np.float64):
        arr = dev.backend.from_numpy(_linspace_points(start, end, int(steps), np.dtype(dt.np)))
    elif dt.is_floating_point:
        arr = dev.backend.linspace(start, end, int(steps), dt.np)
    else:  # PyTorch truncates the ends, then the points, toward zero (NumPy's floor them)
        points = np.trunc(np.linspace(math.trunc(start), math.trunc(end), int(steps)))
        arr = dev.backend.from_numpy(points.astype(dt.np))
    t = Tensor._make(arr, dev, False, None)
    return t.requires_grad_(True) if requires_grad else t


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dev, dt = _dev(device), _dt(dtype)
    if n < 0 or (m is not None and m < 0):
        raise ArgumentError(f"eye: n and m must be greater or equal to 0, got {n}, {m}")
    t = Tensor._make(dev.backend.eye(n, m if m is not None else n, dt.np), dev, False, None)
    return t.requires_grad_(True) if requires_grad else t


def _random(kind, size, generator, dtype, device, requires_grad):
    dev, dt = _dev(device), _dt(dtype)
    if not dt.is_floating_point:
        raise TypeError(f"{kind}: expected a floating dtype, got {dt.name}")
    arr = getattr(dev.backend, kind)(_generator(generator), _sizes(kind, size), dt.np)
    t = Tensor._make(arr, dev, False, None)
    return t.requires_grad_(True) if requires_grad else t


def rand(*shape, size=None, generator=None, dtype=None, device=None,
         requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _random("rand", _size(shape, size), generator, dtype, device, requires_grad)


def randn(*shape, size=None, generator=None, dtype=None, device=None,
          requires_grad=False) -> Tensor:
    """Standard normal samples."""
    return _random("randn", _size(shape, size), generator, dtype, device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0."""
    if size is None:
        if high is None or isinstance(high, int):
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    dev, dt = _dev(device), _dt(dtype, dtypes.int64)
    if low >= high:
        raise ArgumentError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                            f">= to={high}")
    arr = dev.backend.randint(_generator(generator), low, high, _sizes("randint", (size,)), dt.np)
    return Tensor._make(arr, dev, False, None)


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    dev, dt = _dev(device), _dt(dtype, dtypes.int64)
    arr = dev.backend.asarray(_generator(generator).permutation(n).astype(dt.np))
    return Tensor._make(arr, dev, False, None)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Sample indices from the rows of ``input`` (non-negative weights)."""
    if not input.is_floating_point():  # as PyTorch: weights must be floating point
        raise DTypeError(f"multinomial: expected a floating-point input, got {input.dtype.name}")
    b = input._dev.backend
    arr = b.multinomial(_generator(generator), input._data, int(num_samples), replacement)
    return Tensor._make(arr, input._dev, False, None)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    probs = input if p is None else full_like(input, p)
    u = rand(probs.shape, generator=generator, dtype=probs.dtype, device=probs._dev)
    return (u < probs).to(probs.dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` on the default CPU device."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(arr).__name__}")
    dtypes.from_numpy_dtype(arr.dtype)
    dev = get_default_device()
    if not dev.backend.is_cpu:
        dev = _device("cpu")
    return Tensor._make(arr, dev, False, None)


def from_dlpack(ext_tensor) -> Tensor:
    """Wrap a DLPack-capable object (NumPy, CuPy, PyTorch tensors) without copying."""
    has_device = hasattr(ext_tensor, "__dlpack_device__")
    dev_type, dev_id = ext_tensor.__dlpack_device__() if has_device else (1, 0)
    if int(dev_type) == 1:  # kDLCPU
        arr = np.from_dlpack(ext_tensor)
        dtypes.from_numpy_dtype(arr.dtype)
        dev = get_default_device()
        if not dev.backend.is_cpu:
            dev = _device("cpu")
        return Tensor._make(arr, dev, False, None)
    if int(dev_type) == 2:  # kDLCUDA
        dev = _device(f"cuda:{int(dev_id)}")
        return Tensor._make(dev.backend.from_dlpack(ext_tensor), dev, False, None)
    raise RuntimeError(f"from_dlpack: unsupported DLPack device type {dev_type}")
