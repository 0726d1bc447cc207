#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX-512 kernels
// AVX-512 elementwise kernels: elementwise_simd.h's on simd_avx512.h's vocabulary.
#include "simd_avx512.h"
// (after simd_avx512.h, whose AD_SIMD* it uses)
#include "kernels/elementwise_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_elementwise_avx512(KernelTable<T>& t) {
  vec_kernels::fill_elementwise_vec<avx512::Vec, avx512::MathF32>(t);
}
template void fill_elementwise_avx512<float>(KernelTable<float>&);
template void fill_elementwise_avx512<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
