// Reduction row kernels written once over a Vec vocabulary (simd.h's avx2::Vec, simd_neon.h's
// neon::Vec): row sum / dot / max / Welford statistics and the column accumulators.  Include
// after the ISA's header, which defines the AD_SIMD* attributes; fill_reduce_vec<Vec> puts
// them into a table.
#pragma once

#include <algorithm>
#include <cmath>

#include "kernels/reduce.h"

namespace autodiff::kernels::vec_kernels {

constexpr int U = 4;  // independent accumulators

// Sum of x (Dot: of x * y) in blocks of kBlock elements with U vector accumulators of T;
// block sums are added in double, which keeps float32 sums of long rows accurate.
template <template <typename> class Vec, typename T, bool Dot>
AD_SIMD_INLINE double blocked_sum(const T* x, const T* y, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::W;
  constexpr int64_t kBlock = 2048;
  double total = 0;
  int64_t i = 0;
  if (n < W) {  // rows shorter than a vector: scalars only (first, kept off the vector paths)
    for (; i < n; ++i) total += Dot ? double(x[i]) * double(y[i]) : double(x[i]);
    return total;
  }
  while (i + U * W <= n) {
    int64_t end = std::min(n, i + kBlock);
    typename V::R acc[U];
    for (int u = 0; u < U; ++u) acc[u] = V::zero();
    for (; i + U * W <= end; i += U * W)
      for (int u = 0; u < U; ++u) {
        if constexpr (Dot)
          acc[u] = V::fma(V::load(x + i + u * W), V::load(y + i + u * W), acc[u]);
        else
          acc[u] = V::add(acc[u], V::load(x + i + u * W));
      }
    total += V::hsum_d(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
  }
  // Whole vectors left (all of a row shorter than U vectors): one accumulator, then scalars
  // (rows of 16 floats went through 16 dependent double additions: 65536 x 16 summed over
  // its rows took 1.25x PyTorch's time).
  if (i + W <= n) {
    typename V::R acc = V::zero();
    for (; i + W <= n; i += W) {
      if constexpr (Dot)
        acc = V::fma(V::load(x + i), V::load(y + i), acc);
      else
        acc = V::add(acc, V::load(x + i));
    }
    total += V::hsum_d(acc);
  }
  for (; i < n; ++i) total += Dot ? double(x[i]) * double(y[i]) : double(x[i]);
  return total;
}

template <template <typename> class Vec, typename T>
AD_SIMD double row_sum(const T* x, int64_t n) {
  return blocked_sum<Vec, T, false>(x, nullptr, n);
}

template <template <typename> class Vec, typename T>
AD_SIMD double row_dot(const T* x, const T* y, int64_t n) {
  return blocked_sum<Vec, T, true>(x, y, n);
}

// The product of a row in float64 in the scalar level's lane order (reduce.h's
// row_prod_lanes, compiled here for the function's target: 4 independent multiply chains at
// AVX2; the vocabulary has no widening op, and NEON builds it as is).
template <template <typename> class Vec, typename T>
AD_SIMD double row_prod(const T* x, int64_t n) {
  return row_prod_lanes(x, n);
}

// acc[j] *= x[r * step + j] for r < rows, j < w, in float64 (the loop over j vectorises).
template <template <typename> class Vec, typename T>
AD_SIMD void col_prod(double* acc, const T* x, int64_t w, int64_t rows, int64_t step) {
  for (int64_t r = 0; r < rows; ++r, x += step)
    for (int64_t j = 0; j < w; ++j) acc[j] *= double(x[j]);
}

template <template <typename> class Vec, typename T>
AD_SIMD T row_max(const T* x, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::W;
  int64_t i = 0;
  T m = x[0];
  if (n >= U * W) {
    typename V::R acc[U], nan = V::zero();
    for (int u = 0; u < U; ++u) {  // (flag the first loads' NaNs now: a later max drops them)
      acc[u] = V::load(x + u * W);
      nan = V::bor(nan, V::isnan(acc[u]));
    }
    for (i = U * W; i + U * W <= n; i += U * W)
      for (int u = 0; u < U; ++u) {
        auto v = V::load(x + i + u * W);
        nan = V::bor(nan, V::isnan(v));
        acc[u] = V::max(acc[u], v);
      }
    for (int u = 0; u < U; ++u) nan = V::bor(nan, V::isnan(acc[u]));
    if (V::any(nan)) return T(NAN);
    m = V::hmax(V::max(V::max(acc[0], acc[1]), V::max(acc[2], acc[3])));
  }
  for (; i < n; ++i) {
    if (x[i] != x[i]) return x[i];
    if (x[i] > m) m = x[i];
  }
  return m;
}

// One pass over memory: each block of kBlock elements (L1-resident) gets its mean and M2
// from a sum, then the sums of the deviations d from that mean rounded to T and of their
// squares: mean = m + sum d / len, M2 = sum d^2 - (sum d)^2 / len, exact however m was
// rounded (float32 rows around 1e5 lost 0.2% of a 0.01 variance to the rounding of m);
// blocks merge by Chan's formula.
template <template <typename> class Vec, typename T>
AD_SIMD void row_welford(const T* x, int64_t n, double* mean, double* m2) {
  using V = Vec<T>;
  constexpr int W = V::W;
  constexpr int64_t kBlock = 1024;
  double cn = 0, cmean = 0, cm2 = 0;
  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const int64_t len = std::min(kBlock, n - b0);
    const T* p = x + b0;
    const T m = T(row_sum<Vec, T>(p, len) / double(len));
    const auto mv = V::set1(m);
    // U independent FMA chains: with fewer the loop waits on FMA latency, not L1.
    typename V::R acc[U], acc1[U];
    for (int u = 0; u < U; ++u) acc[u] = acc1[u] = V::zero();
    int64_t i = 0;
    for (; i + U * W <= len; i += U * W)
      for (int u = 0; u < U; ++u) {
        auto d = V::sub(V::load(p + i + u * W), mv);
        acc[u] = V::fma(d, d, acc[u]);
        acc1[u] = V::add(acc1[u], d);
      }
    for (; i + W <= len; i += W) {
      auto d = V::sub(V::load(p + i), mv);
      acc[0] = V::fma(d, d, acc[0]);
      acc1[0] = V::add(acc1[0], d);
    }
    double s2 = V::hsum_d(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3])));
    double s1 = V::hsum_d(V::add(V::add(acc1[0], acc1[1]), V::add(acc1[2], acc1[3])));
    for (; i < len; ++i) {
      double d = double(p[i]) - double(m);
      s2 += d * d;
      s1 += d;
    }
    welford_merge(cn, cmean, cm2, double(len), double(m) + s1 / double(len),
                  std::max(0.0, s2 - s1 * s1 / double(len)));
  }
  *mean = cmean;
  *m2 = cm2;
}

