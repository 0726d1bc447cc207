"""autodiff: a define-by-run reverse-mode autograd engine with NumPy, C++ SIMD and CuPy
backends, and PyTorch's API.

    import autodiff as ad
    x = ad.randn(3, 4, requires_grad=True)
    (x @ x.T).relu().sum().backward()
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import autograd, cuda, dtypes, ops  # noqa: F401
from .autograd import (  # noqa: F401
    enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled,
)
from .creation import (  # noqa: F401
    arange, as_tensor, bernoulli, empty, empty_like, eye, from_dlpack, from_numpy, full,
    full_like, linspace, multinomial, ones, ones_like, rand, rand_like, randint, randn,
    randn_like, randperm, tensor, zeros, zeros_like,
)
from .device import (  # noqa: F401
    Device, available_devices, default_device, device, get_default_device, set_default_device,
)
from .dtypes import (  # noqa: F401
    DType, double, float16, float32, float64, get_default_dtype, half, int8, int16, int32,
    int64, long, set_default_dtype, uint8,
)
from .dtypes import bool_ as bool  # noqa: F401,A001
from .dtypes import float_ as float  # noqa: F401,A001
from .dtypes import int_ as int  # noqa: F401,A001
from .errors import DeviceError, DTypeError, ShapeError  # noqa: F401
from .ops import *  # noqa: F401,F403
from .composites import *  # noqa: F401,F403,E402
from .math_functions import *  # noqa: F401,F403,E402
from .index_functions import *  # noqa: F401,F403,E402
from .reduce_functions import *  # noqa: F401,F403,E402
from .torch_names import *  # noqa: F401,F403,E402
from .ops import abs, all, any, max, min, pow, round, sum  # noqa: F401,A004
from .random import Generator, initial_seed, manual_seed, seed  # noqa: F401
from .tensor import Tensor  # noqa: F401
from ._memory_format import (  # noqa: F401
    channels_last, channels_last_3d, contiguous_format, memory_format, preserve_format,
)
from ._memory_format import install as _install_memory_format

_install_memory_format(Tensor)  # contiguous / clone / is_contiguous(memory_format=...)
from . import utils  # noqa: E402,F401
for _m in ("cuda", "cudnn", "mkl", "mps", "openmp"):  # ad.backends.cudnn.benchmark = ..., as torch
    __import__(f"{__name__}.backends.{_m}")
del _m
__import__(f"{__name__}.autograd.profiler")  # ad.autograd.profiler (it binds ad.profiler too)
from . import amp  # noqa: E402,F401  (mixed precision: autocast, GradScaler)
from .amp import autocast  # noqa: E402,F401
from .amp._aliases import cpu  # noqa: E402,F401  (ad.cpu.amp, torch.cpu.amp's aliases)

dtype = DType


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def save(obj, f=None, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False, *, path=None) -> None:
    """Save nested dicts/lists of tensors and plain values without pickle (see serialization).
    ``f`` is torch.save's name for the file (``path=`` works too); the pickle options are
    accepted for torch.save's signature and ignored: nothing is pickled."""
    from .serialization import save as _save

    if f is None and path is None:
        raise TypeError("save() missing 1 required argument: 'f'")
    _save(obj, f if path is None else path)


def load(f=None, map_location=None, pickle_module=None, *, path=None, **kwargs):
    """Load what ``save`` (or ``torch.save``) wrote; never executes code from the file.
    ``f`` is torch.load's name for the file (``path=`` works too); ``weights_only`` and
    ``mmap`` are accepted as ``torch.load`` takes them (serialization)."""
    from .serialization import load as _load

    if f is None and path is None:
        raise TypeError("load() missing 1 required argument: 'f'")
    return _load(f if path is None else path, map_location, pickle_module, **kwargs)


def _init_default_device() -> None:
    get_default_device()  # AUTODIFF_DEVICE is checked at import


_init_default_device()


# ``info`` too: imported here, ``python -m autodiff.info`` would warn that runpy found it
# in sys.modules already
_LAZY_SUBMODULES = ("nn", "optim", "models", "serialization", "bench", "info")
_LAZY_SUBMODULES += ("testing", "jit", "compiler")  # torch.testing, torch.jit, torch.compiler


def __getattr__(name: str):
    """``ad.nn``, ``ad.optim``, ``ad.models`` load on first use (as ``torch.optim`` works
    after a bare ``import torch``) without slowing down ``import autodiff``."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'autodiff' has no attribute {name!r}")

# torch.linalg (the name ``linalg`` from ``ops`` is its own module, replaced here)
linalg = __import__("importlib").import_module(".linalg", __name__)
globals().update(linalg.TORCH_NAMES)  # ad.det, ad.inverse, ad.svd (U, S, V), ...

# torch.special and torch.distributions
from . import special  # noqa: E402
from .special import digamma, erfinv, polygamma  # noqa: E402,F401
from .special import gammaln as lgamma  # noqa: E402,F401
_LAZY_SUBMODULES += ("distributions",)  # ad.distributions loads on first use (imports nn)
from .torch_names_extra import *  # noqa: F401,F403,E402
_LAZY_SUBMODULES += ("func",)  # ad.func (torch.func); ad.autograd.forward_ad already imports it
_LAZY_SUBMODULES += ("safetensors",)  # ad.safetensors: save_file / load_file / safe_open
from .torch_nn_extra import *  # noqa: F401,F403,E402  (torch.kl_div, native_*, lstm_cell, ...)
from .torch_gaps_extra import *  # noqa: F401,F403,E402  (histogramdd, svd_lowrank, autocast state)
from ._out import install as _install_out  # noqa: E402

_install_out(globals())  # out= on the functions PyTorch gives it (last: wraps the final names)
