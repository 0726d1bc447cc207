"""Top-level PyTorch names around the math: dtype queries (``promote_types``, ``result_type``,
``can_cast``), global switches (deterministic algorithms, float32 matmul precision, anomaly
mode, print options, warn-always, interop threads), ``Size``, ``vmap`` and the top-level
aliases of ``nn.functional`` (``torch.conv2d`` etc.). Creation and random sampling:
``torch_random_extra``.

Switches that autodiff has no use for (deterministic algorithms, matmul precision, interop
threads) are stored and reported back, as PyTorch does on hardware where they change nothing.
"""

from __future__ import annotations

import builtins
import warnings

from . import dtypes, ops
from ._printing import ARRAY2STRING, set_printoptions  # noqa: F401
from .autograd.grad_mode import state
from .ops._util import _category, _scalar_category, scalar_result_type
from .ops._util import result_type as _tensor_result_type
from .random import default_generator
from .size import Size  # (re-exported as autodiff.Size)
from .tensor import Tensor

# fmt: off
__all__ = [
    "Size", "are_deterministic_algorithms_enabled", "can_cast", "default_generator",
    "get_deterministic_debug_mode", "get_float32_matmul_precision", "get_num_interop_threads",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "is_inference_mode_enabled",
    "is_warn_always_enabled", "newaxis", "promote_types", "result_type", "set_anomaly_enabled",
    "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_flush_denormal",
    "set_num_interop_threads", "set_printoptions", "set_warn_always",
    "use_deterministic_algorithms", "vmap",
]
# fmt: on

newaxis = None


# ----------------------------------------------------------------- dtypes
def promote_types(type1, type2) -> dtypes.DType:
    """The dtype PyTorch's promotion gives two tensor dtypes."""
    return dtypes.promote(dtypes.from_any(type1), dtypes.from_any(type2))


def result_type(tensor, other) -> dtypes.DType:
    """The dtype an arithmetic op on these operands (tensors or Python numbers) returns."""
    t1, t2 = isinstance(tensor, Tensor), isinstance(other, Tensor)
    if t1 and t2:
        return _tensor_result_type(tensor, other)
    if t1 or t2:
        t, s = (tensor, other) if t1 else (other, tensor)
        return scalar_result_type(t.dtype, s)
    c = max(_scalar_category(tensor), _scalar_category(other))
    return (dtypes.bool_, dtypes.int64, dtypes.get_default_dtype())[c]


def can_cast(from_, to) -> bool:
    """Whether PyTorch's casting rules allow from_ -> to (never float -> int, nor to bool)."""
    return _category(dtypes.from_any(from_)) <= _category(dtypes.from_any(to))


