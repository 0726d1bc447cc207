"""``backends.mps``: autodiff has no Apple Metal (MPS) device."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
