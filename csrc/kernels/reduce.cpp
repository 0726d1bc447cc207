// Drivers for reductions: row (inner == 1) and column (inner > 1) layouts, threaded.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

constexpr int64_t kColChunk = 512;  // columns per work item in the column layout

template <typename T>
T finish_moments(ReduceOp op, double n, double mean, double m2, double correction) {
  if (op == ReduceOp::kMean) return T(mean);
  if (op == ReduceOp::kSum) return T(mean * n);
  return T(m2 / std::max(n - correction, 0.0));  // kVar; x/0 gives inf or nan, as NumPy
}

// One row of length n reduced with nt threads over chunks (used when rows are few and long).
template <typename T>
T reduce_long_row(ReduceOp op, const T* x, int64_t n, double correction, int nt) {
  const auto& t = table<T>();
  const int64_t per = (n + nt - 1) / nt;
  std::vector<double> cnt(nt, 0), mu(nt, 0), m2(nt, 0);
  std::vector<T> mx(nt, x[0]);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int k = 0; k < nt; ++k) {
    int64_t i0 = k * per, len = std::max<int64_t>(0, std::min(per, n - i0));
    if (len == 0) continue;
    cnt[k] = double(len);
    if (op == ReduceOp::kMax) {
      mx[k] = t.row_max(x + i0, len);
    } else if (op == ReduceOp::kVar) {
      t.row_welford(x + i0, len, &mu[k], &m2[k]);
    } else {
      mu[k] = t.row_sum(x + i0, len) / double(len);
    }
  }
  if (op == ReduceOp::kMax) {
    T m = mx[0];
    for (int k = 0; k < nt; ++k) {
      if (mx[k] != mx[k]) return mx[k];
      if (mx[k] > m) m = mx[k];
    }
    return m;
  }
  double c = 0, mean = 0, s = 0;
  for (int k = 0; k < nt; ++k) welford_merge(c, mean, s, cnt[k], mu[k], m2[k]);
  if (op == ReduceOp::kSum) {  // sum the parts directly (exact for the merged mean anyway)
    double tot = 0;
    for (int k = 0; k < nt; ++k) tot += mu[k] * cnt[k];
    return T(tot);
  }
  return finish_moments<T>(op, double(n), mean, s, correction);
}

template <typename T>
T reduce_row(ReduceOp op, const KernelTable<T>& t, const T* x, int64_t n, double correction) {
  if (op == ReduceOp::kMax) return t.row_max(x, n);
  if (op == ReduceOp::kVar) {
    double mean, m2;
    t.row_welford(x, n, &mean, &m2);
    return finish_moments<T>(op, double(n), mean, m2, correction);
  }
  double s = t.row_sum(x, n);
  return T(op == ReduceOp::kMean ? s / double(n) : s);
}

}  // namespace

template <typename T>
void reduce_axis(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out,
                 double correction) {
  const int64_t nout = outer * inner;
  if (nout == 0) return;
  if (n == 0) {
    T v = op == ReduceOp::kSum ? T(0) : std::numeric_limits<T>::quiet_NaN();
    std::fill(out, out + nout, v);
    return;
  }
  const auto& t = table<T>();
  const int64_t total = nout * n;
  const int nt = threads_for(total);
  if (inner == 1) {
    if (outer < nt && n >= 65536) {
      for (int64_t o = 0; o < outer; ++o)
        out[o] = reduce_long_row(op, x + o * n, n, correction, nt);
      return;
    }
    const int ntr = cap_threads(nt, outer);
#pragma omp parallel for num_threads(ntr) schedule(dynamic, dyn_chunk(n)) if (ntr > 1)
    for (int64_t o = 0; o < outer; ++o) out[o] = reduce_row(op, t, x + o * n, n, correction);
    return;
  }
  const int64_t nchunks = (inner + kColChunk - 1) / kColChunk;
  const int64_t items = outer * nchunks;
  const int ntc = cap_threads(nt, items);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t o = it / nchunks, c0 = (it % nchunks) * kColChunk;
    const int64_t w = std::min(kColChunk, inner - c0);
    const T* src = x + o * n * inner + c0;
    T* acc = out + o * inner + c0;
    if (op == ReduceOp::kMax) {
      std::copy(src, src + w, acc);
      for (int64_t j = 1; j < n; ++j) t.col_max(acc, src + j * inner, w);
    } else if (op == ReduceOp::kVar) {
      std::vector<T> mean(w, T(0));
      std::fill(acc, acc + w, T(0));
      for (int64_t j = 0; j < n; ++j) t.col_welford(src + j * inner, w, j + 1, mean.data(), acc);
      const double denom = std::max(double(n) - correction, 0.0);
      for (int64_t k = 0; k < w; ++k) acc[k] = T(double(acc[k]) / denom);
    } else {
      std::fill(acc, acc + w, T(0));
      for (int64_t j = 0; j < n; ++j) t.col_add(acc, src + j * inner, w);
      if (op == ReduceOp::kMean) {
        const T r = T(1) / T(n);
        for (int64_t k = 0; k < w; ++k) acc[k] *= r;
      }
    }
  }
}

