"""``nn.utils.skip_init``: build a module without running its parameter initialisers."""

from __future__ import annotations

import contextlib
import inspect

from .. import init as _init

__all__ = ["skip_init"]


@contextlib.contextmanager
def _initialisers_off():
    """Every in-place initialiser of ``nn.init`` returns its tensor untouched meanwhile.
    (PyTorch builds on the meta device instead; autodiff has none. Not thread-safe: another
    thread building a module at the same moment is not initialised either.)"""
    names = [n for n in dir(_init) if n.endswith("_") and not n.startswith("_")
             and callable(getattr(_init, n))]
    saved = {n: getattr(_init, n) for n in names}
    try:
        for n in names:
            setattr(_init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(_init, n, fn)


def skip_init(module_cls, *args, **kwargs):
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters and buffers are left as
    allocated (uninitialised memory, as ``empty``) instead of initialised.

    The class must take a ``device`` argument, as PyTorch requires.

    Example:
        >>> m = nn.utils.skip_init(nn.Linear, 5, 1)
        >>> nn.init.zeros_(m.weight)
    """
    from ..modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")  # noqa: TRY004 (PyTorch's)
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _initialisers_off():
        return module_cls(*args, **kwargs)
