#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA softmax kernels: softmax_simd.h's on avx2::Isa and avx2::MathF32.
#include "simd.h"
// (after simd.h, whose AD_SIMD* it uses)
#include "kernels/softmax_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_softmax_avx2(KernelTable<T>& t) {
  vec_kernels::fill_softmax_vec<avx2::Isa, avx2::MathF32>(t);
}
template void fill_softmax_avx2<float>(KernelTable<float>&);
template void fill_softmax_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
