// Layer-norm row kernels written once over an ISA's vocabulary (simd.h's avx2::Isa,
// simd_neon.h's neon::Isa: its Vec and row passes): statistics in one pass over memory (the
// table's blockwise Welford), then one fused normalise-scale-shift pass; the backward in two
// passes per row.  Include after the ISA's header, which defines the AD_SIMD* attributes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/norm.h"
#include "kernels/row_pipeline.h"

namespace autodiff::kernels::vec_kernels {

template <typename Isa, typename T>
AD_SIMD void layer_norm_row(const T* x, const T* w, const T* b, T* y, int64_t n, T eps, T* mean,
                            T* rstd, bool stream) {
  using V = typename Isa::template Vec<T>;
  double mu, m2;
  table<T>().row_welford(x, n, &mu, &m2);
  const T m = T(mu), rs = T(1.0 / std::sqrt(m2 / double(n) + double(eps)));
  const auto mv = V::set1(m), rv = V::set1(rs);
  // The normalising pass reads x from L1 and prefetches the next row for row_welford.
  const int64_t ahead = Isa::template next_row_ahead<T>(n);
  auto xhat = [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
    return V::mul(V::sub(V::load(x + k), mv), rv);
  };
  auto xhat1 = [&](int64_t k) { return (x[k] - m) * rs; };
  if (w && b) {
    Isa::template write_row<T>(
        y, n, stream, ahead,
        [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
          return V::fma(xhat(k), V::load(w + k), V::load(b + k));
        },
        [&](int64_t k) { return xhat1(k) * w[k] + b[k]; }, x);
  } else if (w) {
    Isa::template write_row<T>(
        y, n, stream, ahead,
        [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return V::mul(xhat(k), V::load(w + k)); },
        [&](int64_t k) { return xhat1(k) * w[k]; }, x);
  } else if (b) {
    Isa::template write_row<T>(
        y, n, stream, ahead,
        [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return V::add(xhat(k), V::load(b + k)); },
        [&](int64_t k) { return xhat1(k) + b[k]; }, x);
  } else {
    Isa::template write_row<T>(y, n, stream, ahead, xhat, xhat1, x);
  }
  *mean = m;
  *rstd = rs;
}

template <typename Isa, typename T>
AD_SIMD void layer_norm_bwd_row(const T* gy, const T* x, T mean, T rstd, const T* w, T* gx,
                                T* gw_acc, T* gb_acc, int64_t n, bool stream) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  const R mv = V::set1(mean), rv = V::set1(rstd);
  // Four independent chains for each row sum: with one, the pass waits on add/FMA latency.
  constexpr int U = 4;
  R sg[U], sgx[U];
  for (int u = 0; u < U; ++u) sg[u] = sgx[u] = V::zero();
  auto step = [&](int64_t k, int u) AD_SIMD_INLINE_LAMBDA {
    R gyv = V::load(gy + k);
    R xh = V::mul(V::sub(V::load(x + k), mv), rv);
    R g = w ? V::mul(gyv, V::load(w + k)) : gyv;
    sg[u] = V::add(sg[u], g);
    sgx[u] = V::fma(g, xh, sgx[u]);
    if (gw_acc) {
      V::store(gw_acc + k, V::fma(gyv, xh, V::load(gw_acc + k)));
      V::store(gb_acc + k, V::add(V::load(gb_acc + k), gyv));
    }
  };
  int64_t i = 0;
  for (; i + U * W <= n; i += U * W)
    for (int u = 0; u < U; ++u) step(i + u * W, u);
  for (; i + W <= n; i += W) step(i, 0);
  double ssg = V::hsum_d(V::add(V::add(sg[0], sg[1]), V::add(sg[2], sg[3])));
  double ssgx = V::hsum_d(V::add(V::add(sgx[0], sgx[1]), V::add(sgx[2], sgx[3])));
  for (int64_t k = i; k < n; ++k) {
    T xh = (x[k] - mean) * rstd;
    T g = w ? gy[k] * w[k] : gy[k];
    ssg += double(g);
    ssgx += double(g) * double(xh);
    if (gw_acc) {
      gw_acc[k] += gy[k] * xh;
      gb_acc[k] += gy[k];
    }
  }
  const T c1 = T(rstd * ssg / double(n)), c2 = T(rstd * ssgx / double(n));
  const R c1v = V::set1(c1), c2v = V::set1(c2);
  // gx = rstd * g - rstd * mean(g) - xhat * rstd * mean(g * xhat).  The pass reads L1 and
  // prefetches the next row's gy and x for the first pass, which would otherwise wait on
  // memory alone (1.7 -> 1.35 ms single-threaded on 4096 x 1024).
  Isa::template write_row<T>(
      gx, n, stream, Isa::template next_row_ahead<T>(n),
      [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
        R gyv = V::load(gy + k);
        R xh = V::mul(V::sub(V::load(x + k), mv), rv);
        R g = w ? V::mul(gyv, V::load(w + k)) : gyv;
        return V::fnma(xh, c2v, V::sub(V::mul(rv, g), c1v));
      },
      [&](int64_t k) {
        T xh = (x[k] - mean) * rstd;
        T g = w ? gy[k] * w[k] : gy[k];
        return rstd * g - c1 - xh * c2;
      }, gy, x);
}

