// Softmax row kernels written once over an ISA's vocabulary (simd.h's avx2::Isa and
// avx2::MathF32, simd_neon.h's neon::Isa and neon::MathF32).  Forward: pass 1 walks the row
// in L1-sized blocks keeping an online (max, sum) pair and storing exp(x - running max);
// pass 2 rescales each block by exp(block max - final max) / sum.  One exp per element, two
// passes over memory.  float64 softmax stays on the scalar kernels (no vector exp for
// double); its backward, which needs no exp, is vectorised.  Include after the ISA's header,
// which defines the AD_SIMD* attributes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/buffers.h"
#include "kernels/row_pipeline.h"
#include "kernels/softmax.h"

namespace autodiff::kernels::vec_kernels::softmax_detail {

constexpr int64_t kBlock = 1024;

// One pass over a block: its max, and whether exp(x - m) may take the short normal-range
// exp for every x of the block once m >= that max.  The min bounds x - m from below (and
// catches -inf); NaN is tracked apart, as max/min drop it.  All chains have latency-1 ops,
// so the pass runs at load speed.
struct BlockStats {
  float max;
  float min;
  bool has_nan;
};

template <typename Isa>
AD_SIMD BlockStats block_stats(const float* x, int64_t n) {
  using F = typename Isa::template Vec<float>;
  constexpr int W = F::W;
  int64_t i = 0;
  float mx = -INFINITY, mn = INFINITY;
  bool nan = false;
  if (n >= 2 * W) {
    auto a0 = F::load(x), a1 = F::load(x + W);
    auto hi0 = a0, hi1 = a1, lo0 = a0, lo1 = a1;
    auto unord = F::unord(a0, a1);  // NaN in either lane
    for (i = 2 * W; i + 2 * W <= n; i += 2 * W) {
      a0 = F::load(x + i);
      a1 = F::load(x + i + W);
      hi0 = F::max(hi0, a0);
      hi1 = F::max(hi1, a1);
      lo0 = F::min(lo0, a0);
      lo1 = F::min(lo1, a1);
      unord = F::bor(unord, F::unord(a0, a1));
    }
    mx = F::hmax(F::max(hi0, hi1));
    mn = -F::hmax(F::sub(F::zero(), F::min(lo0, lo1)));
    nan = F::any(unord);
  }
  for (; i < n; ++i) {
    mx = std::max(mx, x[i]);  // a NaN is dropped here and flagged below
    mn = std::min(mn, x[i]);
    nan |= x[i] != x[i];
  }
  return {mx, mn, nan};
}

// x - m lies in [-86, 0] for the whole block: the range of MathF32::exp_normal_range.
inline bool block_in_normal_exp_range(const BlockStats& st, float m) {
  return !st.has_nan && std::isfinite(m) && st.min - m >= -86.0f;
}

// How exp_sum takes exp(x - m): kFull, any x (Math::exp of the rounded x - m); kNormal,
// x - m known to be in [-86, 0] (block_in_normal_exp_range), the short exp of the rounded
// x - m; kShifted, the same range and |m| <= 90 on a level with Math::exp_shifted: the
// reference is K ln2 / steps (K = ceil(steps m / ln2), less than one step above m), folded
// into the exp's first FMA, so x - m is neither rounded nor computed (shifted_reference).
// The rounding of x - m costs up to |x - m| 2^-24 relative (20 ulps at x - m = -20).
enum class ExpForm { kFull, kNormal, kShifted };

// K ln2 / steps for K = ceil(steps m / ln2), and the exp_shifted argument 1.5 * 2^23 - K.
struct ShiftedReference {
  double ref;
  float shift;
};
inline ShiftedReference shifted_reference(float m, int steps) {
  constexpr double kLn2 = 0.69314718055994530942;
  const double k = std::ceil(double(m) * double(steps) / kLn2);
  return {k * kLn2 / double(steps), float(12582912.0 - k)};
}

// Returns sum(exp(x - m)) (kShifted: m is the reference, `shift` its exp_shifted argument);
// stores the exps into y when y != nullptr.  The loop is compute-bound, so it prefetches
// the memory `ahead` floats on (the next row or block) for the next pass 1 to find in L1.
// One vector and one sum per iteration: with two of each GCC spilled a sum to the stack once
// the exps were stored, and the store-to-load round trip on it cost 0.63 instead of 0.54
// cycles per element (AVX2).
template <typename Isa, typename Math, ExpForm kForm>
AD_SIMD double exp_sum(const float* x, float* y, int64_t n, float m, float shift, int64_t ahead) {
  using F = typename Isa::template Vec<float>;
  using R = typename F::R;
  constexpr int W = F::W;
  const R mv = F::set1(m), sv = F::set1(shift);
  auto exp_of = [&](R xv) AD_SIMD_INLINE_LAMBDA {
    if constexpr (kForm == ExpForm::kShifted)
      return Math::exp_shifted(xv, sv);
    else if constexpr (kForm == ExpForm::kNormal)
      return Math::exp_normal_range(F::sub(xv, mv));
    else
      return Math::exp(F::sub(xv, mv));
  };
  R acc = F::zero();
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    __builtin_prefetch(x + i + ahead);
    const R e = exp_of(F::load(x + i));
    if (y) F::store(y + i, e);
    acc = F::add(acc, e);
  }
  double s = F::hsum_d(acc);
  if (i < n) {  // the tail through a padded vector: the same exp as the body
    alignas(64) float buf[W];
    const int64_t r = n - i;
    // padding: -inf (exp 0) where any x is allowed, else a valid x (its exp is dropped)
    const float pad = kForm == ExpForm::kFull ? -INFINITY : x[i];
    for (int64_t k = 0; k < W; ++k) buf[k] = k < r ? x[i + k] : pad;
    F::store(buf, exp_of(F::load(buf)));
    for (int64_t k = 0; k < r; ++k) {
      if (y) y[i + k] = buf[k];
      s += double(buf[k]);
    }
  }
  return s;
}

