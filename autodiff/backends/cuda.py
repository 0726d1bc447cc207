"""``backends.cuda``: PyTorch's matmul flags, recorded for scripts that set them. allow_tf32
starts from AUTODIFF_TF32, which the CuPy backend reads; setting it does not switch TF32."""

from types import SimpleNamespace

from .._config import config

matmul = SimpleNamespace(allow_tf32=config.tf32, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    from .. import cuda

    return cuda.is_available()
