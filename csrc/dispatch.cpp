// CPU feature detection and the kernel table: the only place that decides which ISA runs.
#include "dispatch.h"

#include <algorithm>
#include <atomic>
#include <chrono>
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
  throw std::invalid_argument("set_simd: expected one of avx512, avx2, neon, scalar; got '" + name +
                              "'");
}

// The contention guard.  A parallel region ends only when every thread of its team has
// arrived, so a worker thread waiting for a core that another process holds stalls each
// region for up to a scheduler time slice: a 2-thread MLP training step took 11-20 ms
// instead of 0.84 on one thread while a compiler ran on the other core (PyTorch's took
// 17).  Every kProbeNs the first request for threads (outside a parallel region) runs an
// empty region and times the workers' arrival; past late_us the kernels run on one thread
// until the next probe, kBackoffNs later.  The wait doubles (up to kMaxBackoffNs) for each
// late probe within kMemoryNs of the last one, so that a probe that finds the other core
// free for a moment while the contention lasts (a lucky one) does not bring back 50 ms of
// stalled regions every 250 ms.  A healthy probe costs a fork and join (~5 us) every 50 ms.
namespace {
constexpr int64_t kProbeNs = 50'000'000, kMemoryNs = 4'000'000'000;
constexpr int64_t kBackoffNs = 200'000'000, kMaxBackoffNs = 1'600'000'000;
std::atomic<bool> g_guard{true}, g_degraded{false};
std::atomic<int64_t> g_next_probe{0}, g_backoff{kBackoffNs}, g_late_probes{0};
std::atomic<int64_t> g_last_late{-kMemoryNs}, g_late_ns{400'000};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

#ifdef _OPENMP
void probe(int n) {
  std::atomic<int64_t> latest{0};
  const int64_t t0 = now_ns();
#pragma omp parallel num_threads(n)
  {
    const int64_t lag = now_ns() - t0;
    int64_t seen = latest.load(std::memory_order_relaxed);
    while (lag > seen && !latest.compare_exchange_weak(seen, lag, std::memory_order_relaxed)) {
    }
  }
  const bool late = latest.load() > g_late_ns.load();
  int64_t wait = kProbeNs;
  if (late) {
    const int64_t now = now_ns();
    wait = now - g_last_late.load() < kMemoryNs ? std::min(2 * g_backoff.load(), kMaxBackoffNs)
                                                : kBackoffNs;
    g_backoff = wait;
    g_last_late = now;
    ++g_late_probes;
  }
  g_degraded = late;
  g_next_probe = now_ns() + wait;
}
#endif
}  // namespace

int get_num_threads() {
  const int n = g_threads;
#ifdef _OPENMP
  if (n > 1 && g_guard.load(std::memory_order_relaxed)) {
    int64_t due = g_next_probe.load(std::memory_order_relaxed);
    const int64_t now = now_ns();
    // one caller probes (the others read the last verdict); never from inside a region
    if (now >= due && !omp_in_parallel() &&
        g_next_probe.compare_exchange_strong(due, now + kProbeNs))
      probe(n);
    if (g_degraded.load(std::memory_order_relaxed)) return 1;
  }
#endif
  return n;
}

int configured_num_threads() { return g_threads; }

void set_contention_guard(bool on, int64_t late_us) {
  if (late_us < 1) throw std::invalid_argument("set_contention_guard: late_us must be >= 1");
  g_guard = on;
  g_late_ns = late_us * 1000;
  g_degraded = false;
  g_next_probe = 0;
  g_last_late = -kMemoryNs;
  g_backoff = kBackoffNs;
}

bool contention_guard() { return g_guard; }

int64_t contention_late_probes() { return g_late_probes; }

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
