"""``backends.mkl``: autodiff does not link MKL (NumPy's BLAS and our C++ kernels do the work)."""


def is_available() -> bool:
    return False
