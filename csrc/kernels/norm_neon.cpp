#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON layer norm kernels: norm_simd.h's on neon::Isa.
#include "simd_neon.h"
// (after simd_neon.h, whose AD_SIMD* it uses)
#include "kernels/norm_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_norm_neon(KernelTable<T>& t) {
  vec_kernels::fill_norm_vec<neon::Isa>(t);
}
template void fill_norm_neon<float>(KernelTable<float>&);
template void fill_norm_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
