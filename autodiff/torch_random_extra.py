"""Creation and random-sampling PyTorch names that were still missing: ``scalar_tensor``,
``asarray``, ``frombuffer``, ``range`` (deprecated, end included), the signal windows
(``hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``,
``kaiser_window``), ``normal`` (the functional forms), ``poisson``, ``binomial``,
``randint_like`` and ``get_rng_state``/``set_rng_state``.

Samples come from the default generator (or ``generator=``), drawn on the host as every
autodiff random op; none is differentiable (``normal`` records PyTorch's zero gradient).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import dtypes
from .creation import _dev, _dt, _laid_out, as_tensor, from_numpy, tensor
from .errors import DTypeError
from .random import _generator, default_generator
from .tensor import Tensor
from .torch_math_extra import zero_grad_link

# fmt: off
__all__ = [
    "asarray", "bartlett_window", "binomial", "blackman_window", "frombuffer", "get_rng_state",
    "hamming_window", "hann_window", "kaiser_window", "normal", "poisson", "randint_like",
    "range", "scalar_tensor", "set_rng_state",
]
# fmt: on


# ----------------------------------------------------------------- creation
def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding s (the default float dtype unless ``dtype`` is given)."""
    return tensor(
        float(s) if dtype is None else s,
        dtype=_dt(dtype),
        device=device,
        requires_grad=requires_grad,
    )


def asarray(
    obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool = False
) -> Tensor:
    """A tensor from obj, sharing memory when possible (always a copy when ``copy``)."""
    t = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype, device)
    return t.requires_grad_() if requires_grad else t


def frombuffer(
    buffer, *, dtype, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """A 1-D tensor over the memory of a Python buffer (no copy)."""
    arr = np.frombuffer(buffer, dtype=dtypes.from_any(dtype).np, count=count, offset=offset)
    t = from_numpy(arr)
    return t.requires_grad_() if requires_grad else t


def range(start, end, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ..., up to and including end (deprecated in PyTorch: ``arange``
    excludes end)."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because "
        "its behavior is inconsistent with Python's range builtin. Instead, use "
        "torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("range: upper bound and lower bound inconsistent with step sign")
    n = math.floor((end - start) / step) + 1
    values = start + np.arange(n, dtype=np.float64) * step
    t = tensor(values, dtype=_dt(dtype), device=device)
    return t.requires_grad_() if requires_grad else t


def _window(name: str, length: int, periodic: bool, dtype, device, requires_grad, formula):
    dt = _dt(dtype)
    if not dt.is_floating_point:
        raise DTypeError(f"{name}: expects floating point dtypes, got {dt.name}")
    if length < 0:
        raise ValueError(f"{name}: requires non-negative window_length, got {length}")
    if length <= 1:
        w = np.ones(length)
    else:
        n_total = length + 1 if periodic else length
        w = formula(np.arange(length, dtype=np.float64), n_total - 1)
    t = tensor(w, dtype=dt, device=device)
    return t.requires_grad_() if requires_grad else t


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1)) (N = length + 1 when periodic)."""
    return _window(
        "hann_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: 0.5 - 0.5 * np.cos(2 * np.pi * n / m),
    )


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _window(
        "hamming_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: alpha - beta * np.cos(2 * np.pi * n / m),
    )


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window(
        "blackman_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: 0.42 - 0.5 * np.cos(2 * np.pi * n / m) + 0.08 * np.cos(4 * np.pi * n / m),
    )


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """The triangular window 1 - |2n / (N - 1) - 1|."""
    return _window(
        "bartlett_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: 1 - np.abs(2 * n / m - 1),
    )


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    return _window(
        "kaiser_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / m - 1) ** 2, 0, 1))) / np.i0(beta),
    )


# ----------------------------------------------------------------- random sampling
def _sample(values, like: Tensor) -> Tensor:
    """NumPy's draws (an array, or a scalar for 0-d parameters) as a tensor like ``like``."""
    return Tensor._make(
        like._dev.backend.asarray(np.asarray(values, like._data.dtype)), like._dev, False, None
    )


def normal(
    mean,
    std=1.0,
    size=None,
    *,
    generator=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Samples of N(mean, std^2): tensor mean and/or std (broadcast), or numbers and a size.
    A sample is not a differentiable function of mean and std here, as in PyTorch (zero
    gradients)."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal: with a number mean and std, size is required")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        from .creation import randn

        out = randn(size, generator=generator, dtype=dtype, device=device) * std + mean
        return out.requires_grad_() if requires_grad else out
    ref = mean if isinstance(mean, Tensor) else std
    if not ref.dtype.is_floating_point:
        raise DTypeError(f"normal: expected a floating point mean and std, got {ref.dtype.name}")
    m = (
        mean
        if isinstance(mean, Tensor)
        else tensor(float(mean), dtype=ref.dtype, device=ref.device)
    )
    s = std if isinstance(std, Tensor) else tensor(float(std), dtype=ref.dtype, device=ref.device)
    shape = tuple(np.broadcast_shapes(tuple(m.shape), tuple(s.shape)))
    sd = s._dev.backend.to_numpy(s._data)
    if (sd < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    md = m._dev.backend.to_numpy(m._data)
    z = _generator(generator).standard_normal(shape)
    out = _sample(md + sd * z, ref)
    for t in (m, s):
        if t.requires_grad:
            out = zero_grad_link(out, t.broadcast_to(shape))
    return out


def poisson(input: Tensor, generator=None) -> Tensor:
    """Samples of Poisson(rate) for each rate in input (input's dtype; no gradient)."""
    rates = input._dev.backend.to_numpy(input._data)
    if (rates < 0).any():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return _sample(_generator(generator).poisson(rates), input)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Samples of Binomial(count, prob) elementwise (count's dtype; no gradient)."""
    n = count._dev.backend.to_numpy(count._data)
    p = prob._dev.backend.to_numpy(prob._data)
    if (p < 0).any() or (p > 1).any() or (n < 0).any():
        raise RuntimeError("binomial: expected 0 <= prob <= 1 and count >= 0")
    return _sample(_generator(generator).binomial(n.astype(np.int64), p), count)


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    memory_format=None,
) -> Tensor:
    """Integers uniform on [low, high) in input's shape (and dtype, unless given);
    ``randint_like(input, high)`` starts at 0."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(
            f"randint_like: expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    dt = dtypes.from_any(dtype) if dtype is not None else input.dtype
    dev = _dev(device) if device is not None else input.device
    z = _generator(None).integers(low, high, tuple(input.shape))
    t = _laid_out(tensor(z, dtype=dt, device=dev), input, memory_format)
    return t.requires_grad_() if requires_grad else t


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor (for ``set_rng_state``)."""
    st = default_generator.get_state()
    words = [st["state"]["state"], st["state"]["inc"]]
    raw = b"".join(int(w).to_bytes(16, "little") for w in words)
    raw += bytes([int(st["has_uint32"])]) + int(st["uinteger"]).to_bytes(4, "little")
    return tensor(np.frombuffer(raw, np.uint8).copy(), dtype=dtypes.uint8, device="numpy")


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator from ``get_rng_state()``'s tensor."""
    raw = bytes(np.asarray(new_state.detach().cpu().numpy(), np.uint8).reshape(-1))
    if len(raw) != 37:
        raise RuntimeError(
            f"set_rng_state: expected a uint8 tensor of 37 bytes from "
            f"get_rng_state(), got {len(raw)}"
        )
    default_generator.set_state(
        {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(raw[:16], "little"),
                "inc": int.from_bytes(raw[16:32], "little"),
            },
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:37], "little"),
        }
    )
