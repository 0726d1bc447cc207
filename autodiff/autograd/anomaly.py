"""``detect_anomaly``: record forward stack traces and raise on NaN/Inf in backward."""

from __future__ import annotations

from .grad_mode import state


class detect_anomaly:
    """Context manager (and decorator): a NaN/Inf gradient raises naming the forward op."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.anomaly
        state.anomaly = self.check_nan
        return self

    def __exit__(self, *exc) -> None:
        state.anomaly = self._prev

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    state.anomaly = bool(mode)


def is_anomaly_enabled() -> bool:
    return state.anomaly
