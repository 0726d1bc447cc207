// Reductions along one axis of a C-contiguous array viewed as (outer, n, inner).
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

enum class ReduceOp : int { kSum = 0, kMean = 1, kMax = 2, kVar = 3, kProd = 4 };

template <typename T>
void fill_reduce_scalar(KernelTable<T>& t);
template <typename T>
void fill_reduce_avx2(KernelTable<T>& t);
template <typename T>
void fill_reduce_neon(KernelTable<T>& t);

// out[o, i] = reduce_j x[o, j, i].  kVar divides the sum of squared deviations by
// max(n - correction, 0) (NumPy's rule); kMax needs n >= 1 (checked by the binding).
// kProd multiplies in float64 (float32 too: rounded once, where NumPy's and PyTorch's float32
// products round every step) in a fixed order of lanes, whatever the thread count; 1 for
// n == 0.
// Cumulative sum along the middle axis of x viewed as (outer, n, inner), in double; from
// the end with reverse.  out may not alias x.
template <typename T>
void cumsum_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool reverse);
// The cumulative product likewise (in double, rounded once per element).
template <typename T>
void cumprod_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out,
                  bool reverse = false);

template <typename T>
void reduce_axis(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out,
                 double correction);

// out[o, i] = sum_j g[o, j, i] * h[o, j, i] (g, h C-contiguous of one shape): the backward
// of a broadcast multiply, sum_to(dz * a, b.shape), without dz * a in memory.
template <typename T>
void mul_sum_axis(const T* g, const T* h, int64_t outer, int64_t n, int64_t inner, T* out);

// Per-channel mean and biased variance of x viewed as (outer, c, inner), reducing outer and
// inner (batch_norm statistics of NC / NCL / NCHW).
template <typename T>
void channel_stats(const T* x, int64_t outer, int64_t c, int64_t inner, T* mean, T* var);

// out[o, rows[i], :] += g[o, i, :] for o < outer, i < k (out (outer, n, width), g (outer, k,
// width); rows in [0, n), repeats accumulate): the backward of a gather along an axis
// (embedding lookup, x[index], x[:, index], nearest upsampling).  Threads split the outer
// blocks and the columns, so no two write one element.
template <typename T>
void scatter_add_rows(T* out, const int64_t* rows, int64_t k, const T* g, int64_t width,
                      int64_t outer = 1, int64_t n = 0);

// Linear resampling along an axis: x (outer, n, inner) -> y (outer, m, inner), row j of each
// block = x row lo[j] (1 - f[j]) + x row hi[j] f[j] (PyTorch's weights and order), and the
// adjoint, gx (outer, n, inner, zeroed by the caller) += those weights times g's rows.
// Threads split the outer blocks; lo, hi in [0, n).
template <typename T>
void lerp_rows(const T* x, const int64_t* lo, const int64_t* hi, const T* f, T* y, int64_t outer,
               int64_t n, int64_t m, int64_t inner);
template <typename T>
void lerp_rows_backward(const T* g, const int64_t* lo, const int64_t* hi, const T* f, T* gx,
                        int64_t outer, int64_t n, int64_t m, int64_t inner);

// The k best of each of `rows` contiguous rows of n (largest or smallest first; NaN counts
// as above every number, as in PyTorch; ties keep the lower index first), sorted, into
// vals / idx (rows x k).  One pass over each row keeping a sorted buffer of k: for k << n.
template <typename T>
void topk_rows(const T* x, int64_t rows, int64_t n, int64_t k, bool largest, T* vals, int64_t* idx);

// Partial products a row product keeps (RowProdFn): 16 doubles, four AVX2 or two AVX-512
// registers; every level multiplies them in the same order.
constexpr int kProdLanes = 16;

// The product of a row in float64: kProdLanes partial products (lane k takes x[i] for
// i = k mod kProdLanes), then multiplied together in lane order and the tail after them.
// Plain loops over the lanes, which the compiler turns into float -> double conversions and
// vector multiplies for the caller's target (each level's row_prod inlines it): every level
// gives the same bits.
template <typename T>
__attribute__((always_inline)) inline double row_prod_lanes(const T* x, int64_t n) {
  double acc[kProdLanes];
  for (int k = 0; k < kProdLanes; ++k) acc[k] = 1.0;
  int64_t i = 0;
  for (; i + kProdLanes <= n; i += kProdLanes)
    for (int k = 0; k < kProdLanes; ++k) acc[k] *= double(x[i + k]);
  double p = 1.0;
  for (int k = 0; k < kProdLanes; ++k) p *= acc[k];
  for (; i < n; ++i) p *= double(x[i]);
  return p;
}

// Merge (count, mean, M2) statistics of two parts (Chan et al.).
inline void welford_merge(double& n, double& mean, double& m2, double nb, double mb, double m2b) {
  if (nb == 0) return;
  double nt = n + nb, d = mb - mean;
  mean += d * (nb / nt);
  m2 += m2b + d * d * (n * nb / nt);
  n = nt;
}

}  // namespace autodiff::kernels
