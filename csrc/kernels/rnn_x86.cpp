#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA LSTM and GRU cell kernels: rnn_simd.h's on simd.h's vocabulary (8 float lanes).
// The AVX-512 level keeps these: 16-lane cells measured 0.86-1.0x the time forward and
// 1.0-1.1x backward on Zen 4, within what code layout moves (docs/benchmarks.md).
#include "kernels/rnn.h"
#include "simd.h"
// (after simd.h, whose AD_SIMD* it uses)
#include "kernels/rnn_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_rnn_avx2(KernelTable<T>& t) {
  vec_kernels::fill_rnn_vec<avx2::Isa, avx2::MathF32>(t);
}
template void fill_rnn_avx2<float>(KernelTable<float>&);
template void fill_rnn_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