// The pipelined kernels' float row sums go to a double every kSumBlock elements, as
// row_welford's blocks: float lanes summing whole rows of up to 64K elements lose digits.
constexpr int64_t kSumBlock = 1024;

// layer_norm_row over rows [0, rows) (pipelinable_rows), pipelined as row_pipeline.h
// describes: the sum pass of row r (memory) writes row r - 1; a pass over row r in L1 then
// sums (x - mean)^2, the two-pass variance row_welford takes on a block.
template <typename Isa, typename T, bool HasW, bool HasB, bool Stream>
AD_SIMD void layer_norm_rows_t(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t rows,
                               T eps, T* mean, T* rstd) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  R a0 = V::zero(), a1 = V::zero(), mv = V::zero(), rv = V::zero();
  const T* px = x;  // the pending row
  T* po = y;
  auto out = [&](int64_t k) AD_SIMD_INLINE_LAMBDA {
    R v = V::mul(V::sub(V::load(px + k), mv), rv);
    if constexpr (HasW && HasB)
      v = V::fma(v, V::load(w + k), V::load(b + k));
    else if constexpr (HasW)
      v = V::mul(v, V::load(w + k));
    else if constexpr (HasB)
      v = V::add(v, V::load(b + k));
    put_vec<V, Stream>(po + k, v);
  };
  double sum = 0;  // the row's sum, taken to double every kSumBlock elements
  pipeline_rows(
      rows, n, 2 * W,
      [&](int64_t r, int64_t i, auto lanes) AD_SIMD_INLINE_LAMBDA {
        const T* xr = x + r * n + i;
        if (i % kSumBlock == 0 && i > 0) {
          sum += V::hsum_d(V::add(a0, a1));
          a0 = a1 = V::zero();
        }
        a0 = pick<V>(lanes, a0, V::add(a0, V::load(xr)), i);
        a1 = pick<V>(lanes, a1, V::add(a1, V::load(xr + W)), i + W);
      },
      [&](int64_t r) AD_SIMD_INLINE_LAMBDA {
        const T* xr = x + r * n;
        const double mu = (sum + V::hsum_d(V::add(a0, a1))) / double(n);
        sum = 0;
        a0 = a1 = V::zero();
        const R m = V::set1(T(mu));
        double m2 = 0;
        const int64_t body = n - n % (2 * W);
        R q0 = V::zero(), q1 = V::zero();
        for (int64_t b0 = 0; b0 < body; b0 += kSumBlock) {
          for (int64_t i = b0; i < std::min(body, b0 + kSumBlock); i += 2 * W) {
            const R d0 = V::sub(V::load(xr + i), m), d1 = V::sub(V::load(xr + i + W), m);
            q0 = V::fma(d0, d0, q0);
            q1 = V::fma(d1, d1, q1);
          }
          m2 += V::hsum_d(V::add(q0, q1));
          q0 = q1 = V::zero();
        }
        if (body < n) {  // the last two vectors, the lanes before body left out
          const int64_t i = n - 2 * W;
          const R d0 = V::sub(V::load(xr + i), m), d1 = V::sub(V::load(xr + i + W), m);
          const TailLanes tail{body};
          q0 = pick<V>(tail, q0, V::mul(d0, d0), i);
          q1 = pick<V>(tail, q1, V::mul(d1, d1), i + W);
          m2 += V::hsum_d(V::add(q0, q1));
        }
        mean[r] = T(mu);
        rstd[r] = T(1.0 / std::sqrt(m2 / double(n) + double(eps)));
        mv = V::set1(mean[r]);
        rv = V::set1(rstd[r]);
        px = xr;
        po = y + r * n;
      },
      [&](int64_t i, auto) AD_SIMD_INLINE_LAMBDA {
        out(i);
        out(i + W);
      });
}

template <typename Isa, typename T, bool Stream>
AD_SIMD void layer_norm_rows_s(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t rows,
                               T eps, T* mean, T* rstd) {
  if (w && b)
    layer_norm_rows_t<Isa, T, true, true, Stream>(x, w, b, y, n, rows, eps, mean, rstd);
  else if (w)
    layer_norm_rows_t<Isa, T, true, false, Stream>(x, w, b, y, n, rows, eps, mean, rstd);
  else if (b)
    layer_norm_rows_t<Isa, T, false, true, Stream>(x, w, b, y, n, rows, eps, mean, rstd);
  else
    layer_norm_rows_t<Isa, T, false, false, Stream>(x, w, b, y, n, rows, eps, mean, rstd);
}