// y = e * f (e may be y itself).
template <typename Isa>
AD_SIMD void scale(const float* e, float* y, int64_t n, float f, bool stream) {
  using F = typename Isa::template Vec<float>;
  const auto fv = F::set1(f);
  Isa::template write_row<float>(
      y, n, stream, 0, [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return F::mul(F::load(e + k), fv); },
      [&](int64_t k) { return e[k] * f; });
}

// Pass 1 of both forwards: online (max, sum) over blocks.  Each block's exps are taken
// against a reference at or just above the running max (ExpForm); the sum is kept relative
// to the latest one, *ref_out (-inf when every x so far is -inf); *m_out gets the max.
// block_ref (if given) receives the reference of each block's exps.
template <typename Isa, typename Math>
AD_SIMD void online_max_sum(const float* x, float* y, int64_t n, double* block_ref,
                            double* ref_out, double* s_out, float* m_out) {
  float m = -INFINITY;
  double ref = -INFINITY, s = 0;
  // Rows are contiguous in the row layout: a short row prefetches the next row, a long
  // one its own next block.
  const int64_t ahead = std::min(n, kBlock);
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kBlock, ++b) {
    const int64_t len = std::min(kBlock, n - b0);
    const BlockStats st = block_stats<Isa>(x + b0, len);
    m = std::max(m, st.max);
    float* yb = y ? y + b0 : nullptr;
    if (m == -INFINITY) {  // all -inf so far: exps are 0 (NaN inputs stay NaN)
      s += exp_sum<Isa, Math, ExpForm::kFull>(x + b0, yb, len, 0.0f, 0.0f, ahead);
    } else {
      ShiftedReference sr{double(m), 0.0f};
      bool shifted = false;
      if constexpr (Math::kShiftedExp) {
        if (std::fabs(m) <= 90.0f) {
          sr = shifted_reference(m, Math::kShiftSteps);
          shifted = block_in_normal_exp_range(st, float(sr.ref));
        }
      }
      const double new_ref = shifted ? sr.ref : double(m);
      if (s != 0) s *= std::exp(ref - new_ref);
      ref = new_ref;
      if (!shifted)
        s += block_in_normal_exp_range(st, m)
                 ? exp_sum<Isa, Math, ExpForm::kNormal>(x + b0, yb, len, m, 0.0f, ahead)
                 : exp_sum<Isa, Math, ExpForm::kFull>(x + b0, yb, len, m, 0.0f, ahead);
      else if constexpr (Math::kShiftedExp)  // (shifted is false on levels without it)
        s += exp_sum<Isa, Math, ExpForm::kShifted>(x + b0, yb, len, 0.0f, sr.shift, ahead);
    }
    if (block_ref) block_ref[b] = ref;
  }
  *ref_out = ref;
  *s_out = s;
  *m_out = m;
}

