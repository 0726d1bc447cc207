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

struct SgdStep {
  double lr, momentum, dampening;
  bool nesterov, first;
};

// One SGD-with-momentum step in place over n contiguous elements, in the optimizer's NumPy
// order (no fused multiply-adds): b = g on the first step, else b = momentum b + (1 -
// dampening) g (the product skipped without dampening); d = momentum b + g with Nesterov,
// else b; p -= d lr.  Threaded in chunks.
template <typename T>
void sgd_update(T* p, const T* g, T* b, int64_t n, const SgdStep& s);

}  // namespace autodiff::kernels
