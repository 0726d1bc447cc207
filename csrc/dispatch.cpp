// CPU feature detection and the kernel table: the only place that decides which ISA runs.
#include "dispatch.h"

#include <stdexcept>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/norm.h"
#include "kernels/reduce.h"
#include "kernels/rnn.h"
#include "kernels/softmax.h"

namespace autodiff::kernels {

namespace {

KernelTable<float> g_f32;
KernelTable<double> g_f64;
SimdLevel g_level = SimdLevel::kScalar;
int g_threads = 1;

// The GEMM tile filled so far as the second one (gemm_tile, gemm.h), with its convolution
// kernel where that has the tile.
template <typename T>
void keep_second_tile(KernelTable<T>& t) {
  t.gemm2_ukernel = t.gemm_ukernel;
  t.gemm2_mr = t.gemm_mr;
  t.conv2_ukernel = t.conv_mr == t.gemm_mr && t.conv_nr == t.gemm_nr ? t.conv_ukernel : nullptr;
}

template <typename T>
void fill(KernelTable<T>& t, SimdLevel level) {
  t = KernelTable<T>{};
  fill_elementwise_scalar(t);
  fill_reduce_scalar(t);
  fill_softmax_scalar(t);
  fill_norm_scalar(t);
  fill_gemm_scalar(t);
  fill_rnn_scalar(t);
  fill_conv_scalar(t);
  // A SIMD level overrides what it implements; scalar stays for the rest.
#if defined(__x86_64__) || defined(__i386__)
  if (has_avx2(level)) {
    fill_elementwise_avx2(t);
    fill_reduce_avx2(t);
    fill_softmax_avx2(t);
    fill_norm_avx2(t);
    fill_gemm_avx2(t);
    fill_gemm_dot_avx2(t);
    fill_rnn_avx2(t);
  }
  keep_second_tile(t);  // AVX2's 6 x 16
  // RNN cells and reductions stay on AVX2's: the reductions measured the same or up to 4%
  // slower on 16 lanes (Zen 4, docs/benchmarks.md).
  if (level == SimdLevel::kAvx512) {
    fill_elementwise_avx512(t);
    fill_softmax_avx512(t);
    fill_norm_avx512(t);
    fill_gemm_avx512(t);  // and its convolution kernel
  }
#elif defined(__aarch64__)
  if (level == SimdLevel::kNeon) {
    fill_elementwise_neon(t);
    fill_reduce_neon(t);
    fill_softmax_neon(t);
    fill_norm_neon(t);
    fill_gemm_neon(t);
    fill_rnn_neon(t);
  }
  keep_second_tile(t);
#endif
}

struct Init {
  Init() {
    set_simd(best_level());
#ifdef _OPENMP
    g_threads = omp_get_max_threads();
#endif
  }
};
Init g_init;

}  // namespace

const KernelTable<float>& table_f32() { return g_f32; }
const KernelTable<double>& table_f64() { return g_f64; }

bool cpu_supports(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return true;
    case SimdLevel::kAvx2:
#if defined(__x86_64__) || defined(__i386__)
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case SimdLevel::kAvx512:  // (libgcc also checks that the OS saves the zmm state)
#if defined(__x86_64__) || defined(__i386__)
      return cpu_supports(SimdLevel::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
#else
      return false;
#endif
    case SimdLevel::kNeon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is part of every ARMv8-A core
#else
      return false;
#endif
  }
  return false;
}

SimdLevel best_level() {
  for (SimdLevel level : {SimdLevel::kAvx512, SimdLevel::kAvx2, SimdLevel::kNeon})
    if (cpu_supports(level)) return level;
  return SimdLevel::kScalar;
}

SimdLevel simd_level() { return g_level; }

void set_simd(SimdLevel level) {
  if (!cpu_supports(level))
    throw std::invalid_argument("set_simd: this CPU does not support " + simd_level_name(level));
  fill(g_f32, level);
  fill(g_f64, level);
  g_level = level;
}

std::string simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
    case SimdLevel::kNeon:
      return "neon";
    case SimdLevel::kScalar:
      break;
  }
  return "scalar";
}

SimdLevel parse_simd_level(const std::string& name) {
  if (name == "scalar") return SimdLevel::kScalar;
  if (name == "avx2") return SimdLevel::kAvx2;
  if (name == "neon") return SimdLevel::kNeon;
  if (name == "avx512") return SimdLevel::kAvx512;
  throw std::invalid_argument("set_simd: expected one of avx512, avx2, neon, scalar; got '" +
                              name + "'");
}

int get_num_threads() { return g_threads; }

void set_num_threads(int n) {
  if (n < 1)
    throw std::invalid_argument("set_num_threads: expected n >= 1, got " + std::to_string(n));
#ifdef _OPENMP
  g_threads = n;
#else
  g_threads = 1;
#endif
}

}  // namespace autodiff::kernels