// Streaming: the exps go to a per-thread scratch row (L1/L2) and the scaling pass writes y
// once, with non-temporal stores; otherwise y holds the exps and is scaled in place.
template <typename Isa, typename Math>
AD_SIMD void softmax_row_f32(const float* x, float* y, int64_t n, bool stream) {
  if (n == 0) return;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  double stack_ref[64];
  std::vector<double> heap_ref;
  double* bref = stack_ref;
  if (nb > 64) {
    heap_ref.resize(nb);
    bref = heap_ref.data();
  }
  float* e = stream ? thread_buffer<float, kSoftmaxExps>(size_t(n)) : y;
  double ref, s;
  float m;
  online_max_sum<Isa, Math>(x, e, n, bref, &ref, &s, &m);
  if (ref == -INFINITY) s = NAN;  // all -inf: NaN, as NumPy's x - max
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kBlock, ++b) {
    // (a row of one block, or a block at the final reference, skips the exp call: 3-7% of
    // the time of rows of 3-12 floats)
    double f = (bref[b] == -INFINITY ? 0.0 : bref[b] == ref ? 1.0 : std::exp(bref[b] - ref)) / s;
    if (ref == -INFINITY) f = NAN;
    scale<Isa>(e + b0, y + b0, std::min(kBlock, n - b0), float(f), stream);
  }
}

template <typename Isa, typename Math>
AD_SIMD void log_softmax_row_f32(const float* x, float* y, int64_t n, bool stream) {
  using F = typename Isa::template Vec<float>;
  if (n == 0) return;
  double ref, s;
  float m;
  online_max_sum<Isa, Math>(x, nullptr, n, nullptr, &ref, &s, &m);
  // y = (x - m) - c with c = lse - m (m the row max), as NumPy and PyTorch: x - lse in one
  // step loses c's digits to lse's rounding once |m| dwarfs c (m = 1e30: every y was 0).
  const float c = ref == -INFINITY ? NAN : float(ref - double(m) + std::log(s));
  const auto mv = F::set1(m), cv = F::set1(c);
  Isa::template write_row<float>(
      y, n, stream, 0,
      [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return F::sub(F::sub(F::load(x + k), mv), cv); },
      [&](int64_t k) { return (x[k] - m) - c; });
}

// The two row-at-a-time kernels' checks, shared by the multi-row ones: whether a row whose
// stats are st may take the shifted exp against *sr (false for -inf and NaN rows, and for
// ranges past the normal exps), and its one-row kernel for the rows that may not.
inline bool row_takes_shifted_exp(const BlockStats& st, int steps, ShiftedReference* sr) {
  if (!(std::fabs(st.max) <= 90.0f)) return false;
  *sr = shifted_reference(st.max, steps);
  return block_in_normal_exp_range(st, float(sr->ref));
}

template <typename Isa, typename Math, bool Log>
AD_SIMD void one_row(const float* x, float* y, int64_t n, bool stream) {
  if constexpr (Log)
    log_softmax_row_f32<Isa, Math>(x, y, n, stream);
  else
    softmax_row_f32<Isa, Math>(x, y, n, stream);
}

