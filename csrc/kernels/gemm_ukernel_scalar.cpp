// Scalar reference GEMM micro-kernel (4 x 8), same packed-panel contract as the SIMD ones.
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

}  // namespace

template <typename T>
void fill_gemm_scalar(KernelTable<T>& t) {
  t.gemm_ukernel = ukernel<T>;
  t.gemm_mr = kMR;
  t.gemm_nr = kNR;
}
template void fill_gemm_scalar<float>(KernelTable<float>&);
template void fill_gemm_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
