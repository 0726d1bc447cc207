"""``ad.compiler``: PyTorch's ``torch.compiler`` helpers, as no-ops.

autodiff runs eagerly: ``ad.compile`` returns the model unchanged, so ``disable`` has nothing
to disable (it returns the function, and works with or without parentheses), and
``is_compiling()`` is always False.

Example:
    >>> @ad.compiler.disable
    ... def debug_step(x): ...
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "disable", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "reset"]


def compile(*args: Any, **kwargs: Any) -> Any:
    """``ad.compile``: the model unchanged."""
    from .torch_names import compile as _compile

    return _compile(*args, **kwargs)


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None):
    """``@disable`` or ``@disable(reason=...)``: the function, unchanged."""
    return fn if fn is not None else (lambda f: f)


def allow_in_graph(fn: Callable) -> Callable:
    return fn


def assume_constant_result(fn: Callable) -> Callable:
    return fn


def reset() -> None:
    """Nothing is cached: autodiff compiles nothing."""


def is_compiling() -> bool:
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False
