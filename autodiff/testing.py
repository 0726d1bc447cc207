"""``ad.testing``: PyTorch's ``torch.testing.assert_close`` and ``make_tensor``.

``assert_close`` follows torch's rules: default ``rtol``/``atol`` from the dtypes (float16
1e-3/1e-5, float32 1.3e-6/1e-5, float64 1e-7/1e-7, exact for integers and bool), NaN unequal
unless ``equal_nan``, nested sequences and mappings compared item by item, Python scalars and
NumPy arrays as inputs, and the same AssertionError messages ("Tensor-likes are not close!",
"Mismatched elements: 1 / 3 (33.3%)", ...). Values are compared on the host in NumPy.
``check_layout`` is accepted and has nothing to check (autodiff tensors are all strided).

Example:
    >>> import autodiff as ad
    >>> ad.testing.assert_close(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 2.0 + 1e-7]))
"""

from __future__ import annotations

import cmath
import collections.abc
import math
from typing import Any, Callable

import numpy as np

__all__ = ["assert_close", "make_tensor"]

# {dtype name: (rtol, atol)}; other dtypes (integers, bool) compare exactly
_PRECISIONS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPE = {int: "int64", float: "float64", complex: "complex128"}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise, its message and the item path."""

    def __init__(self, kind: type, msg: str, path: tuple = ()) -> None:
        super().__init__(msg)
        self.kind, self.msg, self.path = kind, msg, path

    def to_error(self, msg: str | Callable[[str], str] | None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.msg
        if self.path:
            text += "\n\nThe failure occurred for item " + "".join(str([k]) for k in self.path)
        return self.kind(msg(text) if callable(msg) else text)


def _tolerances(dtype_names, rtol, atol) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        raise _Mismatch(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                        f"but got no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_PRECISIONS.get(n, (0.0, 0.0)) for n in dtype_names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind: str, diff, idx, tol: float, equality: bool) -> str:
    line = f"{kind.title()} difference: {diff}" if idx is None else \
        f"Greatest {kind} difference: {diff} at index {idx}"
    return line + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _message(who, extra: str, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol) -> str:
    equality = rtol == 0 and atol == 0
    msg = f"{who} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += _diff_line("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_line("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _scalar_message(actual, expected, rtol, atol) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _message("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                    rel_diff, None, rtol, atol)


def _compare_numbers(a, e, *, rtol, atol, equal_nan, check_dtype, **_) -> None:
    a, e = (x.item() if isinstance(x, np.number) else x for x in (a, e))
    rtol, atol = _tolerances([_NUMBER_DTYPE[type(x)] for x in (a, e)], rtol, atol)
    if check_dtype and type(a) is not type(e):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.")
    if a == e or (equal_nan and cmath.isnan(a) and cmath.isnan(e)):
        return
    diff = abs(a - e)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(e):
        return
    raise _Mismatch(AssertionError, _scalar_message(a, e, rtol, atol))


def _host(t) -> np.ndarray:
    """The values of an autodiff tensor as a NumPy array (copied off the GPU if needed)."""
    t = t.detach()
    return np.asarray(t.numpy() if t.device.type != "cuda" else t.cpu().numpy())


def _check_attributes(a, e, *, check_device, check_dtype, check_stride) -> None:
    from .torch_misc_extra import Size

    def fail(name, x, y):
        raise _Mismatch(AssertionError, f"The values for attribute '{name}' do not match: "
                        f"{x} != {y}.")

    if tuple(a.shape) != tuple(e.shape):
        fail("shape", Size(a.shape), Size(e.shape))
    if check_stride and a.stride() != e.stride():
        fail("stride()", a.stride(), e.stride())
    if check_device and a.device != e.device:
        fail("device", a.device, e.device)
    if check_dtype and a.dtype != e.dtype:
        fail("dtype", a.dtype, e.dtype)


def _matches(a: np.ndarray, e: np.ndarray, rtol, atol, equal_nan) -> np.ndarray:
    if rtol == 0 and atol == 0:
        m = a == e
        return m | (np.isnan(a) & np.isnan(e)) if equal_nan and a.dtype.kind in "fc" else m
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _tensor_message(a: np.ndarray, e: np.ndarray, matches: np.ndarray, rtol, atol) -> str:
    total = matches.size
    bad = total - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    a, e, ok = a.ravel(), e.ravel(), matches.ravel()
    if a.dtype.kind not in "fc":  # integers and bool: differences in int64, ratios in float32
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[ok] = 0
        rel_diff = abs_diff / np.abs(e)
        if a.dtype.kind not in "fc":
            rel_diff = rel_diff.astype(np.float32)
    rel_diff[ok] = 0
    ia, ir = _argmax_nan(abs_diff), _argmax_nan(rel_diff)
    unravel = lambda i: tuple(int(k) for k in np.unravel_index(i, matches.shape))
    return _message("Tensor-likes", extra, abs_diff[ia].item(), unravel(ia),
                    rel_diff[ir].item(), unravel(ir), rtol, atol)


def _argmax_nan(x: np.ndarray) -> int:
    """First NaN, else the first maximum (torch.max propagates NaN)."""
    nans = np.flatnonzero(np.isnan(x)) if x.dtype.kind in "fc" else ()
    return int(nans[0]) if len(nans) else int(np.argmax(x))


def _compare_tensors(a, e, *, rtol, atol, equal_nan, check_device, check_dtype, check_stride,
                     allow_subclasses, **_) -> None:
    from .tensor import Tensor
    from .torch_misc_extra import promote_types

    if not (isinstance(a, type(e)) or isinstance(e, type(a))) or \
            (not allow_subclasses and type(a) is not type(e)):
        raise TypeError
    a, e = (x if isinstance(x, Tensor) else _as_tensor(x) for x in (a, e))
    _check_attributes(a, e, check_device=check_device, check_dtype=check_dtype,
                      check_stride=check_stride)
    rtol, atol = _tolerances([str(a.dtype).split(".")[-1], str(e.dtype).split(".")[-1]],
                             rtol, atol)
    x, y = _host(a), _host(e)
    if x.dtype != y.dtype:
        common = promote_types(a.dtype, e.dtype).np
        x, y = x.astype(common), y.astype(common)
    matches = _matches(x, y, rtol, atol, equal_nan)
    if matches.all():
        return
    msg = _scalar_message(x.item(), y.item(), rtol, atol) if x.ndim == 0 else \
        _tensor_message(x, y, matches, rtol, atol)
    raise _Mismatch(AssertionError, msg)


def _as_tensor(x):
    from .creation import as_tensor

    try:
        return as_tensor(x)
    except Exception:  # noqa: BLE001 (torch: anything as_tensor rejects is unsupported)
        raise TypeError from None


def _compare(a, e, path: tuple, options: dict) -> None:
    """Recurse through sequences and mappings; compare leaves with the first pair that fits."""
    seq = collections.abc.Sequence
    if isinstance(a, seq) and isinstance(e, seq) and not isinstance(a, str) \
            and not isinstance(e, str):
        if len(a) != len(e):
            raise _Mismatch(AssertionError,
                            f"The length of the sequences mismatch: {len(a)} != {len(e)}", path)
        for i in range(len(a)):
            _compare(a[i], e[i], (*path, i), options)
        return
    if isinstance(a, collections.abc.Mapping) and isinstance(e, collections.abc.Mapping):
        if set(a) != set(e):
            raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {sorted(set(e) - set(a))}\n"
                            f"Additional keys in the actual mapping: {sorted(set(a) - set(e))}",
                            path)
        keys = list(a)
        try:
            keys = sorted(keys)
        except TypeError:
            pass
        for k in keys:
            _compare(a[k], e[k], (*path, k), options)
        return
    try:
        _compare_leaf(a, e, options)
    except _Mismatch as m:
        raise _Mismatch(m.kind, m.msg, path) from None


def _compare_leaf(a, e, options: dict) -> None:
    if a is None or e is None:
        if not (a is None and e is None):
            raise _Mismatch(AssertionError, f"None mismatch: {a} is not {e}")
        return
    bools = (bool, np.bool_)
    if isinstance(a, bools) and isinstance(e, bools):
        if bool(a) is not bool(e):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {bool(a)} is not {bool(e)}")
        return
    numbers = (int, float, complex, np.number)
    if isinstance(a, numbers) and isinstance(e, numbers):
        return _compare_numbers(a, e, **options)
    try:
        return _compare_tensors(a, e, **options)
    except TypeError:
        raise _Mismatch(TypeError, "No comparison pair was able to handle inputs of type "
                        f"{type(a)} and {type(e)}.") from None


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None) -> None:
    """Assert that ``actual`` and ``expected`` are close: ``|a - e| <= atol + rtol * |e|``.

    Args:
        actual, expected: tensors, NumPy arrays, Python / NumPy scalars, None, or sequences and
            mappings of these (compared item by item).
        rtol, atol: tolerances; give both or neither (defaults follow the dtypes).
        equal_nan: treat two NaNs as equal.
        check_device, check_dtype, check_stride: also require equal devices / dtypes / strides
            (without check_dtype, values are compared in the promoted dtype).
        check_layout: accepted for PyTorch compatibility (all autodiff tensors are strided).
        msg: replaces the message, or (callable) maps the generated message to the one raised.

    Raises:
        AssertionError: values or attributes differ. TypeError: inputs cannot be compared.
        ValueError: only one of rtol / atol given.

    Example:
        >>> assert_close(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 2.5]))  # AssertionError
    """
    __tracebackhide__ = True
    options = {"rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_device": check_device,
               "check_dtype": check_dtype, "check_stride": check_stride,
               "allow_subclasses": allow_subclasses}
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as m:
        raise m.to_error(msg) from None


def make_tensor(*shape, dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format=None):
    """A tensor of ``shape`` with uniform random values in ``[low, high)``, as torch's.

    Defaults: [-9, 9) for floats, [-9, 10) for integers, {False, True} for bool; bounds are
    clamped to the dtype's range. ``noncontiguous`` returns a strided view (every other element
    of a wider last dimension); ``exclude_zero`` replaces zeros by 1 (integers) or the dtype's
    smallest normal number (floats).

    Example:
        >>> make_tensor(2, 3, dtype=ad.float32, device="cpu", low=0, high=1)
    """
    from . import creation
    from ._memory_format import to_memory_format
    from .dtypes import bool_, from_any

    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    dtype = from_any(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous} and "
                         f"memory_format={memory_format}")
    floating = dtype.is_floating_point
    if requires_grad and not floating:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype == bool_:
        lo, hi = _bounds(low, high, 0, 2, 0, 2, dtype, integral=True)
        result = creation.randint(lo, hi, shape, dtype=dtype, device=device)
    elif not floating:
        info = np.iinfo(dtype.np)
        top = info.max + (1 if dtype.np != np.int64 else 0)
        lo, hi = _bounds(low, high, int(info.min), top, -9, 10, dtype, integral=True)
        result = creation.randint(lo, hi, shape, dtype=dtype, device=device)
    else:
        info = np.finfo(dtype.np)
        lo, hi = _bounds(low, high, float(info.min), float(info.max), -9, 9, dtype, False)
        result = creation.rand(*shape, dtype=dtype, device=device) * (hi - lo) + lo
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = to_memory_format(result, memory_format)
    if exclude_zero:
        result[result == 0] = float(np.finfo(dtype.np).tiny) if floating else 1
    if floating:
        result.requires_grad = requires_grad
    return result


def _bounds(low, high, lowest, highest, default_low, default_high, dtype, integral):
    """torch's checks and clamping of make_tensor's [low, high)."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low >= high and not (low == high and not integral):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)