// softmax_row_f32 (Log: log_softmax_row_f32) over rows [0, rows) (pipelinable_rows),
// pipelined as row_pipeline.h describes with a third pass in front: the stats pass of row r
// reads memory, then its exp pass writes row r - 1 (softmax: the exps go to one of two
// scratch rows, and row r - 1 is scaled from the other; log_softmax: (x - max) - c from x
// in L1).  The exp pass is compute-bound, so the stores drain in its shadow.  A row outside
// the shifted exp's range goes through the one-row kernel.
template <typename Isa, typename Math, bool Log, bool Stream>
AD_SIMD void softmax_rows_t(const float* x, float* y, int64_t n, int64_t rows) {
  using F = typename Isa::template Vec<float>;
  using R = typename F::R;
  constexpr int W = F::W;
  float* buf = Log ? nullptr : thread_buffer<float, kSoftmaxExps>(size_t(2 * n));
  const float* prev = nullptr;  // the pending row's exps (log: its x), output, constants
  float* prev_out = nullptr;
  R pa = F::zero(), pc = F::zero();  // softmax: the scale; log: the max, and c
  auto put = [&](int64_t i) AD_SIMD_INLINE_LAMBDA {
    const R v = F::load(prev + i);
    put_vec<F, Stream>(prev_out + i, Log ? F::sub(F::sub(v, pa), pc) : F::mul(v, pa));
  };
  // Rows whose length is not a multiple of W end in a vector at n - W (row_pipeline.h's
  // TailLanes): its exps and outputs are written again, its sum takes the lanes from body on.
  const int64_t body = n - n % W;
  const TailLanes tail{body};
  auto flush = [&]() AD_SIMD_INLINE_LAMBDA {
    if (prev) {
      for (int64_t i = 0; i < body; i += W) put(i);
      if (body < n) put(n - W);
    }
    prev = nullptr;
  };
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const BlockStats st = block_stats<Isa>(xr, n);
    ShiftedReference sr{};
    if (!row_takes_shifted_exp(st, Math::kShiftSteps, &sr)) {
      flush();
      one_row<Isa, Math, Log>(xr, yr, n, Stream);
      continue;
    }
    float* cur = Log ? nullptr : buf + (r & 1) * n;
    const R sv = F::set1(sr.shift);
    R acc = F::zero();
    auto step = [&](int64_t i, auto lanes) AD_SIMD_INLINE_LAMBDA {
      __builtin_prefetch(xr + i + n);
      const R e = Math::exp_shifted(F::load(xr + i), sv);
      if constexpr (!Log) F::store(cur + i, e);
      acc = pick<F>(lanes, acc, F::add(acc, e), i);
    };
    // The sum goes to a double every kBlock elements, as exp_sum's calls per block: a float
    // lane summing a whole long row lost up to 11 ulps of the result (NEON, rows of 4096).
    double s = 0;
    for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
      const int64_t b1 = std::min(body, b0 + kBlock);
      const bool last = b0 + kBlock >= n && body < n;
      if (prev) {
        for (int64_t i = b0; i < b1; i += W) {
          step(i, AllLanes{});
          put(i);
        }
        if (last) {
          step(n - W, tail);
          put(n - W);
        }
      } else {
        for (int64_t i = b0; i < b1; i += W) step(i, AllLanes{});
        if (last) step(n - W, tail);
      }
      s += F::hsum_d(acc);
      acc = F::zero();
    }
    prev_out = yr;
    if constexpr (Log) {
      prev = xr;
      pa = F::set1(st.max);
      pc = F::set1(float(sr.ref - double(st.max) + std::log(s)));  // as log_softmax_row_f32
    } else {
      prev = cur;
      pa = F::set1(float(1.0 / s));
    }
  }
  flush();
}

