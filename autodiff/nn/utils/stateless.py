"""``nn.utils.stateless``: PyTorch's deprecated home of ``functional_call``."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers: dict, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``autodiff.func.functional_call`` under its deprecated name: warns FutureWarning, as
    PyTorch 2.x does, then calls ``module`` with the given tensors in place of its own."""
    warnings.warn("`autodiff.nn.utils.stateless.functional_call` is deprecated as of PyTorch "
                  "2.0 and will be removed in a future version of PyTorch. Please use "
                  "`autodiff.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    from ...func import functional_call as call

    return call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                strict=strict)
