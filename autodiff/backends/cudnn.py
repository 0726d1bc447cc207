"""``backends.cudnn``: PyTorch's cuDNN flags, recorded for scripts that set them; autodiff's
CuPy backend does not use cuDNN, so they have no effect."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    from .. import cuda  # CuPy is imported (by ad.cuda) only when this is called

    return cuda.is_available()
