"""nn.utils: gradient clipping (``nn.utils.clip_grad``), flattening parameters to a vector
(``nn.utils.convert_parameters``), Conv/Linear-BatchNorm fusion (``nn.utils.fusion``),
``skip_init``, LoRA (``nn.utils.lora``), ``nn.utils.rnn.pad_sequence``, weight and spectral
normalization, parametrizations (``nn.utils.parametrize``, ``nn.utils.parametrizations``),
pruning (``nn.utils.prune``) and ``nn.utils.stateless.functional_call`` (deprecated;
``ad.func.functional_call``)."""

from __future__ import annotations

from . import (  # noqa: F401
    clip_grad,
    convert_parameters,
    fusion,
    lora,
    parametrizations,
    parametrize,
    prune,
    rnn,
    stateless,
)
from .clip_grad import _clip_grads_with_norm_ as clip_grads_with_norm_  # noqa: F401
from .clip_grad import _get_total_norm as get_total_norm  # noqa: F401
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .fusion import (  # noqa: F401
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)
from .init import skip_init  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
