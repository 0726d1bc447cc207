// Scalar reference reduction kernels (float64 accumulation).
#include <algorithm>
#include <cmath>

#include "kernels/reduce.h"

namespace autodiff::kernels {
namespace {

template <typename T>
double row_sum(const T* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]);
  return s;
}

template <typename T>
T row_max(const T* x, int64_t n) {
  T m = x[0];
  for (int64_t i = 1; i < n; ++i) {
    if (x[i] != x[i]) return x[i];
    if (x[i] > m) m = x[i];
  }
  return m;
}

// As the vector levels: each block of kBlock elements gets its mean from a sum and its M2
// from the squared deviations, and blocks merge by Chan's formula.  (Welford's update per
// element drifted: the variance of 20001 small integers came out 28 ulps off in float64.)
template <typename T>
void row_welford(const T* x, int64_t n, double* mean, double* m2) {
  constexpr int64_t kBlock = 1024;
  double cn = 0, cmean = 0, cm2 = 0;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const int64_t len = std::min(kBlock, n - b0);
    const T* p = x + b0;
    const double bmean = row_sum(p, len) / double(len);
    double bm2 = 0;
    for (int64_t i = 0; i < len; ++i) {
      const double d = double(p[i]) - bmean;
      bm2 += d * d;
    }
    welford_merge(cn, cmean, cm2, double(len), bmean, bm2);
  }
  *mean = cmean;
  *m2 = cm2;
}

template <typename T>
double row_dot(const T* x, const T* y, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(y[i]);
  return s;
}

// The vector levels' lane order (reduce.h), so that every level gives the same product.
template <typename T>
double row_prod(const T* x, int64_t n) {
  return row_prod_lanes(x, n);
}

template <typename T>
void col_prod(double* acc, const T* x, int64_t w, int64_t rows, int64_t step) {
  for (int64_t r = 0; r < rows; ++r, x += step)
    for (int64_t j = 0; j < w; ++j) acc[j] *= double(x[j]);
}

template <typename T>
void col_sum(T* acc, const T* x, const T* y, int64_t w, int64_t rows, int64_t step) {
  for (int64_t r = 0; r < rows; ++r, x += step) {
    if (y) {
      for (int64_t j = 0; j < w; ++j) acc[j] += x[j] * y[j];
      y += step;
    } else {
      for (int64_t j = 0; j < w; ++j) acc[j] += x[j];
    }
  }
}

template <typename T>
void col_max(T* acc, const T* x, int64_t w, int64_t rows, int64_t step) {
  for (int64_t r = 0; r < rows; ++r, x += step)
    for (int64_t j = 0; j < w; ++j)
      if (x[j] > acc[j] || x[j] != x[j]) acc[j] = x[j];
}

template <typename T>
void col_welford(const T* x, const T* shift, int64_t w, int64_t k, T* mean, T* m2) {
  const T rk = T(1) / T(k);
  for (int64_t j = 0; j < w; ++j) {
    const T xs = x[j] - shift[j];
    T d = xs - mean[j];
    mean[j] += d * rk;
    m2[j] += d * (xs - mean[j]);
  }
}

template <typename T>
double fma_loop(int64_t iters, T* sink) {
  constexpr int C = 12;
  T acc[C];
  for (int c = 0; c < C; ++c) acc[c] = T(c) * T(1e-3);
  for (int64_t k = 0; k < iters; ++k)
    for (int c = 0; c < C; ++c) acc[c] = std::fma(acc[c], T(0.999), T(1e-4));
  T s = 0;
  for (int c = 0; c < C; ++c) s += acc[c];
  *sink = s;
  return 2.0 * C * double(iters);
}

}  // namespace

template <typename T>
void fill_reduce_scalar(KernelTable<T>& t) {
  t.fma_loop = fma_loop<T>;
  t.row_sum = row_sum<T>;
  t.row_max = row_max<T>;
  t.row_welford = row_welford<T>;
  t.row_dot = row_dot<T>;
  t.row_prod = row_prod<T>;
  t.col_prod = col_prod<T>;
  t.col_sum = col_sum<T>;
  t.col_max = col_max<T>;
  t.col_welford = col_welford<T>;
}
template void fill_reduce_scalar<float>(KernelTable<float>&);
template void fill_reduce_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
