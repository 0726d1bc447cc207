#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA reduction kernels: reduce_simd.h's on avx2::Vec.
#include "simd.h"
// (after simd.h, whose AD_SIMD* it uses)
#include "kernels/reduce_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_reduce_avx2(KernelTable<T>& t) {
  vec_kernels::fill_reduce_vec<avx2::Vec>(t);
}
template void fill_reduce_avx2<float>(KernelTable<float>&);
template void fill_reduce_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