constexpr int kBand = 12;  // vector column sums held in registers down the rows

// What a column band accumulates: x, x * y, or the running max of x (a NaN wins).
enum class ColKind { kAdd, kFma, kMax };

// acc[v * W + i] (+)= the sum (kAdd), the sum of x * y (kFma) or the max (kMax) over r < rows
// of x[r * step + v * W + i], for the NV vectors of one band; the running values stay in
// registers down all the rows.
template <template <typename> class Vec, typename T, ColKind K, int NV>
AD_SIMD_INLINE void col_band(T* acc, const T* x, const T* y, int64_t rows, int64_t step) {
  using V = Vec<T>;
  constexpr int W = V::W;
  typename V::R a[NV];
  for (int v = 0; v < NV; ++v) a[v] = V::load(acc + v * W);
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * step;
    if constexpr (K == ColKind::kFma) {
      const T* yr = y + r * step;
      for (int v = 0; v < NV; ++v) a[v] = V::fma(V::load(xr + v * W), V::load(yr + v * W), a[v]);
    } else if constexpr (K == ColKind::kAdd) {
      for (int v = 0; v < NV; ++v) a[v] = V::add(a[v], V::load(xr + v * W));
    } else {
      // max(x, a) returns a when either is NaN: keep a NaN that is already in a, take x's.
      for (int v = 0; v < NV; ++v) {
        const auto xv = V::load(xr + v * W);
        a[v] = V::blend(V::max(xv, a[v]), xv, V::isnan(xv));
      }
    }
  }
  for (int v = 0; v < NV; ++v) V::store(acc + v * W, a[v]);
}

// col_band with nv <= NV vectors, nv known at run time.
template <template <typename> class Vec, typename T, ColKind K, int NV = kBand>
AD_SIMD_INLINE void col_band_n(int nv, T* acc, const T* x, const T* y, int64_t rows, int64_t step) {
  if constexpr (NV > 1) {
    if (nv < NV) return col_band_n<Vec, T, K, NV - 1>(nv, acc, x, y, rows, step);
  }
  col_band<Vec, T, K, NV>(acc, x, y, rows, step);
}

