"""Spatial transformers: ``affine_grid`` (a grid of sampling positions from affine matrices)
and ``grid_sample`` (bilinear / trilinear, nearest or bicubic sampling of an image at those
positions), on 4-D and 5-D inputs (bicubic: 4-D only, as PyTorch).

Both are composites of differentiable Tensor ops: the sample positions are unnormalized and
folded into the image (clip or reflection, PyTorch's formulas), each of the 2^d neighbouring
corners is read with one ``gather`` over the flattened image, and weighted by its fractional
distances. Gradients reach the input (through gather) and the grid (through the weights),
and double backward comes for free. Bicubic reads the 4x4 taps around the unnormalized
position, folding each tap's integer position into the image separately (PyTorch's
get_value_bounded), and weights them with Keys' cubic convolution (A = -0.75).
"""

from __future__ import annotations

import math

import numpy as np

from ... import creation, ops
from ...errors import DTypeError, ShapeError
from ...tensor import Tensor

_MODES = ("bilinear", "nearest", "bicubic")
_A = -0.75  # PyTorch's cubic convolution coefficient
_PADDINGS = ("zeros", "border", "reflection")


def _unnormalize(g: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] to pixel coordinates: corners at pixel centres, or at the image's edges."""
    if align_corners:
        return (g + 1.0) * ((size - 1) / 2.0)
    return ((g + 1.0) * size - 1.0) / 2.0


def _clip(c: Tensor, size: int) -> Tensor:
    """Clamp to [0, size - 1] with a zero gradient at and beyond the bounds (PyTorch's
    clip_coordinates_set_grad)."""
    return ops.where(c <= 0, 0.0, ops.where(c >= size - 1, float(size - 1), c))


def _reflect(c: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect c into [twice_low / 2, twice_high / 2] as often as needed."""
    if twice_low == twice_high:
        return c * 0.0
    low, span = twice_low / 2.0, (twice_high - twice_low) / 2.0
    c = (c - low).abs()
    flips = (c / span).detach().floor()
    extra = c - flips * span
    even = (flips - (flips / 2.0).floor() * 2.0) == 0
    return ops.where(even, extra + low, span - extra + low)


def _source(g: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    c = _unnormalize(g, size, align_corners)
    if padding_mode == "border":
        c = _clip(c, size)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = _clip(c, size)
    return c


def _cubic_coeffs(t: Tensor) -> Tensor:
    """(..., 4): Keys' weights of the taps floor - 1 .. floor + 2 at the fraction t."""

    def near(v):  # |v| <= 1
        return ((_A + 2) * v - (_A + 3)) * v * v + 1.0

    def far(v):  # 1 < |v| < 2
        return ((_A * v - 5 * _A) * v + 8 * _A) * v - 4 * _A

    return ops.stack([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)], -1)


