// Fused Adam and SGD with momentum: the optimizers' 4-13 NumPy ufunc calls per parameter (each
// a pass over memory and ~1 us of call overhead) as one threaded pass.
#include "kernels/optim.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

template <typename T, bool kAmsgrad>
void adam_chunk(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, T c1, T b2, T c2, T ibc, T eps,
                T step) {
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + (gi - m[i]) * c1;
    T vi = v[i] * b2 + (gi * gi) * c2;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      const T a = vmax[i];
      vi = (a > vi || a != a) ? a : vi;  // np.maximum: NaN from either side
      vmax[i] = vi;
    }
    p[i] = p[i] - (mi / (std::sqrt(vi) * ibc + eps)) * step;
  }
}

}  // namespace

template <typename T>
void adam_update(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamStep& s) {
  if (n <= 0) return;
  const T c1 = T(1.0 - s.beta1), b2 = T(s.beta2), c2 = T(1.0 - s.beta2);
  const T ibc = T(s.inv_sqrt_bc2), eps = T(s.eps), step = T(s.step_size);
  constexpr int64_t kChunk = 16384;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  const int nt = threads_for(4 * n, kChunk);  // four streams in, three out
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t ch = 0; ch < nchunks; ++ch) {
    const int64_t i0 = ch * kChunk, len = std::min(kChunk, n - i0);
    if (vmax)
      adam_chunk<T, true>(p + i0, g + i0, m + i0, v + i0, vmax + i0, len, c1, b2, c2, ibc, eps,
                          step);
    else
      adam_chunk<T, false>(p + i0, g + i0, m + i0, v + i0, nullptr, len, c1, b2, c2, ibc, eps,
                           step);
  }
}

template <typename T>
void sgd_update(T* p, const T* g, T* b, int64_t n, const SgdStep& s) {
  if (n <= 0) return;
  const T lr = T(s.lr), mom = T(s.momentum), keep = T(1.0 - s.dampening);
  const bool damp = s.dampening != 0, nesterov = s.nesterov, first = s.first;
  constexpr int64_t kChunk = 16384;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  const int nt = threads_for(3 * n, kChunk);  // three streams in, two out
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t ch = 0; ch < nchunks; ++ch) {
    const int64_t i0 = ch * kChunk, i1 = std::min(n, i0 + kChunk);
    for (int64_t i = i0; i < i1; ++i) {
      const T gi = g[i];
      const T bi = first ? gi : b[i] * mom + (damp ? gi * keep : gi);
      b[i] = bi;
      const T d = nesterov ? bi * mom + gi : bi;
      p[i] = p[i] - d * lr;
    }
  }
}

template void sgd_update<float>(float*, const float*, float*, int64_t, const SgdStep&);
template void sgd_update<double>(double*, const double*, double*, int64_t, const SgdStep&);
template void adam_update<float>(float*, const float*, float*, float*, float*, int64_t,
                                 const AdamStep&);
template void adam_update<double>(double*, const double*, double*, double*, double*, int64_t,
                                  const AdamStep&);

}  // namespace autodiff::kernels
