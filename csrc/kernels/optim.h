// Fused optimizer updates: one pass over a parameter and its state instead of a dozen
// array operations.
#pragma once

#include <cstdint>

namespace autodiff::kernels {

struct AdamStep {
  double beta1, beta2, step_size, inv_sqrt_bc2, eps;
};

// One Adam step in place over n contiguous elements, in the optimizer's NumPy order (no
// fused multiply-adds): m += (1 - beta1) (g - m); v = beta2 v + (1 - beta2) g g; with vmax,
// vmax = max(vmax, v) (NaN propagates) and v's place taken by vmax; then
// p -= (m / (sqrt(v) inv_sqrt_bc2 + eps)) step_size.  Threaded in chunks.
template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& s);

}  // namespace autodiff::kernels