def _tap(c: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """A bicubic tap's integer position, folded into the image on its own (border: clamp;
    reflection: reflect then clamp; zeros: as is, read as zero outside)."""
    if padding_mode == "border":
        c = _clip(c, size)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = _clip(c, size)
    return c.long()


def _bicubic(input: Tensor, g: Tensor, padding_mode: str, align_corners: bool) -> Tensor:
    """input (N, C, H, W) sampled at g (N, P, 2) from its 4x4 neighbourhoods: (N, C, P)."""
    n, ch, h, w = input.shape
    p = g.shape[1]
    ix = _unnormalize(g[..., 0], w, align_corners)  # not folded: the taps are
    iy = _unnormalize(g[..., 1], h, align_corners)
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    wx, wy = _cubic_coeffs(ix - x0), _cubic_coeffs(iy - y0)  # (N, P, 4)
    offs = creation.tensor(np.arange(-1.0, 3.0), dtype=ix.dtype, device=ix.device)
    xs = _tap(x0.unsqueeze(-1) + offs, w, padding_mode, align_corners)
    ys = _tap(y0.unsqueeze(-1) + offs, h, padding_mode, align_corners)
    xs = xs.unsqueeze(2).expand(n, p, 4, 4).reshape(n, -1)  # tap (i, j) at y_i, x_j
    ys = ys.unsqueeze(3).expand(n, p, 4, 4).reshape(n, -1)
    vals = _read(input.reshape(n, ch, -1), [xs, ys], (h, w)).reshape(n, ch, p, 4, 4)
    rows = (vals * wx.unsqueeze(1).unsqueeze(3)).sum(-1)  # along x first, as PyTorch
    return (rows * wy.unsqueeze(1)).sum(-1)


def _read(flat: Tensor, coords: list, sizes: tuple) -> Tensor:
    """flat (N, C, prod(sizes)) read at integer coords (each (N, P) int64, last dim first),
    zero where any coord is out of bounds: (N, C, P)."""
    inside, index, stride = None, None, 1
    for c, n in zip(coords, reversed(sizes)):
        ok = (c >= 0) & (c < n)
        inside = ok if inside is None else inside & ok
        term = c.clamp(0, n - 1) * stride
        index = term if index is None else index + term
        stride *= n
    n_, ch, _ = flat.shape
    vals = flat.gather(2, index.unsqueeze(1).expand(n_, ch, index.shape[1]))
    return ops.where(inside.unsqueeze(1), vals, 0.0)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` at the normalized positions of ``grid`` (x, y[, z] in [-1, 1]: -1 the
    left/top/front edge or pixel centre, see align_corners).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        grid: (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), the last dim (x, y[, z]).
        mode: "bilinear" (trilinear for 5-D), "nearest" (ties to even) or "bicubic" (4-D
            only: the 4x4 taps around each position, Keys' cubic convolution, A = -0.75);
        padding_mode: "zeros", "border" (clamp) or "reflection" for positions outside;
        align_corners: -1 and 1 are the corner pixels' centres (True) or the image's edges
            (False, the default).

    Returns:
        Tensor (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    Example:
        >>> F.grid_sample(ad.randn(1, 3, 8, 8), ad.rand(1, 4, 5, 2) * 2 - 1,
        ...               align_corners=False).shape
        (1, 3, 4, 5)
    """
    if mode not in _MODES:
        raise ValueError(f"grid_sample: expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: {mode!r}")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"grid_sample: expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: {padding_mode!r}")
    nsp = input.ndim - 2
    if nsp not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != nsp or \
            grid.shape[0] != input.shape[0]:
        raise ShapeError(f"grid_sample: expected a 4-D input with a grid (N, H, W, 2) or a 5-D "
                         f"input with a grid (N, D, H, W, 3), same N, got shapes "
                         f"{tuple(input.shape)} and {tuple(grid.shape)}")
    if not input.is_floating_point() or grid.dtype is not input.dtype:
        raise DTypeError(f"grid_sample: expected a floating input and a grid of its dtype, got "
                         f"{input.dtype.name} and {grid.dtype.name}")
    if mode == "bicubic" and nsp != 2:
        raise RuntimeError(f"grid_sample: bicubic interpolation only supports 4-D input, got "
                           f"shape {tuple(input.shape)}")
    align = bool(align_corners)
    n, ch = input.shape[:2]
    sizes = tuple(input.shape[2:])
    out_sp = tuple(grid.shape[1:-1])
    g = grid.reshape(n, -1, nsp)
    if mode == "bicubic":
        return _bicubic(input, g, padding_mode, align).reshape(n, ch, *out_sp)
    coords = [_source(g[..., i], sizes[nsp - 1 - i], padding_mode, align) for i in range(nsp)]
    flat = input.reshape(n, ch, -1)
    if mode == "nearest":
        idx = [c.detach().round().long() for c in coords]
        out = _read(flat, idx, sizes)
        # PyTorch's grid gradient is zero here, not absent: a never-taken branch on g gives it
        never = creation.tensor(np.zeros((1, 1, 1), bool), device=out.device)
        return ops.where(never, g[..., 0].unsqueeze(1), out).reshape(n, ch, *out_sp)
    lows = [c.detach().floor() for c in coords]
    fracs = [c - lo for c, lo in zip(coords, lows)]
    lows = [lo.long() for lo in lows]
    out = None
    for corner in range(2 ** nsp):
        bits = [(corner >> i) & 1 for i in range(nsp)]
        weight = math.prod(f if b else 1.0 - f for f, b in zip(fracs, bits))
        vals = _read(flat, [lo + b for lo, b in zip(lows, bits)], sizes)
        term = vals * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape(n, ch, *out_sp)


def _base(steps: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """PyTorch's linspace_from_neg_one in theta's dtype: identity maps then land exactly on
    pixel centres, where the grid's gradient picks the same side of the kink as PyTorch's."""
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype)
    base = creation._linspace_points(-1.0, 1.0, steps, dtype)
    return base if align_corners else base * dtype.type(steps - 1) / dtype.type(steps)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of affine maps: grid[n, h, w] = theta[n] @ (x_w, y_h, 1), with x, y
    evenly spaced in [-1, 1] (pixel centres as ``grid_sample`` reads them).

    Args:
        theta: (N, 2, 3) for a 2-D size, (N, 3, 4) for a 3-D one.
        size: the output image size (N, C, H, W) or (N, C, D, H, W).
        align_corners: as in ``grid_sample`` (default False).

    Returns:
        Tensor (N, H, W, 2) or (N, D, H, W, 3).

    Example:
        >>> theta = ad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(theta, (1, 3, 4, 5), align_corners=False).shape
        (1, 4, 5, 2)
    """
    size = tuple(int(s) for s in size)
    nsp = len(size) - 2
    if nsp not in (2, 3):
        raise ValueError(f"affine_grid: only 2D and 3D sizes are supported, got size {size}")
    if not theta.is_floating_point():
        raise DTypeError(f"affine_grid: expected a floating theta, got {theta.dtype.name}")
    if tuple(theta.shape) != (size[0], nsp, nsp + 1):
        raise ShapeError(f"affine_grid: expected a theta of shape Nx{nsp}x{nsp + 1} with "
                         f"N={size[0]} for size {size}, got {tuple(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a non-zero, positive size, got {size}")
    spatial = size[2:]
    dtype = np.dtype(theta.dtype.np)
    axes = [_base(s, bool(align_corners), dtype) for s in spatial]  # D/H/W order
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack(list(reversed(mesh)) + [np.ones(spatial, dtype)], -1).reshape(-1, nsp + 1)
    base_t = creation.tensor(base, dtype=theta.dtype, device=theta.device)
    grid = base_t @ theta.transpose(1, 2)  # (N, P, nsp)
    return grid.reshape(size[0], *spatial, nsp)
