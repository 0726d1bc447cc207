// Scalar reference reduction kernels (float64 accumulation).
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

template <typename T>
void row_welford(const T* x, int64_t n, double* mean, double* m2) {
  double mu = 0, s = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(x[i]) - mu;
    mu += d / double(i + 1);
    s += d * (double(x[i]) - mu);
  }
  *mean = mu;
  *m2 = s;
}

template <typename T>
double row_dot(const T* x, const T* y, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(y[i]);
  return s;
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
void col_max(T* acc, const T* x, int64_t w) {
  for (int64_t j = 0; j < w; ++j)
    if (x[j] > acc[j] || x[j] != x[j]) acc[j] = x[j];
}

template <typename T>
void col_welford(const T* x, int64_t w, int64_t k, T* mean, T* m2) {
  const T rk = T(1) / T(k);
  for (int64_t j = 0; j < w; ++j) {
    T d = x[j] - mean[j];
    mean[j] += d * rk;
    m2[j] += d * (x[j] - mean[j]);
  }
}

}  // namespace

template <typename T>
void fill_reduce_scalar(KernelTable<T>& t) {
  t.row_sum = row_sum<T>;
  t.row_max = row_max<T>;
  t.row_welford = row_welford<T>;
  t.row_dot = row_dot<T>;
  t.col_sum = col_sum<T>;
  t.col_max = col_max<T>;
  t.col_welford = col_welford<T>;
}
template void fill_reduce_scalar<float>(KernelTable<float>&);
template void fill_reduce_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
