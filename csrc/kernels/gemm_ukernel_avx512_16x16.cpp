#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX-512 kernels
// AVX-512 GEMM micro-kernel: 16 rows x one vector (float 16x16, double 16x8), 16 of the 32
// zmm registers as accumulators, A broadcast from memory into each FMA.  Batches of 16, 32,
// 64 rows fill whole micro-panels (the AVX2 kernel's 6 rows pad 32 to 36), and each B
// vector loaded serves 16 FMAs.  Convolution keeps the AVX2 tile (dispatch.cpp), and so does
// the small-GEMM kernel, which reads A in place: 16 rows are 16 streams, and one thread's
// 32x1024x256 took 2x its AVX2 time.
#include "simd_avx512.h"
// (after simd_avx512.h, whose AD_SIMD* it uses)
#include "kernels/gemm_ukernel_simd.h"

namespace autodiff::kernels {

template <typename T>
void fill_gemm_avx512(KernelTable<T>& t) {
  vec_kernels::fill_gemm_vec<avx512::Vec<T>, 16, 1>(t);
}
template void fill_gemm_avx512<float>(KernelTable<float>&);
template void fill_gemm_avx512<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
