// Compute cost of the AVX2 softmax and layer-norm row kernels, memory out of the way: each
// kernel runs on one L1-resident row of 1024 floats, min over 100 x 400 calls, in TSC cycles
// per element (one thread).  Beside the whole rows, the softmax forward's passes apart:
// block_stats (max/min/NaN), exp_sum with and without storing the exps, and scale.
//
//   PROGRAM=row_l1 bash benchmarks/native/run.sh [N]   (row length, default and at most 1024)
#include <cstdio>
#include <cstdlib>
#include <random>

#if defined(__x86_64__)
#include <x86intrin.h>

#include "simd.h"
// (after simd.h, whose AD_SIMD* they use)
#include "kernels/norm_simd.h"
#include "kernels/softmax_simd.h"

namespace k = autodiff::kernels;
using Isa = k::avx2::Isa;
using Math = k::avx2::MathF32;
namespace sm = k::vec_kernels::softmax_detail;

template <typename F>
double cycles_per_element(F f, int64_t n) {
  double best = 1e30;
  for (int r = 0; r < 100; ++r) {
    const unsigned long long t0 = __rdtsc();
    for (int i = 0; i < 400; ++i) f();
    best = std::min(best, double(__rdtsc() - t0) / 400 / double(n));
  }
  return best;
}

int main(int argc, char** argv) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::puts("needs AVX2+FMA");
    return 0;
  }
  k::set_simd(k::SimdLevel::kAvx2);  // the norm kernels call the table's row_welford
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 1024;  // at most 1024 (the buffers)
  auto buffer = [](int64_t offset) {
    return reinterpret_cast<float*>(static_cast<char*>(std::aligned_alloc(4096, 3 * 4096)) +
                                    offset);
  };
  float *x = buffer(0), *y = buffer(2048), *g = buffer(1024), *w = buffer(512), *b = buffer(1536);
  float *gw = buffer(256), *gb = buffer(768);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (int64_t i = 0; i < n; ++i)
    x[i] = u(rng), g[i] = u(rng), w[i] = 1, b[i] = 0, gw[i] = gb[i] = 0;
  volatile double sink = 0;
  const float shift = sm::shifted_reference(3.0f, Math::kShiftSteps).shift;  // the max of x
  float mean, rstd;
  const struct {
    const char* name;
    double cycles;
  } rows[] = {
      {"softmax row",
       cycles_per_element([&] { sm::softmax_row_f32<Isa, Math>(x, y, n, false); }, n)},
      {"  block_stats", cycles_per_element([&] { sink = sm::block_stats<Isa>(x, n).max; }, n)},
      {"  exp_sum, exps stored",
       cycles_per_element(
           [&] { sink = sm::exp_sum<Isa, Math, sm::ExpForm::kShifted>(x, y, n, 0.0f, shift, 0); },
           n)},
      {"  exp_sum, sum only", cycles_per_element(
                                  [&] {
                                    sink = sm::exp_sum<Isa, Math, sm::ExpForm::kShifted>(
                                        x, nullptr, n, 0.0f, shift, 0);
                                  },
                                  n)},
      {"  scale", cycles_per_element([&] { sm::scale<Isa>(x, y, n, 0.5f, false); }, n)},
      {"softmax backward row",
       cycles_per_element([&] { sm::softmax_bwd_row<Isa, float>(y, g, b, n, false); }, n)},
      {"log_softmax backward row",
       cycles_per_element([&] { sm::log_softmax_bwd_row_f32<Isa, Math>(y, g, b, n, false); }, n)},
      {"layer_norm row", cycles_per_element(
                             [&] {
                               k::vec_kernels::layer_norm_row<Isa, float>(x, w, b, y, n, 1e-5f,
                                                                          &mean, &rstd, false);
                             },
                             n)},
      {"layer_norm backward row", cycles_per_element(
                                      [&] {
                                        k::vec_kernels::layer_norm_bwd_row<Isa, float>(
                                            g, x, 0.5f, 3.0f, w, y, gw, gb, n, false);
                                      },
                                      n)},
  };
  std::printf("one L1-resident row of %lld floats, AVX2, TSC cycles per element\n",
              static_cast<long long>(n));
  for (const auto& r : rows) std::printf("  %-26s %6.3f\n", r.name, r.cycles);
}
#else
int main() { std::puts("x86-64 only"); }
#endif
