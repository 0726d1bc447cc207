"""Grad mode: whether ops record the graph. Context managers that double as decorators."""

from __future__ import annotations

import functools
import inspect
import threading


# per thread, as in PyTorch: a no_grad in one thread is not seen by another, and a new thread
# starts with grad enabled
class _State(threading.local):
    fw = None  # forward AD's hook: whether to record ops on dual tensors under no_grad
    saved_hooks = ()  # the (pack, unpack) pairs of graph.saved_tensors_hooks, innermost last
    saved_hooks_disabled = None  # the message of graph.disable_saved_tensors_hooks

    def __init__(self) -> None:
        self.enabled = True
        self.anomaly = False  # record forward traces (detect_anomaly)
        self.anomaly_check_nan = True  # and raise on NaN gradients


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return state.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._mode
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def _fresh(self) -> _GradModeContext:
        return type(self)()

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)

        @functools.wraps(func)
        def generator(*args, **kwargs):  # the mode holds inside each step, not between them
            gen, sent = func(*args, **kwargs), None
            while True:
                with self._fresh():
                    try:
                        item = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
                sent = yield item

        return generator if inspect.isgeneratorfunction(func) else wrapper


class _NoParamDecorator(_GradModeContext):
    """Also a decorator without parentheses: ``@ad.no_grad`` (as PyTorch's)."""

    def __new__(cls, func=None):
        return super().__new__(cls) if func is None else cls()(func)


class no_grad(_NoParamDecorator):
    """Disable graph recording: ``with ad.no_grad(): ...``, ``@ad.no_grad()`` or ``@ad.no_grad``."""

    _mode = False


class enable_grad(_NoParamDecorator):
    """Enable graph recording inside a no_grad region."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)`` acts immediately, and restores on exit when used with ``with``."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def _fresh(self) -> set_grad_enabled:
        return set_grad_enabled(self._mode)

    def __call__(self, func):
        state.enabled = self._prev  # used as a decorator: do not change the mode now
        return super().__call__(func)
