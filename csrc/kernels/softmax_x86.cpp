#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA softmax kernels.  Forward: pass 1 walks the row in L1-sized blocks keeping an
// online (max, sum) pair and storing exp(x - running max); pass 2 rescales each block by
// exp(block max - final max) / sum.  One exp per element, two passes over memory.
// float64 softmax stays on the scalar kernels (no vector exp for double); its backward
// without exp is vectorised here.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/buffers.h"
#include "kernels/softmax.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::Vec;
constexpr int64_t kBlock = 1024;

// One pass over a block: its max, and whether exp(x - m) may take the short normal-range
// exp for every x of the block once m >= that max.  The min bounds x - m from below
// (and catches -inf); NaN is tracked apart, as max/min drop it.  All chains have
// latency-1 ops, so the pass runs at load speed.
struct BlockStats {
  float max;
  float min;
  bool has_nan;
};

AD_AVX2 BlockStats block_stats(const float* x, int64_t n) {
  int64_t i = 0;
  float mx = -INFINITY, mn = INFINITY;
  bool nan = false;
  if (n >= 16) {
    __m256 a0 = _mm256_loadu_ps(x), a1 = _mm256_loadu_ps(x + 8);
    __m256 hi0 = a0, hi1 = a1, lo0 = a0, lo1 = a1;
    __m256 unord = _mm256_cmp_ps(a0, a1, _CMP_UNORD_Q);  // NaN in either lane
    for (i = 16; i + 16 <= n; i += 16) {
      a0 = _mm256_loadu_ps(x + i);
      a1 = _mm256_loadu_ps(x + i + 8);
      hi0 = _mm256_max_ps(hi0, a0);
      hi1 = _mm256_max_ps(hi1, a1);
      lo0 = _mm256_min_ps(lo0, a0);
      lo1 = _mm256_min_ps(lo1, a1);
      unord = _mm256_or_ps(unord, _mm256_cmp_ps(a0, a1, _CMP_UNORD_Q));
    }
    mx = Vec<float>::hmax(_mm256_max_ps(hi0, hi1));
    mn = -Vec<float>::hmax(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_min_ps(lo0, lo1)));
    nan = _mm256_movemask_ps(unord) != 0;
  }
  for (; i < n; ++i) {
    mx = std::max(mx, x[i]);  // a NaN is dropped here and flagged below
    mn = std::min(mn, x[i]);
    nan |= x[i] != x[i];
  }
  return {mx, mn, nan};
}

// x - m lies in [-86, 0] for the whole block: the range of avx2::exp_normal_range_ps.
inline bool block_in_normal_exp_range(const BlockStats& st, float m) {
  return !st.has_nan && std::isfinite(m) && st.min - m >= -86.0f;
}

// Returns sum(exp(x - m)); stores the exps into y when y != nullptr.  kNormalRange: every
// x - m is known to be in [-86, 0] (block_in_normal_exp_range), so the short exp applies.
// The loop is compute-bound, so it prefetches the memory `ahead` floats on (the next
// row or block), one cache line per iteration, for the next pass 1 to find in L1.
template <bool kNormalRange>
AD_AVX2 double exp_sum(const float* x, float* y, int64_t n, float m, int64_t ahead) {
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(x + i + ahead), _MM_HINT_T0);
    const __m256 a0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), mv);
    const __m256 a1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mv);
    __m256 e0, e1;
    if constexpr (kNormalRange) {
      e0 = avx2::exp_normal_range_ps(a0);
      e1 = avx2::exp_normal_range_ps(a1);
    } else {
      e0 = avx2::exp_ps(a0);
      e1 = avx2::exp_ps(a1);
    }
    if (y) {
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
    }
    acc0 = _mm256_add_ps(acc0, e0);
    acc1 = _mm256_add_ps(acc1, e1);
  }
  double s = Vec<float>::hsum_d(_mm256_add_ps(acc0, acc1));
  if (i < n) {  // tail through a padded vector: same exp as the body
    alignas(32) float buf[16];
    const int64_t r = n - i;
    for (int64_t k = 0; k < 16; ++k) buf[k] = k < r ? x[i + k] - m : -INFINITY;
    for (int k = 0; k < 16; k += 8) _mm256_store_ps(buf + k, avx2::exp_ps(_mm256_load_ps(buf + k)));
    for (int64_t k = 0; k < r; ++k) {
      if (y) y[i + k] = buf[k];
      s += double(buf[k]);
    }
  }
  return s;
}

// y = e * f (e may be y itself).
AD_AVX2 void scale(const float* e, float* y, int64_t n, float f, bool stream) {
  const __m256 fv = _mm256_set1_ps(f);
  avx2::write_row<float>(
      y, n, stream, 0,
      [&](int64_t k) AD_AVX2_INLINE_LAMBDA { return _mm256_mul_ps(_mm256_loadu_ps(e + k), fv); },
      [&](int64_t k) { return e[k] * f; });
}