// sum(a * b) over four accumulator chains (one waits on FMA latency).
template <typename Isa, typename T>
AD_SIMD double dot(const T* a, const T* b, int64_t n) {
  using V = typename Isa::template Vec<T>;
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

template <typename Isa, typename T>
AD_SIMD void softmax_bwd_row(const T* y, const T* gy, T* gx, int64_t n, bool stream) {
  using V = typename Isa::template Vec<T>;
  const T d = T(dot<Isa>(gy, y, n));
  const auto dv = V::set1(d);
  // The output pass reads L1 and prefetches the next row's y and gy for the dot pass
  // (1.5 -> 1.25 ms single-threaded on 4096 x 1024, AVX2).
  Isa::template write_row<T>(
      gx, n, stream, Isa::template next_row_ahead<T>(n),
      [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
        return V::mul(V::load(y + k), V::sub(V::load(gy + k), dv));
      },
      [&](int64_t k) { return y[k] * (gy[k] - d); }, y, gy);
}

// softmax_bwd_row (Log: log_softmax_bwd_row_f32, float only; Math gives its exp) over rows
// [0, rows), pipelined (row_pipeline.h): the dot (Log: sum) pass of row r writes row r - 1.
template <typename Isa, typename Math, typename T, bool Log, bool Stream>
AD_SIMD void softmax_bwd_rows_t(const T* y, const T* gy, T* gx, int64_t n, int64_t rows) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  R a0 = V::zero(), a1 = V::zero(), dv = V::zero();
  const T *py = y, *pg = gy;  // the pending row
  T* po = gx;
  auto out = [&](int64_t i) AD_SIMD_INLINE_LAMBDA {
    if constexpr (Log)
      put_vec<V, Stream>(po + i, V::fnma(Math::exp(V::load(py + i)), dv, V::load(pg + i)));
    else
      put_vec<V, Stream>(po + i, V::mul(V::load(py + i), V::sub(V::load(pg + i), dv)));
  };
  pipeline_rows(
      rows, n, 2 * W,
      [&](int64_t r, int64_t i, auto lanes) AD_SIMD_INLINE_LAMBDA {
        const T* yr = y + r * n + i;
        const T* gr = gy + r * n + i;
        if constexpr (Log) {
          a0 = pick<V>(lanes, a0, V::add(a0, V::load(gr)), i);
          a1 = pick<V>(lanes, a1, V::add(a1, V::load(gr + W)), i + W);
        } else {
          a0 = pick<V>(lanes, a0, V::fma(V::load(yr), V::load(gr), a0), i);
          a1 = pick<V>(lanes, a1, V::fma(V::load(yr + W), V::load(gr + W), a1), i + W);
        }
      },
      [&](int64_t r) AD_SIMD_INLINE_LAMBDA {
        dv = V::set1(T(V::hsum_d(V::add(a0, a1))));
        a0 = a1 = V::zero();
        py = y + r * n;
        pg = gy + r * n;
        po = gx + r * n;
      },
      [&](int64_t i, auto) AD_SIMD_INLINE_LAMBDA {
        out(i);
        out(i + W);
      });
}

template <typename Isa, typename Math>
AD_SIMD void log_softmax_bwd_row_f32(const float* y, const float* gy, float* gx, int64_t n,
                                     bool stream) {
  using F = typename Isa::template Vec<float>;
  constexpr int W = F::W;
  double s = 0;
  {
    typename F::R a0 = F::zero(), a1 = F::zero();
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      a0 = F::add(a0, F::load(gy + i));
      a1 = F::add(a1, F::load(gy + i + W));
    }
    s = F::hsum_d(F::add(a0, a1));
    for (; i < n; ++i) s += double(gy[i]);
  }
  const float sf = float(s);
  const auto sv = F::set1(sf);
  // Head and tail elements go through the same vector exp as the body.  The pass prefetches
  // the next row's gy and y, as softmax_bwd_row does.
  Isa::template write_row<float>(
      gx, n, stream, Isa::template next_row_ahead<float>(n),
      [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
        return F::fnma(Math::exp(F::load(y + k)), sv, F::load(gy + k));
      },
      [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
        alignas(64) float e[W];
        F::store(e, Math::exp(F::set1(y[k])));
        return gy[k] - e[0] * sf;
      },
      gy, y);
}

// Rows shorter than the pipelined kernels' step (n < kSmallRow): a row at a time in
// registers (small_row, put_small_row in row_pipeline.h).  The one-row kernels spent most
// of such a row on their scalar head and tail passes.

