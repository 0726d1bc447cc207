"""``ad.jit``: PyTorch's TorchScript entry points, as no-ops.

autodiff runs eagerly and does not compile: ``script`` and ``trace`` return the module or
function they are given, unchanged (no graph is recorded, no ScriptModule is made, and
``trace`` does not run the example inputs), and the decorators ``ignore``, ``unused`` and
``export`` return the function. ``is_scripting()`` and ``is_tracing()`` are always False, so
code guarded by them takes its eager path, as in eager PyTorch. ``ad.compile`` is the same kind
of no-op. ``jit.save`` / ``jit.load`` are not provided: save a ``state_dict`` instead.

Example:
    >>> model = ad.jit.script(nn.Linear(4, 2))  # the same nn.Linear
"""

from __future__ import annotations

from typing import Any, Callable, Final

__all__ = ["Final", "ScriptFunction", "ScriptModule", "annotate", "export", "freeze", "ignore",
           "is_scripting", "is_tracing", "optimize_for_inference", "script", "trace",
           "trace_module", "unused"]


class ScriptModule:
    """Never instantiated (nothing is scripted), so ``isinstance(m, ScriptModule)`` is False."""


class ScriptFunction:
    """Never instantiated, as ScriptModule."""


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """Return ``obj`` unchanged (autodiff does not compile TorchScript)."""
    return obj


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          **kwargs: Any) -> Any:
    """Return ``func`` (a module or function) unchanged; the example inputs are not run."""
    return func


def trace_module(mod: Any, inputs: Any = None, **kwargs: Any) -> Any:
    """Return ``mod`` unchanged, as ``trace``."""
    return mod


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


def ignore(drop: bool | Callable = False, **kwargs: Any) -> Any:
    """``@jit.ignore`` or ``@jit.ignore(drop=True)``: the function, unchanged."""
    return drop if callable(drop) else (lambda fn: fn)


def unused(fn: Callable) -> Callable:
    return fn


def export(fn: Callable) -> Callable:
    return fn


def annotate(the_type: Any, the_value: Any) -> Any:
    return the_value


def is_scripting() -> bool:
    """False: autodiff code never runs under TorchScript."""
    return False


def is_tracing() -> bool:
    """False: autodiff never traces."""
    return False
