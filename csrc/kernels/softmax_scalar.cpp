// Scalar reference softmax kernels: max, exp-sum, normalise (float64 sums).
#include <cmath>

#include "kernels/softmax.h"

namespace autodiff::kernels {
namespace {

template <typename T>
T row_max_nan(const T* x, int64_t n) {
  T m = x[0];
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > m || x[i] != x[i]) m = x[i];
  return m;
}

template <typename T>
void softmax_row(const T* x, T* y, int64_t n, bool /*stream*/) {
  if (n == 0) return;
  const T m = row_max_nan(x, n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = T(std::exp(double(x[i]) - double(m)));  // x - m unrounded, as the vector levels
    s += double(y[i]);
  }
  const T r = T(1.0 / s);
  for (int64_t i = 0; i < n; ++i) y[i] *= r;
}

template <typename T>
void log_softmax_row(const T* x, T* y, int64_t n, bool /*stream*/) {
  if (n == 0) return;
  const T m = row_max_nan(x, n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(x[i]) - double(m));
  const T c = T(std::log(s));  // (x - m) - c: see softmax_simd.h's log_softmax_row_f32
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - c;
}

template <typename T>
void softmax_bwd_row(const T* y, const T* gy, T* gx, int64_t n, bool /*stream*/) {
  double dot = 0;
  for (int64_t i = 0; i < n; ++i) dot += double(gy[i]) * double(y[i]);
  const T d = T(dot);
  for (int64_t i = 0; i < n; ++i) gx[i] = y[i] * (gy[i] - d);
}

template <typename T>
void log_softmax_bwd_row(const T* y, const T* gy, T* gx, int64_t n, bool /*stream*/) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(gy[i]);
  const T sv = T(s);
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] - std::exp(y[i]) * sv;
}

}  // namespace

template <typename T>
void fill_softmax_scalar(KernelTable<T>& t) {
  t.softmax_row = softmax_row<T>;
  t.log_softmax_row = log_softmax_row<T>;
  t.softmax_bwd_row = softmax_bwd_row<T>;
  t.log_softmax_bwd_row = log_softmax_bwd_row<T>;
}
template void fill_softmax_scalar<float>(KernelTable<float>&);
template void fill_softmax_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