// Forward: the padding repeats x[0] (neutral to the max, the min and NaN) and the sum
// leaves it out; the formulas are softmax_rows_t's.  small_row_exps loads row xr into v and
// takes its stats, reference, shifted exps e and their sum s; false (e and s unset) for a
// row outside the shifted exp's range, which goes to the one-row kernels as there.
template <typename Isa, typename Math, typename R = typename Isa::template Vec<float>::R>
AD_SIMD_INLINE bool small_row_exps(const float* xr, int64_t n, const float* block_end, R* v,
                                   R* e, BlockStats* st, ShiftedReference* sr, double* s) {
  using F = typename Isa::template Vec<float>;
  constexpr int W = F::W, NV = int(kSmallRow<F>) / W;
  small_row<F>(xr, n, block_end, xr[0], v);
  R hi = v[0], lo = v[0], nan = F::unord(v[0], v[0]);
  for (int j = 1; j < NV; ++j) {
    hi = F::max(hi, v[j]);
    lo = F::min(lo, v[j]);
    nan = F::bor(nan, F::unord(v[j], v[j]));
  }
  *st = BlockStats{F::hmax(hi), -F::hmax(F::sub(F::zero(), lo)), F::any(nan)};
  if (!row_takes_shifted_exp(*st, Math::kShiftSteps, sr)) return false;
  const TailLanes pad{n};  // pick(pad, e, zero, p): e in the row's lanes, 0 past them
  const R sv = F::set1(sr->shift);
  R acc = F::zero();
  for (int j = 0; j < NV; ++j) {
    e[j] = Math::exp_shifted(v[j], sv);
    acc = F::add(acc, pick<F>(pad, e[j], F::zero(), j * W));
  }
  *s = F::hsum_d(acc);
  return true;
}

template <typename Isa, typename Math>
AD_SIMD void softmax_small_rows(const float* x, float* y, int64_t n, int64_t rows) {
  using F = typename Isa::template Vec<float>;
  using R = typename F::R;
  constexpr int W = F::W, NV = int(kSmallRow<F>) / W;
  alignas(64) float buf[kSmallRow<F>];
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    R v[NV], e[NV];
    BlockStats st;
    ShiftedReference sr;
    double s;
    if (!small_row_exps<Isa, Math>(xr, n, x + rows * n, v, e, &st, &sr, &s)) {
      one_row<Isa, Math, false>(xr, yr, n, false);
      continue;
    }
    const R f = F::set1(float(1.0 / s));
    for (int j = 0; j < NV; ++j) e[j] = F::mul(e[j], f);
    put_small_row<F>(yr, n, y + rows * n, e, buf);
  }
}

// Log-softmax: rows in groups of W, whose W sums take one vector log (a std::log a row
// was a fifth of the time over 10 classes), the outputs x - max - c written in a second
// pass from the group's row vectors, kept from the first.
template <typename Isa, typename Math>
AD_SIMD void log_softmax_small_rows(const float* x, float* y, int64_t n, int64_t rows) {
  using F = typename Isa::template Vec<float>;
  using R = typename F::R;
  constexpr int W = F::W, NV = int(kSmallRow<F>) / W;
  alignas(64) float buf[kSmallRow<F>], logs[W], maxes[W];
  double refs[W];
  bool fast[W];
  R vs[W][NV];
  for (int64_t r0 = 0; r0 < rows; r0 += W) {
    const int g = int(std::min<int64_t>(W, rows - r0));
    for (int i = 0; i < W; ++i) {
      logs[i] = 1.0f;
      fast[i] = i < g;
      if (!fast[i]) continue;
      const float* xr = x + (r0 + i) * n;
      R e[NV];
      BlockStats st;
      ShiftedReference sr;
      double s;
      fast[i] = small_row_exps<Isa, Math>(xr, n, x + rows * n, vs[i], e, &st, &sr, &s);
      if (!fast[i]) continue;  // to the one-row kernel in the second pass, in row order
      logs[i] = float(s);
      maxes[i] = st.max;
      refs[i] = sr.ref;
    }
    F::store(logs, Math::log(F::load(logs)));
    for (int i = 0; i < g; ++i) {
      float* yr = y + (r0 + i) * n;
      if (!fast[i]) {
        one_row<Isa, Math, true>(x + (r0 + i) * n, yr, n, false);
        continue;
      }
      const R m = F::set1(maxes[i]);
      const R c = F::set1(float(refs[i] - double(maxes[i]) + double(logs[i])));
      R o[NV];
      for (int j = 0; j < NV; ++j) o[j] = F::sub(F::sub(vs[i][j], m), c);
      put_small_row<F>(yr, n, y + rows * n, o, buf);
    }
  }
}

