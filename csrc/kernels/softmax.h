// Softmax and log-softmax over one axis of a C-contiguous array viewed as (outer, n, inner).
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

template <typename T>
void fill_softmax_scalar(KernelTable<T>& t);
template <typename T>
void fill_softmax_avx2(KernelTable<T>& t);
template <typename T>
void fill_softmax_avx512(KernelTable<T>& t);  // over fill_softmax_avx2's
template <typename T>
void fill_softmax_neon(KernelTable<T>& t);

// y = softmax(x) (or log_softmax when log) along the middle axis.  y must not alias x.
template <typename T>
void softmax_axis(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log);

// softmax:     gx = y * (gy - sum(gy * y))
// log_softmax: gx = gy - exp(y) * sum(gy)      (y is the forward output)
template <typename T>
void softmax_backward_axis(const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner,
                           bool log);

}  // namespace autodiff::kernels
