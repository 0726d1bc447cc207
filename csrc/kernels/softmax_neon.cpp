#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON softmax kernels: softmax_simd.h's on neon::Isa and neon::MathF32 (NEON has no
// streaming stores: its write_row ignores the flag).
#include "simd_neon.h"
// (after simd_neon.h, whose AD_SIMD* it uses)
#include "kernels/softmax_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_softmax_neon(KernelTable<T>& t) {
  vec_kernels::fill_softmax_vec<neon::Isa, neon::MathF32>(t);
}
template void fill_softmax_neon<float>(KernelTable<float>&);
template void fill_softmax_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
