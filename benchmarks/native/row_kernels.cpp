// Times the row kernels (softmax, log-softmax, layer norm; forward and backward) through the
// C++ drivers alone: no Python, no NumPy allocations, buffers allocated once, 2 MiB aligned.
// Beside them, two streaming passes of the same shape set the scale: `add` (2 reads, 1
// non-temporal write) and `copy` (1 read, 1 non-temporal write).  Prints the minimum over
// repetitions, in ms and in TSC cycles per element (per thread).
//
//   bash benchmarks/native/run.sh [ROWS [THREADS [REPS]]]   (defaults 4096 2 20; n = 1024)
//   OUT_OFFSET=4 bash benchmarks/native/run.sh               (outputs 16 bytes off, see below)
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "dispatch.h"
#include "kernels/norm.h"
#include "kernels/softmax.h"

using namespace autodiff::kernels;

namespace {

constexpr int64_t kHuge = int64_t(2) << 20;

float* random_buffer(int64_t n, unsigned seed) {
  const int64_t bytes = (n * int64_t(sizeof(float)) + kHuge - 1) / kHuge * kHuge;
  auto* p = static_cast<float*>(std::aligned_alloc(kHuge, size_t(bytes)));
  madvise(p, size_t(bytes), MADV_HUGEPAGE);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < n; ++i) p[i] = dist(gen);
  return p;
}

// out[i] = x[i] (+ y[i]) with non-temporal stores where the ISA has them (SSE: baseline on
// x86-64; the arrays are 2 MiB aligned and the size a multiple of 4).
void stream_pass(const float* x, const float* y, float* out, int64_t size) {
#pragma omp parallel for num_threads(get_num_threads()) schedule(static)
  for (int64_t i = 0; i < size; i += 4) {
#if defined(__x86_64__)
    const __m128 v = _mm_load_ps(x + i);
    _mm_stream_ps(out + i, y ? _mm_add_ps(v, _mm_load_ps(y + i)) : v);
#else
    for (int64_t k = i; k < i + 4; ++k) out[k] = y ? x[k] + y[k] : x[k];
#endif
  }
}

// The TSC rate, from the clock over a 20 ms spin (cycles per element use it).
double tsc_ghz() {
#if defined(__x86_64__)
  const auto t0 = std::chrono::steady_clock::now();
  const unsigned long long c0 = __builtin_ia32_rdtsc();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20)) {
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return double(__builtin_ia32_rdtsc() - c0) / s * 1e-9;
#else
  return 0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 4096, n = 1024, size = rows * n;
  set_num_threads(argc > 2 ? std::atoi(argv[2]) : 2);
  const int reps = argc > 3 ? std::atoi(argv[3]) : 20;
  float *x = random_buffer(size, 1), *gy = random_buffer(size, 2), *y = random_buffer(size, 3);
  float *out = random_buffer(size, 4), *y2 = random_buffer(size, 9);
  // OUT_OFFSET=k moves the outputs k floats past the inputs' alignment: k = 4-16 (16-64 bytes,
  // where glibc puts an allocation made right after an input) shows the 4K-aliasing stalls
  // that the bindings' empty_apart avoids.
  if (const char* k = std::getenv("OUT_OFFSET")) out += std::atoi(k), y2 += std::atoi(k);
  float *w = random_buffer(n, 5), *b = random_buffer(n, 6), *gw = random_buffer(n, 7),
        *gb = random_buffer(n, 8);
  std::vector<float> mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
  softmax_axis<float>(x, y, rows, n, 1, false);
  layer_norm_forward<float>(x, w, b, out, mean.data(), rstd.data(), rows, n, 1e-5f);
  // `add` and `copy` are loops of their own: the reference must not depend on the kernels.
  const std::vector<std::pair<std::string, std::function<void()>>> ops = {
      {"add", [&] { stream_pass(x, gy, out, size); }},
      {"copy", [&] { stream_pass(x, nullptr, out, size); }},
      {"softmax", [&] { softmax_axis<float>(x, out, rows, n, 1, false); }},
      {"softmax_bwd", [&] { softmax_backward_axis<float>(y, gy, out, rows, n, 1, false); }},
      {"softmax_fwd_bwd", [&] {  // the backward reads the output the forward just wrote
         softmax_axis<float>(x, y2, rows, n, 1, false);
         softmax_backward_axis<float>(y2, gy, out, rows, n, 1, false);
       }},
      {"log_softmax_bwd", [&] { softmax_backward_axis<float>(y, gy, out, rows, n, 1, true); }},
      {"layer_norm", [&] {
         layer_norm_forward<float>(x, w, b, out, mean.data(), rstd.data(), rows, n, 1e-5f);
       }},
      {"layer_norm_bwd", [&] {
         layer_norm_backward<float>(gy, x, mean.data(), rstd.data(), w, out, gw, gb, rows, n);
       }},
  };
  std::vector<double> best(ops.size(), 1e30);
  for (int r = 0; r < reps; ++r)  // interleaved, so that drift hits every op alike
    for (size_t k = 0; k < ops.size(); ++k)
      for (int u = 0; u < 3; ++u) {
        const auto t0 = std::chrono::steady_clock::now();
        ops[k].second();
        best[k] = std::min(
            best[k], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
  const double ghz = tsc_ghz();
  std::printf("%lld x %lld float32, %d threads, SIMD %s, min of %d x 3 runs (TSC %.2f GHz)\n",
              static_cast<long long>(rows), static_cast<long long>(n), get_num_threads(),
              simd_level_name(simd_level()).c_str(), reps, ghz);
  for (size_t k = 0; k < ops.size(); ++k)
    std::printf("  %-16s %7.3f ms  %5.2f cycles/element/thread\n", ops[k].first.c_str(),
                best[k] * 1e3, best[k] * ghz * 1e9 * get_num_threads() / double(size));
}
