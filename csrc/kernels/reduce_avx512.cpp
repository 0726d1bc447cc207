#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX-512 kernels
// AVX-512 reduce kernels: reduce_simd.h's on simd_avx512.h's vocabulary.
#include "simd_avx512.h"
// (after simd_avx512.h, whose AD_SIMD* it uses)
#include "kernels/reduce_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_reduce_avx512(KernelTable<T>& t) {
  vec_kernels::fill_reduce_vec<avx512::Vec>(t);
}
template void fill_reduce_avx512<float>(KernelTable<float>&);
template void fill_reduce_avx512<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