# ----------------------------------------------------------------- global switches
_SWITCHES = {
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
    "warn_always": False,
    "interop_threads": 1,
}
PRINT_OPTIONS = ARRAY2STRING  # (autodiff._printing: what the Tensor repr reads)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the switch. autodiff's kernels are deterministic for a given thread count; on,
    this also turns off the C++ kernels' contention guard, which would otherwise run them on
    one thread while other processes hold the cores (a reduction's rounding can depend on
    the thread count)."""
    _SWITCHES["deterministic"], _SWITCHES["warn_only"] = bool(mode), bool(warn_only)
    try:
        from . import _C
    except ImportError:  # NumPy only: nothing to switch
        return
    from ._config import config

    _C.set_contention_guard(config.contention_guard and not mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _SWITCHES["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _SWITCHES["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/"default": off; 1/"warn": deterministic, warn only; 2/"error": deterministic."""
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else debug_mode
    if mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected one of `default`, `warn`, "
            f"`error`, but got {debug_mode}"
        )
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _SWITCHES["deterministic"]:
        return 0
    return 1 if _SWITCHES["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """'highest', 'high' or 'medium' (recorded; float32 matmuls always run in full float32)."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            f"set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _SWITCHES["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _SWITCHES["matmul_precision"]


def set_warn_always(b: bool) -> None:
    _SWITCHES["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _SWITCHES["warn_always"]


def set_num_interop_threads(n: int) -> None:
    """Recorded only: autodiff runs no inter-op thread pool."""
    if n < 1:
        raise RuntimeError(f"set_num_interop_threads: expected a positive number, got {n}")
    _SWITCHES["interop_threads"] = int(n)


def get_num_interop_threads() -> int:
    return _SWITCHES["interop_threads"]


def set_flush_denormal(mode: bool) -> bool:
    """Returns False: flushing denormals is not supported (PyTorch's answer on such CPUs)."""
    return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``autograd.set_detect_anomaly``)."""
    state.anomaly = bool(enabled and check_nan)


def is_anomaly_enabled() -> bool:
    return bool(state.anomaly)


def is_anomaly_check_nan_enabled() -> bool:
    return bool(state.anomaly and state.anomaly_check_nan)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (kept with it, in torch_names)."""
    from .torch_names import is_inference_mode_enabled as enabled

    return enabled()


# ----------------------------------------------------------------- vmap
def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """torch.vmap: ``autodiff.func.vmap`` (pytrees, randomness modes) where that package is
    present; else a loop over the mapped dim and a stack (ints or None as ``in_dims``, a
    tensor or a tuple of them out). Same values and gradients as PyTorch, not its speed."""
    try:
        from .func import vmap as func_vmap
    except ImportError:
        return _vmap_loop(func, in_dims, out_dims)
    return func_vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def _vmap_loop(func, in_dims, out_dims):
    def mapped(*args):
        dims = tuple(in_dims) if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None and isinstance(a, Tensor)}
        if len(sizes) != 1:
            raise ValueError(
                f"vmap: expected all tensors to have the same size in the mapped "
                f"dimension, got sizes {sorted(sizes)}"
            )
        n = sizes.pop()
        outs = [
            func(
                *[
                    a.select(d, i) if d is not None and isinstance(a, Tensor) else a
                    for a, d in zip(args, dims)
                ]
            )
            for i in builtins.range(n)
        ]
        if isinstance(outs[0], tuple):
            od = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(outs[0])
            return tuple(
                ops.stack([o[k] for o in outs], od[k]) for k in builtins.range(len(outs[0]))
            )
        return ops.stack(outs, out_dims)

    return mapped


# ----------------------------------------------------------------- nn.functional aliases
def _functional(name: str):
    """torch.<name>: ``nn.functional.<name>`` (imported on first call: ``nn`` loads lazily)."""

    def fn(*args, **kwargs):
        from .nn import functional as F

        return getattr(F, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``nn.functional.{name}`` under PyTorch's top-level name."
    return fn


_SAME_SIGNATURE = (
    "adaptive_avg_pool1d",
    "avg_pool1d",
    "bilinear",
    "celu",
    "celu_",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_similarity",
    "hardshrink",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pairwise_distance",
    "pdist",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "rms_norm",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "threshold",
    "threshold_",
)
for _name in _SAME_SIGNATURE:
    globals()[_name] = _functional(_name)
__all__ += list(_SAME_SIGNATURE)
native_channel_shuffle = _functional("channel_shuffle")


# torch's own names, which differ from nn.functional's (train, not training; cudnn_enabled)
def dropout(input: Tensor, p: float = 0.5, train: bool = True, inplace: bool = False) -> Tensor:
    from .nn import functional as F

    return F.dropout(input, p, train, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, train: bool = False,
                  inplace: bool = False) -> Tensor:
    from .nn import functional as F

    return F.alpha_dropout(input, p, train, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, train: bool = False,
                          inplace: bool = False) -> Tensor:
    from .nn import functional as F

    return F.feature_alpha_dropout(input, p, train, inplace)


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5,
               cudnn_enabled: bool = True) -> Tensor:
    from .nn import functional as F

    return F.group_norm(input, num_groups, weight, bias, eps)


def adaptive_max_pool1d(input: Tensor, output_size) -> tuple:
    """(output, indices), as torch.adaptive_max_pool1d returns both."""
    return _functional("adaptive_max_pool1d")(input, output_size, return_indices=True)


def max_pool1d_with_indices(
    input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> tuple:
    return _functional("max_pool1d")(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True
    )


def batch_norm(
    input: Tensor,
    weight,
    bias,
    running_mean,
    running_var,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """torch.batch_norm's argument order (weight and bias first)."""
    return _functional("batch_norm")(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )


def instance_norm(
    input: Tensor,
    weight,
    bias,
    running_mean,
    running_var,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """torch.instance_norm's argument order (weight and bias first)."""
    return _functional("instance_norm")(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def embedding(
    weight: Tensor,
    indices: Tensor,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """torch.embedding: weight first; padding_idx -1 means none."""
    return _functional("embedding")(
        indices,
        weight,
        None if padding_idx < 0 else padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=sparse,
    )


def constant_pad_nd(input: Tensor, pad, value: float = 0) -> Tensor:
    return ops.pad(input, tuple(pad), "constant", value)


__all__ += [
    "adaptive_max_pool1d",
    "alpha_dropout",
    "batch_norm",
    "dropout",
    "feature_alpha_dropout",
    "group_norm",
    "constant_pad_nd",
    "embedding",
    "instance_norm",
    "max_pool1d_with_indices",
    "native_channel_shuffle",
]
del _name
