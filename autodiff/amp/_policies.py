"""Which ops autocast casts, and to what: PyTorch 2.13's lists (aten/src/ATen/autocast_mode.cpp)
restricted to the ops autodiff has, per device type.

A policy is one of
    ``"lower"``    cast floating inputs (not float64) to the region's dtype (float16);
    ``"fp32"``     cast floating inputs (not float64) to float32;
    ``"promote"``  cast floating inputs to the widest floating dtype among them;
    ``"input"``    run as given, then cast the output back to the first input's dtype (a
                   float16 input with float32 weights gives float16, as PyTorch's mixed-dtype
                   normalization kernels do);
    ``"keep"``     run as given: autodiff composes this op of matmuls that PyTorch's kernel
                   does not have, so the matmuls inside must not be cast;
or a function ``(args, kwargs) -> policy | None``. Every listed op runs with autocast
suspended for its device type (PyTorch excludes the autocast dispatch key inside a listed op),
so the primitives it is built of keep the dtypes chosen here. Unlisted ops run as they are, and
the matmuls inside them are cast.

The CPU lists were checked op by op against ``torch.autocast("cpu", dtype=torch.float16)``
(tests/test_amp.py); the CUDA lists are PyTorch's, untested here (no GPU).
"""

from __future__ import annotations

_LOWER = (
    "matmul",
    "bmm",
    "addmm",
    "baddbmm",
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "prelu",
    "scaled_dot_product_attention",
)
# autodiff builds these of matmuls (resampling and averaging matrices) that must stay in the
# input's dtype, as PyTorch's own kernels for them do
_KEEP = (
    "bilinear",
    "interpolate",
    "upsample",
    "embedding_bag",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
)
_LOSSES = (
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
)


def _pad_policy(args: tuple, kwargs: dict) -> str | None:
    """Replication padding and 1-/2-D reflection padding run in float32 on CPU (PyTorch lists
    reflection_pad1d/2d, replication_pad1d/2d/3d); constant and circular padding do not."""
    mode = kwargs.get("mode", args[2] if len(args) > 2 else "constant")
    pad = kwargs.get("pad", args[1] if len(args) > 1 else ())
    if mode == "replicate" or (mode == "reflect" and len(pad) <= 4):
        return "fp32"
    return None


def _banned(name: str):
    def policy(args: tuple, kwargs: dict) -> str:
        raise RuntimeError(
            f"autodiff.nn.functional.{name} and autodiff.nn.BCELoss are unsafe to autocast.\n"
            "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
            "In this case, combine the two layers using autodiff.nn.functional."
            "binary_cross_entropy_with_logits\nor autodiff.nn.BCEWithLogitsLoss.  "
            "binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast."
        )

    return policy


CPU: dict = {
    **dict.fromkeys(_LOWER, "lower"),
    **dict.fromkeys(_LOSSES + ("binary_cross_entropy",), "fp32"),
    **dict.fromkeys(
        (
            "avg_pool3d",
            "max_pool3d",
            "max_pool3d_with_indices",
            "adaptive_avg_pool3d",
            "adaptive_max_pool3d",
            "adaptive_max_pool3d_with_indices",
            "max_unpool1d",
            "max_unpool2d",
            "max_unpool3d",
            "fractional_max_pool2d",
            "fractional_max_pool3d",
            "lp_pool3d",
            "ctc_loss",
            "grid_sample",
            "local_response_norm",
        ),
        "fp32",
    ),
    **dict.fromkeys(
        ("layer_norm", "group_norm", "batch_norm", "instance_norm", "rms_norm"), "input"
    ),
    **dict.fromkeys(_KEEP, "keep"),
    "pad": _pad_policy,
}

CUDA: dict = {
    **dict.fromkeys(_LOWER + ("mv",), "lower"),
    **dict.fromkeys(
        _LOSSES
        + (
            "softmax",
            "log_softmax",
            "softmin",
            "layer_norm",
            "group_norm",
            "cosine_similarity",
            "pdist",
            "softplus",
            "interpolate",
            "upsample",
        ),
        "fp32",
    ),
    **dict.fromkeys(("batch_norm", "instance_norm", "rms_norm"), "input"),
    **dict.fromkeys(_KEEP[3:], "keep"),
    **dict.fromkeys(("bilinear", "dot", "grid_sample"), "promote"),
    "binary_cross_entropy": _banned("binary_cross_entropy"),
}

POLICIES: dict = {"cpu": CPU, "cuda": CUDA}
