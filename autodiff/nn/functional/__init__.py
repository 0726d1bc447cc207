"""``nn.functional``: the stateless form of every layer (``import autodiff.nn.functional as F``).

Convolution, pooling and normalization primitives live in ``autodiff.ops`` (conv, pooling,
norm, activation); this namespace gathers them with the losses, attention and the rest.
"""

from __future__ import annotations

import warnings

from ...ops import log_softmax as _log_softmax
from ...ops import softmax as _softmax
from ...ops.activation import erf, gelu
from ...ops.conv import fold, unfold
from ...ops.nn_ops import layer_norm
from ...ops.norm import group_norm, instance_norm, rms_norm
from ...ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ._conv import conv1d, conv2d, conv_transpose2d
from ._attention import multi_head_attention_forward, scaled_dot_product_attention
from ._basic import (
    bilinear,
    channel_shuffle,
    cosine_similarity,
    dropout,
    dropout1d,
    dropout2d,
    embedding,
    interpolate,
    linear,
    native_channel_shuffle,
    normalize,
    one_hot,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
)
from ._loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ._activation import (
    celu,
    celu_,
    elu,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from ._distance import pairwise_distance, pdist
from ._loss_extra import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ._ctc import ctc_loss
from ._fractional import (
    alpha_dropout,
    feature_alpha_dropout,
    fractional_max_pool2d,
    fractional_max_pool2d_with_indices,
    fractional_max_pool3d,
    fractional_max_pool3d_with_indices,
    lp_pool3d,
    max_unpool3d,
    triplet_margin_with_distance_loss,
)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _softmax_dim(name: str, x, dim, stacklevel: int) -> int:
    """PyTorch's implicit dim: 0 for 0-, 1- and 3-D inputs, else 1, with its warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if x.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    return _softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along ``dim``."""
    return _log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    return _softmax(-input, _softmax_dim("softmin", input, dim, _stacklevel), dtype)


from ._conv_extra import conv_transpose1d
from ._norm_extra import batch_norm, local_response_norm
from ._pooling_extra import (
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    lp_pool1d,
    lp_pool2d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_unpool1d,
    max_unpool2d,
)
from ._conv3d import conv3d, conv_transpose3d
from ._pool3d import (
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool3d,
    max_pool3d,
    max_pool3d_with_indices,
)
from ._misc_extra import dropout3d, embedding_bag, gumbel_softmax, multilabel_margin_loss
from ._grid import affine_grid, grid_sample

# autocast (autodiff.amp): the ops its policies list cast their inputs in an autocast region.
# Keep this last: it wraps the names defined above.
from ...amp.autocast_mode import wrap_functional as _wrap_functional  # noqa: E402

_wrap_functional(globals())
