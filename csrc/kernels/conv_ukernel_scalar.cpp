// Scalar reference convolution micro-kernel (4 x 8, the scalar GEMM's tile): C (+)= A panel
// times B rows read in place at b + boff[k] (see ConvUkernelFn).
#include "kernels/conv.h"

namespace autodiff::kernels {
namespace {

constexpr int kMR = 4, kNR = 8;

template <typename T>
void ukernel(int64_t kc, const T* pa, const T* b, const int64_t* boff, int64_t half, T* c,
             int64_t ldc, int m, bool accumulate) {
  constexpr int kH = kNR / 2;
  T acc[kMR][kNR] = {};
  for (int64_t k = 0; k < kc; ++k, pa += kMR) {
    const T* bk = b + boff[k];
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += pa[i] * (j < kH ? bk[j] : bk[half + j - kH]);
  }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < kNR; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

}  // namespace

template <typename T>
void fill_conv_scalar(KernelTable<T>& t) {
  t.conv_ukernel = ukernel<T>;
  t.conv_mr = kMR;
  t.conv_nr = kNR;
}
template void fill_conv_scalar<float>(KernelTable<float>&);
template void fill_conv_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