// Backward: y and gy padded with zeros (their terms of the sums are 0).
template <typename Isa, typename Math, typename T, bool Log>
AD_SIMD void softmax_bwd_small_rows(const T* y, const T* gy, T* gx, int64_t n, int64_t rows) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, NV = int(kSmallRow<V>) / W;
  alignas(64) T buf[kSmallRow<V>];
  for (int64_t r = 0; r < rows; ++r) {
    R yv[NV], gv[NV];
    small_row<V>(y + r * n, n, y + rows * n, T(0), yv);
    small_row<V>(gy + r * n, n, gy + rows * n, T(0), gv);
    R acc = V::zero();
    for (int j = 0; j < NV; ++j) acc = Log ? V::add(acc, gv[j]) : V::fma(yv[j], gv[j], acc);
    const R dv = V::set1(T(V::hsum_d(acc)));
    for (int j = 0; j < NV; ++j) {
      if constexpr (Log)
        gv[j] = V::fnma(Math::exp(yv[j]), dv, gv[j]);
      else
        gv[j] = V::mul(yv[j], V::sub(gv[j], dv));
    }
    put_small_row<V>(gx + r * n, n, gx + rows * n, gv, buf);
  }
}

// The table's entries: rows shorter than a step in registers, the others pipelined, with
// or without non-temporal stores.
template <typename Isa, typename Math, bool Log>
AD_SIMD void softmax_rows(const float* x, float* y, int64_t n, int64_t rows, bool stream) {
  if (n < kSmallRow<typename Isa::template Vec<float>> && Log)
    log_softmax_small_rows<Isa, Math>(x, y, n, rows);
  else if (n < kSmallRow<typename Isa::template Vec<float>>)
    softmax_small_rows<Isa, Math>(x, y, n, rows);
  else if (stream)
    softmax_rows_t<Isa, Math, Log, true>(x, y, n, rows);
  else
    softmax_rows_t<Isa, Math, Log, false>(x, y, n, rows);
}
template <typename Isa, typename Math, typename T, bool Log>
AD_SIMD void softmax_bwd_rows(const T* y, const T* gy, T* gx, int64_t n, int64_t rows,
                              bool stream) {
  if (n < kSmallRow<typename Isa::template Vec<T>>)
    softmax_bwd_small_rows<Isa, Math, T, Log>(y, gy, gx, n, rows);
  else if (stream)
    softmax_bwd_rows_t<Isa, Math, T, Log, true>(y, gy, gx, n, rows);
  else
    softmax_bwd_rows_t<Isa, Math, T, Log, false>(y, gy, gx, n, rows);
}

}  // namespace autodiff::kernels::vec_kernels::softmax_detail

namespace autodiff::kernels::vec_kernels {

template <typename Isa, typename Math, typename T>
void fill_softmax_vec(KernelTable<T>& t) {
  using namespace softmax_detail;
  t.softmax_bwd_row = softmax_bwd_row<Isa, T>;
  t.softmax_bwd_rows = softmax_bwd_rows<Isa, Math, T, false>;
  if constexpr (std::is_same_v<T, float>) {
    t.softmax_row = softmax_row_f32<Isa, Math>;
    t.log_softmax_row = log_softmax_row_f32<Isa, Math>;
    t.log_softmax_bwd_row = log_softmax_bwd_row_f32<Isa, Math>;
    t.log_softmax_bwd_rows = softmax_bwd_rows<Isa, Math, float, true>;
    if constexpr (Math::kShiftedExp) {
      t.softmax_rows = softmax_rows<Isa, Math, false>;
      t.log_softmax_rows = softmax_rows<Isa, Math, true>;
    }
  }
}

}  // namespace autodiff::kernels::vec_kernels