// Rows shorter than a step (n < kSmallRow): a row at a time in registers (small_row,
// put_small_row), its mean and M2 by row_welford's formula for one block (a sum in double,
// then the squared deviations from the rounded mean).  The one-row kernel spent most of such
// a row on scalar heads and tails (65536 x 10: 1.33 ms, the softmax 0.63).
template <typename Isa, typename T>
AD_SIMD void layer_norm_small_rows(const T* x, const T* w, const T* b, T* y, int64_t n,
                                   int64_t rows, T eps, T* mean, T* rstd) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, NV = int(kSmallRow<V>) / W;
  alignas(64) T buf[kSmallRow<V>];
  const TailLanes pad{n};  // pick(pad, d, zero, p): d in the row's lanes, 0 past them
  R wv[NV], bv[NV];
  for (int j = 0; j < NV; ++j) wv[j] = V::set1(T(1)), bv[j] = V::zero();
  if (w) small_row<V>(w, n, w + n, T(1), wv);  // (through the padded copy: w + n ends it)
  if (b) small_row<V>(b, n, b + n, T(0), bv);
  for (int64_t r = 0; r < rows; ++r) {
    R v[NV];
    small_row<V>(x + r * n, n, x + rows * n, T(0), v);
    R acc = v[0];
    for (int j = 1; j < NV; ++j) acc = V::add(acc, v[j]);
    const T m = T(V::hsum_d(acc) / double(n));
    const R mv = V::set1(m);
    R d[NV], sq = V::zero();
    for (int j = 0; j < NV; ++j) {
      d[j] = V::sub(v[j], mv);
      const R dr = pick<V>(pad, d[j], V::zero(), j * W);  // the row's lanes only
      sq = V::fma(dr, dr, sq);
    }
    const T rs = T(1.0 / std::sqrt(V::hsum_d(sq) / double(n) + double(eps)));
    const R rv = V::set1(rs);
    for (int j = 0; j < NV; ++j) {
      const R xh = V::mul(d[j], rv);
      v[j] = w ? (b ? V::fma(xh, wv[j], bv[j]) : V::mul(xh, wv[j])) : (b ? V::add(xh, bv[j]) : xh);
    }
    put_small_row<V>(y + r * n, n, y + rows * n, v, buf);
    mean[r] = m;
    rstd[r] = rs;
  }
}

template <typename Isa, typename T>
AD_SIMD void layer_norm_rows(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t rows,
                             T eps, T* mean, T* rstd, bool stream) {
  if (n < kSmallRow<typename Isa::template Vec<T>>)
    layer_norm_small_rows<Isa, T>(x, w, b, y, n, rows, eps, mean, rstd);
  else if (stream)
    layer_norm_rows_s<Isa, T, true>(x, w, b, y, n, rows, eps, mean, rstd);
  else
    layer_norm_rows_s<Isa, T, false>(x, w, b, y, n, rows, eps, mean, rstd);
}

