#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA layer norm kernels: norm_simd.h's on avx2::Isa.
#include "simd.h"
// (after simd.h, whose AD_SIMD* it uses)
#include "kernels/norm_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_norm_avx2(KernelTable<T>& t) {
  vec_kernels::fill_norm_vec<avx2::Isa>(t);
}
template void fill_norm_avx2<float>(KernelTable<float>&);
template void fill_norm_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
