// Fused layer norm over the last n elements of each row of a C-contiguous (rows, n) array.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

template <typename T>
void fill_norm_scalar(KernelTable<T>& t);
template <typename T>
void fill_norm_avx2(KernelTable<T>& t);
template <typename T>
void fill_norm_avx512(KernelTable<T>& t);  // over fill_norm_avx2's
template <typename T>
void fill_norm_neon(KernelTable<T>& t);

// y = (x - mean) * rstd * w + b per row; mean and rstd have one value per row.
// w and b may be null (no affine).
template <typename T>
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t rows,
                        int64_t n, T eps);

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w, xhat = (x - mean) * rstd;
// gw = sum_rows gy * xhat and gb = sum_rows gy when w != null (gw, gb have n elements).
template <typename T>
void layer_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* w, T* gx,
                         T* gw, T* gb, int64_t rows, int64_t n);

// Batch norm backward of x viewed as (outer, c, inner) with statistics per channel (mean,
// rstd, optional w: c values each): gb = sum(gy), gw = sum(gy * xhat), gx = w * rstd *
// (gy - gb / m - xhat * gw / m), m = outer * inner.  Two passes; threads split channels.
template <typename T>
void batch_norm_backward_channels(const T* gy, const T* x, const T* mean, const T* rstd,
                                  const T* w, int64_t outer, int64_t c, int64_t inner, T* gx,
                                  T* gw, T* gb);

// Batch norm's normalization of x viewed as (outer, c, inner): y = x * scale[ch] + shift[ch],
// scale and shift folded from the statistics and the affine (c values each).  One pass.
template <typename T>
void channel_affine(const T* x, const T* scale, const T* shift, int64_t outer, int64_t c,
                    int64_t inner, T* y);

}  // namespace autodiff::kernels
