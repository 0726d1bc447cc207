"""``detect_anomaly``: record forward stack traces and raise on NaN gradients in backward
(not on inf ones, as PyTorch's)."""

from __future__ import annotations

from .grad_mode import state


class detect_anomaly:
    """Context manager (and decorator): anomaly mode on; with check_nan a NaN gradient raises
    naming the forward op."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.anomaly, state.anomaly_check_nan
        state.anomaly, state.anomaly_check_nan = True, bool(self.check_nan)
        return self

    def __exit__(self, *exc) -> None:
        state.anomaly, state.anomaly_check_nan = self._prev

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Set anomaly mode (and its NaN check) now; as a context manager, restore it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = state.anomaly, state.anomaly_check_nan
        state.anomaly, state.anomaly_check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        state.anomaly, state.anomaly_check_nan = self._prev


def is_anomaly_enabled() -> bool:
    return state.anomaly
