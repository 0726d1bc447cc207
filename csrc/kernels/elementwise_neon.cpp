#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON elementwise kernels: elementwise_simd.h's on neon::Vec and neon::MathF32.
#include "simd_neon.h"
// (after simd_neon.h, whose AD_SIMD* it uses)
#include "kernels/elementwise_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_elementwise_neon(KernelTable<T>& t) {
  vec_kernels::fill_elementwise_vec<neon::Vec, neon::MathF32>(t);
}
template void fill_elementwise_neon<float>(KernelTable<float>&);
template void fill_elementwise_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
