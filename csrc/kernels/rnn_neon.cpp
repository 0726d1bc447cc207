#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON LSTM and GRU cell kernels: rnn_simd.h's on neon::Isa (4 float lanes, simd_neon.h's
// sigmoid and tanh).  Checked against the scalar level under qemu (tests/native).
#include "kernels/rnn.h"
#include "simd_neon.h"
// (after simd_neon.h, whose AD_SIMD* it uses)
#include "kernels/rnn_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_rnn_neon(KernelTable<T>& t) {
  vec_kernels::fill_rnn_vec<neon::Isa, neon::MathF32>(t);
}
template void fill_rnn_neon<float>(KernelTable<float>&);
template void fill_rnn_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
