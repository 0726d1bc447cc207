"""``autocast``: regions where matmuls and convolutions run in float16 and losses in float32.

Inside ``with ad.autocast("cpu"):`` the ops of ``_policies`` cast their floating inputs
(never float64 ones) before they run, as PyTorch's autocast does: ``matmul``/``@``/``mm``/
``bmm``, ``F.linear``, ``F.conv*``, ``F.prelu`` and ``F.scaled_dot_product_attention`` to the
region's dtype, the losses to float32. The casts are ordinary differentiable ``.to(dtype)``
nodes, so the gradient of a float32 parameter comes back in float32. Casts of float32 leaf
tensors that require grad (parameters) are cached for the region (``cache_enabled``), so a
weight used twice is cast once.

The state is thread-local, as in PyTorch. Where autodiff enters an op: ``nn.functional``'s
functions are wrapped by ``autocast_op`` (nn modules call them), and ``ops.linalg.matmul``
(the one entry of ``@``, ``ad.matmul``, ``mm``, ``bmm``, ``dot``, ``mv``) calls ``_cast_matmul``
through a hook set on first use.

autodiff has no bfloat16, so the default dtype is float16 on every device type (PyTorch's CPU
default is bfloat16); any other dtype on "cpu" warns and disables the region, as PyTorch does
for a dtype its CPU autocast does not support.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..autograd.grad_mode import is_grad_enabled
from ..ops import linalg as _linalg
from ..tensor import Tensor
from ._policies import POLICIES

__all__ = [
    "autocast",
    "autocast_op",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_enabled",
]

_DEVICE_TYPES = ("cpu", "cuda")
_SUPPORTED = {"cpu": (dtypes.float16,), "cuda": (dtypes.float16, dtypes.float32)}


class _State(threading.local):
    """Per thread: which device types autocast, to what dtype, and the cast cache."""

    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": dtypes.float16, "cuda": dtypes.float16}
        self.active = False  # any(enabled.values()), read on every wrapped call
        self.nesting = 0
        self.cache_enabled = True
        self.cache: dict = {}

    def set_enabled(self, device_type: str, value: bool) -> None:
        self.enabled[device_type] = value
        self.active = any(self.enabled.values())


_STATE = _State()


def _device_type(device_type: Any) -> str:
    """'cpu' or 'cuda' from a device-type string (autodiff's 'numpy' and 'cpp' are 'cpu')."""
    if not isinstance(device_type, str):
        raise ValueError(  # noqa: TRY004 (PyTorch's type)
            f"Expected `device_type` of type `str`, got: `{type(device_type)}`"
        )
    name = device_type.split(":")[0]
    if name in ("cpu", "numpy", "cpp"):
        return "cpu"
    if name == "cuda":
        return "cuda"
    raise RuntimeError(
        f"User specified an unsupported autocast device_type '{device_type}': "
        f"expected one of 'cpu' (or 'numpy', 'cpp') and 'cuda'"
    )


def _tensor_device_type(t: Tensor) -> str:
    return "cuda" if t._dev.type == "cuda" else "cpu"


def is_autocast_available(device_type: str) -> bool:
    """True for the device types autocast knows here: 'cpu' ('numpy', 'cpp') and 'cuda'."""
    try:
        _device_type(device_type)
    except (RuntimeError, ValueError):
        return False
    return True


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` in this thread (``None``: for 'cuda', as
    PyTorch's argument-less form)."""
    return _STATE.enabled[_device_type("cuda" if device_type is None else device_type)]


def get_autocast_dtype(device_type: str) -> dtypes.DType:
    """The dtype autocast casts to on ``device_type`` (float16 unless a region set another)."""
    return _STATE.dtype[_device_type(device_type)]


class autocast:  # PyTorch's name, lower case
    """Context manager and decorator: run the listed ops in mixed precision.

    Args:
        device_type: 'cpu' (tensors on "numpy" and "cpp"; those names work too) or 'cuda'.
        dtype: the lower-precision dtype; default float16 (PyTorch's CPU default is bfloat16,
            which autodiff lacks). On 'cpu' any other dtype warns and disables the region.
        enabled: False makes a region that turns autocast off (nestable).
        cache_enabled: cache the casts of parameters within the region (default True).

    Example:
        >>> with ad.autocast("cpu"):
        ...     y = model(x)                 # Linear/Conv outputs are float16
        ...     loss = F.cross_entropy(y, t)  # float32
        >>> loss.backward()                  # float32 gradients for float32 parameters
    """

    def __init__(
        self,
        device_type: str,
        dtype: dtypes.DType | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        self.device = device_type
        self._type = _device_type(device_type)
        self.fast_dtype = get_autocast_dtype(self._type) if dtype is None else dtype
        if not isinstance(self.fast_dtype, dtypes.DType):
            raise TypeError(
                f"autocast: expected dtype to be an autodiff dtype such as "
                f"autodiff.float16, got {self.fast_dtype!r}"
            )
        self._cache_enabled = _STATE.cache_enabled if cache_enabled is None else cache_enabled
        if enabled and self._type == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
                enabled = False
        if enabled and self.fast_dtype not in _SUPPORTED[self._type]:
            kind = self._type.upper()
            names = ", ".join(map(repr, _SUPPORTED[self._type]))
            warnings.warn(
                f"In {kind} autocast, but the target dtype is not supported. "
                f"Disabling autocast.\n{kind} Autocast only supports dtypes of "
                f"{names} currently.",
                stacklevel=2,
            )
            enabled = False
        self._enabled = bool(enabled)
        self._saved: list = []

    def __enter__(self) -> autocast:
        st = _STATE
        self._saved.append((st.enabled[self._type], st.dtype[self._type], st.cache_enabled))
        st.set_enabled(self._type, self._enabled)
        st.dtype[self._type] = self.fast_dtype
        st.nesting += 1
        st.cache_enabled = self._cache_enabled
        if self._enabled and _linalg.AUTOCAST[0] is None:
            _linalg.AUTOCAST[0] = _cast_matmul
        return self

    def __exit__(self, *exc: object) -> bool:
        st = _STATE
        st.nesting -= 1
        if st.nesting == 0:
            st.cache.clear()
        enabled, dtype, cache_enabled = self._saved.pop()
        st.set_enabled(self._type, enabled)
        st.dtype[self._type] = dtype
        st.cache_enabled = cache_enabled
        return False

    def __call__(self, func: Callable) -> Callable:
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got "
                f"{type(func).__name__}. Did you mean to use autocast as a context "
                f"manager? For example:\n    with autodiff.autocast(device_type=...):"
                f"\n        output = model(input)"
            )

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


# ----------------------------------------------------------------------------- casting
def _cast(t: Any, dtype: dtypes.DType, device_type: str, st: _State) -> Any:
    """``t`` cast to ``dtype`` when it is an eligible tensor (floating, not float64, on the
    region's device type); lists and tuples of tensors are cast element by element."""
    if isinstance(t, (list, tuple)):
        return type(t)(_cast(v, dtype, device_type, st) for v in t)
    if (
        not isinstance(t, Tensor)
        or t.dtype is dtype
        or not t.is_floating_point()
        or t.dtype is dtypes.float64
        or _tensor_device_type(t) != device_type
    ):
        return t
    if not (
        st.cache_enabled
        and t.dtype is dtypes.float32
        and dtype is st.dtype[device_type]
        and t.requires_grad
        and t.is_leaf
    ):
        return t.to(dtype)
    key = (id(t), is_grad_enabled())  # a cast made under no_grad has no graph to reuse
    hit = st.cache.get(key)
    if hit is None or hit[1] != t._vc[0]:  # recast a weight updated in the region
        hit = st.cache[key] = (t, t._vc[0], t.to(dtype))
    return hit[2]


def _widest(args: tuple, kwargs: dict) -> dtypes.DType:
    floats = [
        t.dtype
        for t in (*args, *kwargs.values())
        if isinstance(t, Tensor) and t.is_floating_point()
    ]
    return max(floats, key=lambda d: d.itemsize, default=dtypes.float32)


def _target(policy: str, device_type: str, args: tuple, kwargs: dict, st: _State):
    if policy == "lower":
        return st.dtype[device_type]
    if policy == "fp32":
        return dtypes.float32
    if policy == "promote":
        return _widest(args, kwargs)
    return None


def _first_tensor(args: tuple, kwargs: dict) -> Tensor | None:
    for v in (*args, *kwargs.values()):
        if isinstance(v, Tensor):
            return v
        if isinstance(v, (list, tuple)) and v and isinstance(v[0], Tensor):
            return v[0]
    return None


def _cast_matmul(op: str, a: Tensor, b: Tensor) -> tuple:
    """The hook of ``ops.linalg.matmul``: its operands, cast by ``op``'s policy."""
    st = _STATE
    if not st.active:
        return a, b
    dt = _tensor_device_type(a)
    policy = POLICIES[dt].get(op) if st.enabled[dt] else None
    if policy is None:
        return a, b
    to = _target(policy, dt, (a, b), {}, st)
    return _cast(a, to, dt, st), _cast(b, to, dt, st)


def _run(name: str, fn: Callable, args: tuple, kwargs: dict, st: _State):
    first = _first_tensor(args, kwargs)
    dt = None if first is None else _tensor_device_type(first)
    policy = POLICIES[dt].get(name) if dt is not None and st.enabled[dt] else None
    if callable(policy):
        policy = policy(args, kwargs)
    if policy is None:
        return fn(*args, **kwargs)
    to = _target(policy, dt, args, kwargs, st)
    if to is not None:
        args = tuple(_cast(a, to, dt, st) for a in args)
        kwargs = {k: _cast(v, to, dt, st) for k, v in kwargs.items()}
    st.set_enabled(dt, False)  # the op's own primitives are not autocast again
    try:
        out = fn(*args, **kwargs)
    finally:
        st.set_enabled(dt, True)
    if policy == "input" and isinstance(out, Tensor) and out.dtype is not first.dtype:
        out = out.to(first.dtype)
    return out


def autocast_op(name: str) -> Callable[[Callable], Callable]:
    """Decorator: ``fn`` follows autocast policy ``name`` of ``_policies`` (a no-op outside
    autocast regions beyond one attribute read)."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            st = _STATE
            if not st.active:
                return fn(*args, **kwargs)
            return _run(name, fn, args, kwargs, st)

        wrapper._autocast_op = name
        return wrapper

    return decorate


def wrap_functional(namespace: dict) -> None:
    """Wrap, in place, the functions of ``namespace`` (``nn.functional``'s globals) that some
    device type's policy lists and that are not wrapped yet."""
    names = set().union(*POLICIES.values())
    for name in sorted(names):
        fn = namespace.get(name)
        if callable(fn) and not hasattr(fn, "_autocast_op"):
            namespace[name] = autocast_op(name)(fn)


# ----------------------------------------------------------------------------- custom Functions
def custom_fwd(
    fwd: Callable | None = None, *, device_type: str, cast_inputs: dtypes.DType | None = None
) -> Callable:
    """Decorator for the ``forward`` of an ``autograd.Function``: inside an autocast region,
    with ``cast_inputs`` set, cast floating tensor inputs to it and run ``forward`` with
    autocast off; without, run under the current state (which ``custom_bwd`` restores)."""
    dt = _device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(dt)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(dt)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(dt):
            return fwd(*args, **kwargs)
        st = _STATE
        args = (ctx,) + tuple(_cast(a, cast_inputs, dt, st) for a in args[1:])
        kwargs = {k: _cast(v, cast_inputs, dt, st) for k, v in kwargs.items()}
        with autocast(dt, enabled=False):
            return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorator for the ``backward`` of an ``autograd.Function``: run it with the autocast
    state its ``forward`` (decorated with ``custom_fwd``) ran with."""
    dt = _device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(dt, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