// Pass 1 of both forwards: online (max, sum) over blocks.  block_m (if given) receives the
// max each block's exps were taken against.
AD_AVX2 void online_max_sum(const float* x, float* y, int64_t n, float* block_m, float* m_out,
                            double* s_out) {
  float m = -INFINITY;
  double s = 0;
  // Rows are contiguous in the row layout: a short row prefetches the next row, a long
  // one its own next block.
  const int64_t ahead = std::min(n, kBlock);
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kBlock, ++b) {
    const int64_t len = std::min(kBlock, n - b0);
    const BlockStats st = block_stats(x + b0, len);
    const float mnew = std::max(m, st.max);
    float* yb = y ? y + b0 : nullptr;
    if (mnew == -INFINITY) {  // all -inf so far: exps are 0 (NaN inputs stay NaN)
      s += exp_sum<false>(x + b0, yb, len, 0.0f, ahead);
    } else {
      if (s != 0) s *= std::exp(double(m) - double(mnew));
      s += block_in_normal_exp_range(st, mnew) ? exp_sum<true>(x + b0, yb, len, mnew, ahead)
                                                : exp_sum<false>(x + b0, yb, len, mnew, ahead);
      m = mnew;
    }
    if (block_m) block_m[b] = mnew;
  }
  *m_out = m;
  *s_out = s;
}

// Streaming: the exps go to a per-thread scratch row (L1/L2) and the scaling pass writes y
// once, with non-temporal stores; otherwise y holds the exps and is scaled in place.
AD_AVX2 void softmax_row_f32(const float* x, float* y, int64_t n, bool stream) {
  if (n == 0) return;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  float stack_m[64];
  std::vector<float> heap_m;
  float* bm = stack_m;
  if (nb > 64) {
    heap_m.resize(nb);
    bm = heap_m.data();
  }
  float* e = stream ? thread_buffer<float, kSoftmaxExps>(size_t(n)) : y;
  float m;
  double s;
  online_max_sum(x, e, n, bm, &m, &s);
  if (m == -INFINITY) s = NAN;  // all -inf: NaN, as NumPy's x - max
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kBlock, ++b) {
    double f = (bm[b] == -INFINITY ? 0.0 : std::exp(double(bm[b]) - double(m))) / s;
    if (m == -INFINITY) f = NAN;
    scale(e + b0, y + b0, std::min(kBlock, n - b0), float(f), stream);
  }
}

AD_AVX2 void log_softmax_row_f32(const float* x, float* y, int64_t n, bool stream) {
  if (n == 0) return;
  float m;
  double s;
  online_max_sum(x, nullptr, n, nullptr, &m, &s);
  const float lse = m == -INFINITY ? NAN : float(double(m) + std::log(s));
  const __m256 lv = _mm256_set1_ps(lse);
  avx2::write_row<float>(
      y, n, stream, 0,
      [&](int64_t k) AD_AVX2_INLINE_LAMBDA { return _mm256_sub_ps(_mm256_loadu_ps(x + k), lv); },
      [&](int64_t k) { return x[k] - lse; });
}

template <typename T>
AD_AVX2 double dot(const T* a, const T* b, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::W;
  typename V::R acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W)
    for (int u = 0; u < 4; ++u)
      acc[u] = V::fma(V::load(a + i + u * W), V::load(b + i + u * W), acc[u]);
  double s = V::hsum_d(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
  for (; i < n; ++i) s += double(a[i]) * double(b[i]);
  return s;
}

template <typename T>
AD_AVX2 void softmax_bwd_row(const T* y, const T* gy, T* gx, int64_t n, bool stream) {
  using V = Vec<T>;
  const T d = T(dot(gy, y, n));
  const auto dv = V::set1(d);
  // The output pass reads L1 and prefetches the next row's y and gy for the dot pass
  // (1.5 -> 1.25 ms single-threaded on 4096 x 1024).
  avx2::write_row<T>(
      gx, n, stream, avx2::next_row_ahead<T>(n),
      [&](int64_t k) AD_AVX2_INLINE_LAMBDA {
        return V::mul(V::load(y + k), V::sub(V::load(gy + k), dv));
      },
      [&](int64_t k) { return y[k] * (gy[k] - d); }, y, gy);
}

AD_AVX2 void log_softmax_bwd_row_f32(const float* y, const float* gy, float* gx, int64_t n,
                                     bool stream) {
  double s = 0;
  {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(gy + i));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(gy + i + 8));
    }
    s = Vec<float>::hsum_d(_mm256_add_ps(a0, a1));
    for (; i < n; ++i) s += double(gy[i]);
  }
  const float sf = float(s);
  const __m256 sv = _mm256_set1_ps(sf);
  // Head and tail elements go through the same vector exp as the body.  The pass prefetches
  // the next row's gy and y, as softmax_bwd_row does.
  avx2::write_row<float>(
      gx, n, stream, avx2::next_row_ahead<float>(n),
      [&](int64_t k) AD_AVX2_INLINE_LAMBDA {
        return _mm256_fnmadd_ps(avx2::exp_ps(_mm256_loadu_ps(y + k)), sv, _mm256_loadu_ps(gy + k));
      },
      [&](int64_t k) AD_AVX2_INLINE_LAMBDA {
        return gy[k] - _mm256_cvtss_f32(avx2::exp_ps(_mm256_set1_ps(y[k]))) * sf;
      },
      gy, y);
}

}  // namespace

template <typename T>
void fill_softmax_avx2(KernelTable<T>& t) {
  t.softmax_bwd_row = softmax_bwd_row<T>;
  if constexpr (std::is_same_v<T, float>) {
    t.softmax_row = softmax_row_f32;
    t.log_softmax_row = log_softmax_row_f32;
    t.log_softmax_bwd_row = log_softmax_bwd_row_f32;
  }
}
template void fill_softmax_avx2<float>(KernelTable<float>&);
template void fill_softmax_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