template <typename T>
void mul_sum_axis(const T* g, const T* h, int64_t outer, int64_t n, int64_t inner, T* out) {
  const int64_t nout = outer * inner;
  if (nout == 0) return;
  if (n == 0) {
    std::fill(out, out + nout, T(0));
    return;
  }
  const auto& t = table<T>();
  const int nt = threads_for(2 * nout * n);  // two streams in
  if (inner == 1) {
    if (outer < nt && n >= 65536) {  // few long rows: each split over the threads
      for (int64_t o = 0; o < outer; ++o) {
        const T *go = g + o * n, *ho = h + o * n;
        const int64_t per = (n + nt - 1) / nt;
        double tot = 0;
#pragma omp parallel for num_threads(nt) reduction(+ : tot)
        for (int k = 0; k < nt; ++k) {
          const int64_t i0 = k * per, len = std::max<int64_t>(0, std::min(per, n - i0));
          if (len) tot += t.row_dot(go + i0, ho + i0, len);
        }
        out[o] = T(tot);
      }
      return;
    }
    const int ntr = cap_threads(nt, outer);
#pragma omp parallel for num_threads(ntr) schedule(dynamic, dyn_chunk(n)) if (ntr > 1)
    for (int64_t o = 0; o < outer; ++o) out[o] = T(t.row_dot(g + o * n, h + o * n, n));
    return;
  }
  // Columns: work items are (outer, column chunk, row slice); with fewer column items than
  // threads (a (rows, features) gradient reduced to (features,)), the rows are sliced too
  // and the slices' partial sums added at the end.
  const int64_t nchunks = (inner + kColChunk - 1) / kColChunk;
  const int64_t slices =
      outer * nchunks >= nt ? 1 : std::min<int64_t>(nt, std::max<int64_t>(1, n / 64));
  const int64_t per = (n + slices - 1) / slices;
  std::vector<T> partial(slices > 1 ? size_t((slices - 1) * nout) : 0);
  const int64_t items = outer * nchunks * slices;
  const int ntc = cap_threads(nt, items);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t sl = it % slices, rest = it / slices;
    const int64_t o = rest / nchunks, c0 = (rest % nchunks) * kColChunk;
    const int64_t w = std::min(kColChunk, inner - c0);
    const int64_t j0 = sl * per, j1 = std::min(n, j0 + per);
    T* acc = (sl == 0 ? out : partial.data() + (sl - 1) * nout) + o * inner + c0;
    std::fill(acc, acc + w, T(0));
    const int64_t base = (o * n) * inner + c0;
    for (int64_t j = j0; j < j1; ++j) t.col_fma(acc, g + base + j * inner, h + base + j * inner, w);
  }
  for (int64_t sl = 1; sl < slices; ++sl) t.col_add(out, partial.data() + (sl - 1) * nout, nout);
}

template <typename T>
void channel_stats(const T* x, int64_t outer, int64_t c, int64_t inner, T* mean, T* var) {
  if (c == 0) return;
  if (outer * inner == 0) {
    std::fill(mean, mean + c, std::numeric_limits<T>::quiet_NaN());
    std::fill(var, var + c, std::numeric_limits<T>::quiet_NaN());
    return;
  }
  const auto& t = table<T>();
  const int nt = threads_for(outer * c * inner);
  if (inner == 1) {  // NC: column Welford over the rows
    const int64_t nchunks = (c + kColChunk - 1) / kColChunk;
    const int ntc = cap_threads(nt, nchunks);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
    for (int64_t ch = 0; ch < nchunks; ++ch) {
      const int64_t c0 = ch * kColChunk, w = std::min(kColChunk, c - c0);
      std::fill(mean + c0, mean + c0 + w, T(0));
      std::fill(var + c0, var + c0 + w, T(0));
      for (int64_t j = 0; j < outer; ++j)
        t.col_welford(x + j * c + c0, w, j + 1, mean + c0, var + c0);
      for (int64_t k = 0; k < w; ++k) var[c0 + k] /= T(outer);
    }
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int64_t ch = 0; ch < c; ++ch) {  // NCHW / NCL: merge per-plane stats
    double cnt = 0, mu = 0, m2 = 0;
    for (int64_t o = 0; o < outer; ++o) {
      double pm, pm2;
      t.row_welford(x + (o * c + ch) * inner, inner, &pm, &pm2);
      welford_merge(cnt, mu, m2, double(inner), pm, pm2);
    }
    mean[ch] = T(mu);
    var[ch] = T(m2 / cnt);
  }
}

template void reduce_axis<float>(ReduceOp, const float*, int64_t, int64_t, int64_t, float*, double);
template void reduce_axis<double>(ReduceOp, const double*, int64_t, int64_t, int64_t, double*,
                                  double);
template void mul_sum_axis<float>(const float*, const float*, int64_t, int64_t, int64_t, float*);
template void mul_sum_axis<double>(const double*, const double*, int64_t, int64_t, int64_t,
                                   double*);
template void channel_stats<float>(const float*, int64_t, int64_t, int64_t, float*, float*);
template void channel_stats<double>(const double*, int64_t, int64_t, int64_t, double*, double*);

}  // namespace autodiff::kernels