// layer_norm_bwd_row over rows [0, rows), pipelined: the sums pass of row r writes row
// r - 1.  The gw and gb accumulators are read and written once per pair of rows, in the
// loop that holds both (row r odd: its terms are kept in registers for the pending row's
// step), which saves a quarter of the loop's loads and stores (0.95 -> 0.85 ms on 4096 x
// 1024 at 2 threads); an unpaired last row adds its own.
template <typename Isa, typename T, bool HasW, bool Stream>
AD_SIMD void layer_norm_bwd_rows_t(const T* gy, const T* x, const T* mean, const T* rstd,
                                   const T* w, T* gw_acc, T* gb_acc, T* gx, int64_t n,
                                   int64_t rows) {
  using V = typename Isa::template Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  R sg = V::zero(), sx = V::zero();  // the current row's sums of g and g xhat
  double dsg = 0, dsx = 0;            // and what they held before the last kSumBlock
  R mv = V::zero(), rv = V::zero();  // and its statistics
  R pm = V::zero(), pr = V::zero(), c1v = V::zero(), c2v = V::zero();  // the pending row's
  R tw = V::zero(), tb = V::zero();  // an odd row's gw, gb terms at the current step
  bool pending_adds = false, paired = false;
  const T *pg = gy, *px = x;
  T* po = gx;
  // The sums pass prefetches 2 KiB on (into the next row where rows are shorter): with 4 KiB
  // rows the hardware prefetchers, which stop at page ends, left each row's start to wait on
  // memory (4096 x 1024 float32 at 2 threads: 1.02 -> 0.77-0.85 ms).  Prefetching past the
  // arrays never faults.
  constexpr int64_t ahead = 2048 / int64_t(sizeof(T));
  if (rows > 0) {
    mv = V::set1(mean[0]);
    rv = V::set1(rstd[0]);
  }
  pipeline_rows(
      rows, n, W,
      [&](int64_t r, int64_t i, auto lanes) AD_SIMD_INLINE_LAMBDA {
        if (i % kSumBlock == 0 && i > 0) {
          dsg += V::hsum_d(sg);
          dsx += V::hsum_d(sx);
          sg = sx = V::zero();
        }
        __builtin_prefetch(gy + r * n + i + ahead);
        __builtin_prefetch(x + r * n + i + ahead);
        const R gyv = V::load(gy + r * n + i);
        const R xh = V::mul(V::sub(V::load(x + r * n + i), mv), rv);
        const R gv = HasW ? V::mul(gyv, V::load(w + i)) : gyv;
        sg = pick<V>(lanes, sg, V::add(sg, gv), i);
        sx = pick<V>(lanes, sx, V::fma(gv, xh, sx), i);
        if constexpr (HasW)
          if (paired) {
            tw = V::mul(gyv, xh);
            tb = gyv;
          }
      },
      [&](int64_t r) AD_SIMD_INLINE_LAMBDA {
        const double ssg = dsg + V::hsum_d(sg), ssx = dsx + V::hsum_d(sx);
        sg = sx = V::zero();
        dsg = dsx = 0;
        const T rs = rstd[r];
        c1v = V::set1(T(-rs * ssg / double(n)));              // -c1
        c2v = V::set1(T(double(rs) * rs * ssx / double(n)));  // c2 rstd
        pm = mv;
        pr = rv;
        pg = gy + r * n;
        px = x + r * n;
        po = gx + r * n;
        pending_adds = r % 2 == 0;  // an odd row's terms went in with its even predecessor's
        paired = pending_adds && r + 1 < rows;
        if (r + 1 < rows) {
          mv = V::set1(mean[r + 1]);
          rv = V::set1(rstd[r + 1]);
        }
      },
      // gx = rstd g - c1 - c2 xhat = fma(rstd, g, -c1) - (c2 rstd) (x - mean)
      [&](int64_t i, auto lanes) AD_SIMD_INLINE_LAMBDA {
        const R gyv = V::load(pg + i);
        const R d = V::sub(V::load(px + i), pm);
        const R gv = HasW ? V::mul(gyv, V::load(w + i)) : gyv;
        put_vec<V, Stream>(po + i, V::fnma(d, c2v, V::fma(pr, gv, c1v)));
        if constexpr (HasW)
          if (pending_adds) {
            R aw = V::mul(gyv, V::mul(d, pr)), ab = gyv;
            if (paired) {
              aw = V::add(aw, tw);
              ab = V::add(ab, tb);
            }
            const R gwo = V::load(gw_acc + i), gbo = V::load(gb_acc + i);
            V::store(gw_acc + i, pick<V>(lanes, gwo, V::add(gwo, aw), i));
            V::store(gb_acc + i, pick<V>(lanes, gbo, V::add(gbo, ab), i));
          }
      });
}

template <typename Isa, typename T>
AD_SIMD void layer_norm_bwd_rows(const T* gy, const T* x, const T* mean, const T* rstd,
                                 const T* w, T* gx, T* gw_acc, T* gb_acc, int64_t n,
                                 int64_t rows, bool stream) {
  if (n < 2 * Isa::template Vec<T>::W) {  // shorter than a step (AVX-512 float32, n < 32)
    for (int64_t r = 0; r < rows; ++r)
      layer_norm_bwd_row<Isa, T>(gy + r * n, x + r * n, mean[r], rstd[r], w, gx + r * n, gw_acc,
                                 gb_acc, n, stream);
    return;
  }
  auto run = [&](auto has_w, auto st) AD_SIMD_INLINE_LAMBDA {
    layer_norm_bwd_rows_t<Isa, T, decltype(has_w)::value, decltype(st)::value>(
        gy, x, mean, rstd, w, gw_acc, gb_acc, gx, n, rows);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (w)
    stream ? run(Yes{}, Yes{}) : run(Yes{}, No{});
  else
    stream ? run(No{}, Yes{}) : run(No{}, No{});
}

template <typename Isa, typename T>
void fill_norm_vec(KernelTable<T>& t) {
  t.layer_norm_row = layer_norm_row<Isa, T>;
  t.layer_norm_bwd_row = layer_norm_bwd_row<Isa, T>;
  t.layer_norm_rows = layer_norm_rows<Isa, T>;
  t.layer_norm_bwd_rows = layer_norm_bwd_rows<Isa, T>;
}

}  // namespace autodiff::kernels::vec_kernels
