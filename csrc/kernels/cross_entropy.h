// Fused cross-entropy of (N, C) logits against integer class targets, forward and backward.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

// stats[r] = (m, l): m the row max (0 when it is not finite, as the NumPy reference) and
// l = log(sum(exp(x[r, :] - m))), kept apart for the backward: their sum rounded to T loses l
// once |m| dwarfs it (logits offset by 1e6). loss[r] = (m - x[r, t[r]]) + l, 0 where
// t[r] == ignore. Targets must be validated by the caller (in [0, c) or == ignore).
template <typename T>
void cross_entropy_rows(const T* x, const int64_t* t, int64_t n, int64_t c, int64_t ignore,
                        T* loss, T* stats);

// out[r, :] = (exp((x[r, :] - m) - l) - onehot(t[r])) * g[r * g_stride], (m, l) = stats[r]
// (g_stride 0: one scalar), 0 on ignored rows.
template <typename T>
void cross_entropy_backward_rows(const T* x, const int64_t* t, const T* stats, const T* g,
                                 int64_t g_stride, int64_t n, int64_t c, int64_t ignore, T* out);

}  // namespace autodiff::kernels
