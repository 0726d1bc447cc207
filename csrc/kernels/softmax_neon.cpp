#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON softmax kernels, the algorithm of softmax_x86.cpp on neon::Vec: pass 1 walks the row
// in L1-sized blocks keeping an online (max, sum) pair and storing exp(x - running max);
// pass 2 rescales each block by exp(block max - final max) / sum.  float64 softmax stays
// on the scalar kernels (no vector exp for double); its backward is vectorised here.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/buffers.h"
#include "kernels/softmax.h"
#include "simd_neon.h"

namespace autodiff::kernels {
namespace {

using neon::Vec;
using F = Vec<float>;
using R4 = float32x4_t;
constexpr int64_t kBlock = 1024;
constexpr int kStep = 4 * F::W;  // floats per iteration of the exp loop

// A block's max and min, and whether it holds a NaN (max/min drop NaN).
struct BlockStats {
  float max;
  float min;
  bool has_nan;
};

BlockStats block_stats(const float* x, int64_t n) {
  int64_t i = 0;
  float mx = -INFINITY, mn = INFINITY;
  bool nan = false;
  if (n >= 2 * F::W) {
    R4 a0 = F::load(x), a1 = F::load(x + F::W);
    R4 hi0 = a0, hi1 = a1, lo0 = a0, lo1 = a1;
    R4 unord = F::bor(F::isnan(a0), F::isnan(a1));
    for (i = 2 * F::W; i + 2 * F::W <= n; i += 2 * F::W) {
      a0 = F::load(x + i);
      a1 = F::load(x + i + F::W);
      hi0 = F::max(hi0, a0);
      hi1 = F::max(hi1, a1);
      lo0 = F::min(lo0, a0);
      lo1 = F::min(lo1, a1);
      unord = F::bor(unord, F::bor(F::isnan(a0), F::isnan(a1)));
    }
    mx = vmaxnmvq_f32(F::max(hi0, hi1));
    mn = vminnmvq_f32(F::min(lo0, lo1));
    nan = F::any(unord);
  }
  for (; i < n; ++i) {
    mx = std::max(mx, x[i]);  // a NaN is dropped here and flagged below
    mn = std::min(mn, x[i]);
    nan |= x[i] != x[i];
  }
  return {mx, mn, nan};
}

// x - m lies in [-86, 0] for the whole block: the range of neon::exp_normal_range_ps.
inline bool block_in_normal_exp_range(const BlockStats& st, float m) {
  return !st.has_nan && std::isfinite(m) && st.min - m >= -86.0f;
}

// Returns sum(exp(x - m)); stores the exps into y when y != nullptr.  kNormalRange: every
// x - m is known to be in [-86, 0].  Prefetches `ahead` floats on for the next pass 1.
template <bool kNormalRange>
double exp_sum(const float* x, float* y, int64_t n, float m, int64_t ahead) {
  const R4 mv = F::set1(m);
  R4 acc0 = F::zero(), acc1 = F::zero();
  int64_t i = 0;
  for (; i + kStep <= n; i += kStep) {
    __builtin_prefetch(x + i + ahead);
    R4 e[4];
    for (int u = 0; u < 4; ++u) {
      const R4 a = F::sub(F::load(x + i + u * F::W), mv);
      e[u] = kNormalRange ? neon::exp_normal_range_ps(a) : neon::exp_ps(a);
    }
    if (y)
      for (int u = 0; u < 4; ++u) F::store(y + i + u * F::W, e[u]);
    acc0 = F::add(acc0, F::add(e[0], e[2]));
    acc1 = F::add(acc1, F::add(e[1], e[3]));
  }
  double s = F::hsum_d(F::add(acc0, acc1));
  if (i < n) {  // tail through a padded vector: same exp as the body
    float buf[kStep];
    const int64_t r = n - i;
    for (int64_t k = 0; k < kStep; ++k) buf[k] = k < r ? x[i + k] - m : -INFINITY;
    for (int k = 0; k < kStep; k += F::W) F::store(buf + k, neon::exp_ps(F::load(buf + k)));
    for (int64_t k = 0; k < r; ++k) {
      if (y) y[i + k] = buf[k];
      s += double(buf[k]);
    }
  }
  return s;
}

// y = e * f (e may be y itself).
void scale(const float* e, float* y, int64_t n, float f) {
  const R4 fv = F::set1(f);
  neon::write_row<float>(
      y, n, false, 0, [&](int64_t k) AD_NEON_INLINE_LAMBDA { return F::mul(F::load(e + k), fv); },
      [&](int64_t k) { return e[k] * f; });
}

// Pass 1 of both forwards: online (max, sum) over blocks.  block_m (if given) receives the
// max each block's exps were taken against.
void online_max_sum(const float* x, float* y, int64_t n, float* block_m, float* m_out,
                    double* s_out) {
  float m = -INFINITY;
  double s = 0;
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

void softmax_row_f32(const float* x, float* y, int64_t n, bool /*stream*/) {
  if (n == 0) return;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  float stack_m[64];
  std::vector<float> heap_m;
  float* bm = stack_m;
  if (nb > 64) {
    heap_m.resize(nb);
    bm = heap_m.data();
  }
  float m;
  double s;
  online_max_sum(x, y, n, bm, &m, &s);
  if (m == -INFINITY) s = NAN;  // all -inf: NaN, as NumPy's x - max
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kBlock, ++b) {
    double f = (bm[b] == -INFINITY ? 0.0 : std::exp(double(bm[b]) - double(m))) / s;
    if (m == -INFINITY) f = NAN;
    scale(y + b0, y + b0, std::min(kBlock, n - b0), float(f));
  }
}

void log_softmax_row_f32(const float* x, float* y, int64_t n, bool /*stream*/) {
  if (n == 0) return;
  float m;
  double s;
  online_max_sum(x, nullptr, n, nullptr, &m, &s);
  const float lse = m == -INFINITY ? NAN : float(double(m) + std::log(s));
  const R4 lv = F::set1(lse);
  neon::write_row<float>(
      y, n, false, 0, [&](int64_t k) AD_NEON_INLINE_LAMBDA { return F::sub(F::load(x + k), lv); },
      [&](int64_t k) { return x[k] - lse; });
}

template <typename T>
void softmax_bwd_row(const T* y, const T* gy, T* gx, int64_t n, bool /*stream*/) {
  using V = Vec<T>;
  const auto& t = table<T>();
  const T d = T(t.row_dot(gy, y, n));
  const auto dv = V::set1(d);
  neon::write_row<T>(
      gx, n, false, 0,
      [&](int64_t k)
          AD_NEON_INLINE_LAMBDA { return V::mul(V::load(y + k), V::sub(V::load(gy + k), dv)); },
      [&](int64_t k) { return y[k] * (gy[k] - d); });
}

void log_softmax_bwd_row_f32(const float* y, const float* gy, float* gx, int64_t n,
                             bool /*stream*/) {
  const float sf = float(table<float>().row_sum(gy, n));
  const R4 sv = F::set1(sf);
  // Tail elements go through the same vector exp as the body.
  neon::write_row<float>(
      gx, n, false, 0,
      [&](int64_t k) AD_NEON_INLINE_LAMBDA {
        return F::fnma(neon::exp_ps(F::load(y + k)), sv, F::load(gy + k));
      },
      [&](int64_t k) { return gy[k] - vgetq_lane_f32(neon::exp_ps(F::set1(y[k])), 0) * sf; });
}

}  // namespace

template <typename T>
void fill_softmax_neon(KernelTable<T>& t) {
  t.softmax_bwd_row = softmax_bwd_row<T>;
  if constexpr (std::is_same_v<T, float>) {
    t.softmax_row = softmax_row_f32;
    t.log_softmax_row = log_softmax_row_f32;
    t.log_softmax_bwd_row = log_softmax_bwd_row_f32;
  }
}
template void fill_softmax_neon<float>(KernelTable<float>&);
template void fill_softmax_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
