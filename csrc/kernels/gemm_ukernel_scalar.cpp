// Scalar reference GEMM micro-kernels (4 x 8), same contracts as the SIMD ones.
#include <algorithm>

#include "kernels/gemm.h"

namespace autodiff::kernels {
namespace {

constexpr int kMR = 4, kNR = 8;

template <typename T>
void ukernel(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, int m, int n,
             bool accumulate) {
  T acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k, pa += kMR, pb += kNR)
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += pa[i] * pb[j];
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

// Small-GEMM contract: A in place (rows >= m never read), B rows ldb apart.
template <typename T>
void ukernel_small(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t ldb, T* c,
                   int64_t ldc, int m, int n, bool accumulate) {
  T acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k, b += ldb)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += a[i * rsa + k * csa] * b[j];
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

// Narrow-GEMM contract: row-major A, column-major B, one dot product per C element.
template <typename T>
void dot_kernel(int64_t kc, const T* a, int64_t rsa, const T* b, int64_t csb, T* c, int64_t ldc,
                int m, int n, bool accumulate) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      T s = 0;
      for (int64_t k = 0; k < kc; ++k) s += a[i * rsa + k] * b[j * csb + k];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}

template <typename T>
void gemv_row(int64_t kc, int64_t n, const T* a, int64_t csa, const T* b, int64_t rsb, T* y,
              bool accumulate) {
  if (!accumulate) std::fill(y, y + n, T(0));
  for (int64_t k = 0; k < kc; ++k) {
    const T ak = a[k * csa];
    const T* bk = b + k * rsb;
    for (int64_t j = 0; j < n; ++j) y[j] += ak * bk[j];
  }
}

template <typename T>
void gemv_col(int64_t kc, int64_t n, const T* a, const T* b, int64_t csb, T* y) {
  for (int64_t j = 0; j < n; ++j) {
    T s = 0;
    for (int64_t k = 0; k < kc; ++k) s += a[k] * b[j * csb + k];
    y[j] = s;
  }
}

}  // namespace

template <typename T>
void fill_gemm_scalar(KernelTable<T>& t) {
  t.gemm_ukernel = ukernel<T>;
  t.gemm_small_ukernel = ukernel_small<T>;
  t.gemm_dot_kernel = dot_kernel<T>;
  t.gemv_row_kernel = gemv_row<T>;
  t.gemv_col_kernel = gemv_col<T>;
  t.gemm_mr = t.gemm_small_mr = kMR;
  t.gemm_nr = kNR;
}
template void fill_gemm_scalar<float>(KernelTable<float>&);
template void fill_gemm_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
