#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON reduction kernels: reduce_simd.h's on neon::Vec.
#include "simd_neon.h"
// (after simd_neon.h, whose AD_SIMD* it uses)
#include "kernels/reduce_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_reduce_neon(KernelTable<T>& t) {
  vec_kernels::fill_reduce_vec<neon::Vec>(t);
}
template void fill_reduce_neon<float>(KernelTable<float>&);
template void fill_reduce_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
