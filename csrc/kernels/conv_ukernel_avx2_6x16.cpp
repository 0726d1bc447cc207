#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA convolution micro-kernel: the GEMM kernel's 6 x 2-vector tile (float 6x16,
// double 6x8), with B rows loaded in place from the padded image (two vectors at b + boff[k] and
// + half) instead of
// from a packed panel -- packing B copied each input element kh*kw times and took ~45% of
// a 3x3 convolution's time.  Scalar reference: conv_ukernel_scalar.cpp.
#include "kernels/conv.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::store_tile_rows;
using avx2::Vec;
constexpr int kMR = 6;

template <typename T>
AD_AVX2 void ukernel(int64_t kc, const T* pa, const T* b, const int64_t* boff, int64_t half, T* c,
                     int64_t ldc, int m, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  R acc[kMR][2];
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = V::zero();
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const T* bk = b + boff[k];
    const R b0 = V::load(bk), b1 = V::load(bk + half);
    for (int i = 0; i < kMR; ++i) {
      const R a = V::set1(pa[i]);
      acc[i][0] = V::fma(a, b0, acc[i][0]);
      acc[i][1] = V::fma(a, b1, acc[i][1]);
    }
    pa += kMR;
  }
  store_tile_rows<T, kMR>(acc, c, ldc, m, accumulate);  // rows m.. are A's zero padding
}

}  // namespace

template <typename T>
void fill_conv_avx2(KernelTable<T>& t) {
  t.conv_ukernel = ukernel<T>;
  t.conv_mr = kMR;
  t.conv_nr = 2 * Vec<T>::W;
}
template void fill_conv_avx2<float>(KernelTable<float>&);
template void fill_conv_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