// acc[j] (+)= the reduction over r < rows of x[r * step + j] (times y[r * step + j] for kFma),
// in row order per column, for j < w.  Each band of up to kBand vectors keeps its values in
// registers down a tile of rows, so acc is read and written once per band and tile instead
// of once per row (2 loads and a store per vector and row were the bound of narrow column
// sums in L2, and of column maxima); tiles of ~64 KiB keep the bands' passes within a region
// of memory.
template <template <typename> class Vec, typename T, ColKind K>
AD_SIMD_INLINE void col_reduce_t(T* acc, const T* x, const T* y, int64_t w, int64_t rows,
                                 int64_t step) {
  constexpr int W = Vec<T>::W;
  constexpr bool kFma = K == ColKind::kFma;
  const int64_t nvec = w / W;
  const int64_t tile = nvec > kBand ? std::max<int64_t>(16, 65536 / int64_t(sizeof(T) * w)) : rows;
  for (int64_t r0 = 0; r0 < rows; r0 += tile) {
    const int64_t nr = std::min(tile, rows - r0);
    const T* xt = x + r0 * step;
    const T* yt = kFma ? y + r0 * step : nullptr;
    for (int64_t v0 = 0; v0 < nvec; v0 += kBand)
      col_band_n<Vec, T, K>(int(std::min<int64_t>(kBand, nvec - v0)), acc + v0 * W, xt + v0 * W,
                            kFma ? yt + v0 * W : nullptr, nr, step);
    for (int64_t j = nvec * W; j < w; ++j)
      for (int64_t r = 0; r < nr; ++r) {
        const T v = xt[r * step + j];
        if constexpr (K == ColKind::kMax) {
          if (v > acc[j] || v != v) acc[j] = v;
        } else {
          acc[j] += v * (kFma ? yt[r * step + j] : T(1));
        }
      }
  }
}

template <template <typename> class Vec, typename T>
AD_SIMD void col_sum(T* acc, const T* x, const T* y, int64_t w, int64_t rows, int64_t step) {
  if (y)
    col_reduce_t<Vec, T, ColKind::kFma>(acc, x, y, w, rows, step);
  else
    col_reduce_t<Vec, T, ColKind::kAdd>(acc, x, y, w, rows, step);
}

template <template <typename> class Vec, typename T>
AD_SIMD void col_max(T* acc, const T* x, int64_t w, int64_t rows, int64_t step) {
  col_reduce_t<Vec, T, ColKind::kMax>(acc, x, nullptr, w, rows, step);
}

template <template <typename> class Vec, typename T>
AD_SIMD void col_welford(const T* x, const T* shift, int64_t w, int64_t k, T* mean, T* m2) {
  using V = Vec<T>;
  constexpr int W = V::W;
  const T rk = T(1) / T(k);
  const auto rkv = V::set1(rk);
  int64_t j = 0;
  for (; j + W <= w; j += W) {
    auto xv = V::sub(V::load(x + j), V::load(shift + j)), mu = V::load(mean + j);
    auto d = V::sub(xv, mu);
    mu = V::fma(d, rkv, mu);
    V::store(mean + j, mu);
    V::store(m2 + j, V::fma(d, V::sub(xv, mu), V::load(m2 + j)));
  }
  for (; j < w; ++j) {
    const T xs = x[j] - shift[j];
    T d = xs - mean[j];
    mean[j] += d * rk;
    m2[j] += d * (xs - mean[j]);
  }
}

template <template <typename> class Vec, typename T>
AD_SIMD double fma_loop(int64_t iters, T* sink) {
  using V = Vec<T>;
  constexpr int C = 12;  // chains: two FMA pipes x 4-cycle latency, with room to spare
  typename V::R acc[C];
  for (int c = 0; c < C; ++c) acc[c] = V::set1(T(c) * T(1e-3));
  const auto a = V::set1(T(0.999)), b = V::set1(T(1e-4));
  for (int64_t k = 0; k < iters; ++k)
    for (int c = 0; c < C; ++c) acc[c] = V::fma(acc[c], a, b);
  for (int c = 1; c < C; ++c) acc[0] = V::add(acc[0], acc[c]);
  *sink = T(V::hsum_d(acc[0]));
  return 2.0 * C * V::W * double(iters);
}

template <template <typename> class Vec, typename T>
void fill_reduce_vec(KernelTable<T>& t) {
  t.fma_loop = fma_loop<Vec, T>;
  t.row_sum = row_sum<Vec, T>;
  t.row_max = row_max<Vec, T>;
  t.row_welford = row_welford<Vec, T>;
  t.row_dot = row_dot<Vec, T>;
  t.row_prod = row_prod<Vec, T>;
  t.col_prod = col_prod<Vec, T>;
  t.col_sum = col_sum<Vec, T>;
  t.col_max = col_max<Vec, T>;
  t.col_welford = col_welford<Vec, T>;
}

}  // namespace autodiff::kernels::vec_kernels
