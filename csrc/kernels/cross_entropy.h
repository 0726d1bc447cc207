// Fused cross-entropy of (N, C) logits against integer class targets, forward and backward.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

// lse[r] = logsumexp(x[r, :]) (the max shifted to 0 when it is not finite, as the NumPy
// reference); loss[r] = lse[r] - x[r, t[r]], 0 where t[r] == ignore.  Targets must be
// validated by the caller (in [0, c) or == ignore).
template <typename T>
void cross_entropy_rows(const T* x, const int64_t* t, int64_t n, int64_t c, int64_t ignore,
                        T* loss, T* lse);

// out[r, :] = (softmax(x[r, :]) - onehot(t[r])) * g[r * g_stride] (g_stride 0: one scalar),
// 0 on ignored rows.
template <typename T>
void cross_entropy_backward_rows(const T* x, const int64_t* t, const T* lse, const T* g,
                                 int64_t g_stride, int64_t n, int64_t c, int64_t ignore, T* out);

}  // namespace autodiff::kernels
