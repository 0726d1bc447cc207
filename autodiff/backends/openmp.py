"""``backends.openmp``: whether the C++ extension (built with OpenMP) is loaded."""


def is_available() -> bool:
    from . import cpp_unavailable_reason

    return cpp_unavailable_reason() is None
