// Drivers for reductions: row (inner == 1) and column (inner > 1) layouts, threaded.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

// Columns per work item in the column layout.  2048, not 512: a (rows, 1024) array reduced
// over its rows is then one column item, so the threads take contiguous runs of whole rows
// (sliced) instead of half rows 4 KiB apart; sum over axis 0 of 4096 x 1024 went 461 -> 382
// us, (32, 128, 1024) over axis 1 430 -> 332 (2 threads, builds interleaved).
constexpr int64_t kColChunk = 2048;

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
  const double s = t.row_sum(x, n);
  if (op != ReduceOp::kMean) return T(s);
  // A float32 mean multiplies by 1 / n (hoisted out of the row loop; PyTorch's mean does the
  // same): a division a row bounded short rows (65536 x 16: 270 us against the sum's 234).
  // The product is within an ulp of the quotient in double, far below float32's rounding.
  return std::is_same_v<T, float> ? T(s * (1.0 / double(n))) : T(s / double(n));
}

constexpr int64_t kWideRow = 512;  // elements per column-kernel call for narrow rows

// Chan's merge of (count nb, means mb, squared-deviation sums m2b) into (cnt, mean, m2),
// column-wise: every column of a partial has the same count.
template <typename T>
void merge_moments(T* mean, T* m2, double& cnt, const T* mb, const T* m2b, double nb, int64_t w) {
  if (nb == 0) return;
  const double tot = cnt + nb;
  const T f1 = T(nb / tot), f2 = T(cnt * nb / tot);
  for (int64_t c = 0; c < w; ++c) {
    const T d = mb[c] - mean[c];
    mean[c] += d * f1;
    m2[c] += m2b[c] + d * d * f2;
  }
  cnt = tot;
}

// acc = max(acc, part) (kMax) or acc + part (sums), elementwise over w.
template <typename T>
void fold_into(ReduceOp op, const KernelTable<T>& t, T* acc, const T* part, int64_t w) {
  if (op == ReduceOp::kMax)
    t.col_max(acc, part, w, 1, 0);
  else
    t.col_sum(acc, part, nullptr, w, 1, 0);
}

// How many narrow contiguous rows of w elements reduce_col_block takes as one wide row.
// var: k * w <= kWideRow, so that each column-kernel call covers a useful length.  Sums and
// maxima keep a band of up to 12 vectors in registers down the rows (col_reduce_t): k * w of about
// 96 floats (48 doubles), a whole number of 32-byte vectors where kWideRow allows, gives
// each band enough independent additions without a long fold of the k partials.
template <typename T>
int64_t rows_per_group(ReduceOp op, int64_t w, int64_t rows) {
  if (op == ReduceOp::kVar) return w < kWideRow ? std::min(kWideRow / w, rows) : 1;
  constexpr int64_t kVec = 32 / sizeof(T), kTarget = 12 * kVec;
  const int64_t g = kVec / std::gcd(w, kVec);  // rows per whole number of vectors
  const int64_t k = g * w > kWideRow ? 1 : std::max(g, kTarget / w / g * g);
  return std::min(k, rows);
}

// Reduces `rows` rows of w columns (row stride `stride`) into a_out (sum, max, or for var
// the mean of src - shift) and b_out (var: the sum of squared deviations); with h, the sum of
// src * h.  Narrow rows that are contiguous (w == stride) are taken k at a time as one wide
// row (rows_per_group); the k interleaved partial results are folded at the end.
template <typename T>
void reduce_col_block(ReduceOp op, const KernelTable<T>& t, const T* src, const T* h, int64_t rows,
                      int64_t stride, int64_t w, T* a_out, T* b_out, const T* shift = nullptr) {
  const int64_t k = w == stride ? rows_per_group<T>(op, w, rows) : 1;
  const int64_t width = k * w, groups = rows / k, rem = rows - groups * k, step = k * stride;
  alignas(64) T a[std::max(kWideRow, kColChunk)];
  alignas(64) T b[std::max(kWideRow, kColChunk)];
  if (op == ReduceOp::kMax) {
    std::copy(src, src + width, a);
    t.col_max(a, src + step, width, groups - 1, step);
    if (rem) t.col_max(a, src + groups * step, rem * w, 1, 0);
  } else if (op == ReduceOp::kVar) {
    std::fill(a, a + width, T(0));
    std::fill(b, b + width, T(0));
    alignas(64) T s[std::max(kWideRow, kColChunk)];
    for (int64_t j = 0; j < width; ++j) s[j] = shift[j % w];
    for (int64_t g = 0; g < groups; ++g) t.col_welford(src + g * step, s, width, g + 1, a, b);
    if (rem) t.col_welford(src + groups * step, s, rem * w, groups + 1, a, b);
  } else {
    std::fill(a, a + width, T(0));
    t.col_sum(a, src, h, width, groups, step);
    if (rem) t.col_sum(a, src + groups * step, h ? h + groups * step : nullptr, rem * w, 1, 0);
  }
  if (op == ReduceOp::kVar) {
    std::copy(a, a + w, a_out);
    std::copy(b, b + w, b_out);
    double cnt = double(groups + (rem > 0));
    for (int64_t i = 1; i < k; ++i)
      merge_moments(a_out, b_out, cnt, a + i * w, b + i * w, double(groups + (i < rem)), w);
    return;
  }
  std::copy(a, a + w, a_out);
  for (int64_t i = 1; i < k; ++i) fold_into(op, t, a_out, a + i * w, w);
}

// The column layout (inner > 1): out[o, c] reduces x[o, :, c].  Work items are (outer,
// column chunk, row slice); with fewer column items than threads (a (rows, features) array
// reduced over its rows) the rows are sliced too and the slices' results merged at the
// end.  Items accumulate in their own scratch and write their results once, so items
// whose outputs share a cache line never write it while they run.  h (kSum only): reduce
// x * h.  mean_out (var only) receives the means.  Var takes its moments of x minus the
// first row (a shift per column, shared by every item and slice, so that their partial
// means merge as they are): float32 Welford updates of a mean far from zero lose the
// digits of a small spread (1e5 + 0.1 N(0, 1): 3% off in var without it).
template <typename T>
void reduce_columns(ReduceOp op, const KernelTable<T>& t, const T* x, const T* h, int64_t outer,
                    int64_t n, int64_t inner, T* out, T* mean_out, double correction, int nt) {
  const int64_t nout = outer * inner;
  const int64_t nchunks = (inner + kColChunk - 1) / kColChunk;
  const int64_t slices =
      outer * nchunks >= nt ? 1 : std::min<int64_t>(nt, std::max<int64_t>(1, n / 64));
  const int64_t per = (n + slices - 1) / slices;
  const bool var = op == ReduceOp::kVar;
  // Slice s's results: a at a_of(s) (slice 0's straight into out unless var), b (var) after.
  std::vector<T> stats(size_t((var ? 2 * slices : slices - 1) * nout));
  auto a_of = [&](int64_t sl) {
    return var ? stats.data() + 2 * sl * nout : sl == 0 ? out : stats.data() + (sl - 1) * nout;
  };
  const int64_t items = outer * nchunks * slices;
  const int ntc = cap_threads(nt, items);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t sl = it % slices, rest = it / slices;
    const int64_t o = rest / nchunks, c0 = (rest % nchunks) * kColChunk;
    const int64_t w = std::min(kColChunk, inner - c0);
    const int64_t j0 = std::min(n, sl * per), j1 = std::min(n, j0 + per);
    T* a = a_of(sl) + o * inner + c0;
    const int64_t off = (o * n + j0) * inner + c0;
    if (j1 > j0)
      reduce_col_block(op, t, x + off, h ? h + off : nullptr, j1 - j0, inner, w, a,
                       var ? a + nout : nullptr, x + o * n * inner + c0);
  }
  const auto rows_in = [&](int64_t sl) {
    return std::max<int64_t>(0, std::min(per, n - sl * per));
  };
  if (var) {
    T* mean = a_of(0);
    T* m2 = mean + nout;
    double cnt = double(rows_in(0));
    for (int64_t sl = 1; sl < slices; ++sl)
      merge_moments(mean, m2, cnt, a_of(sl), a_of(sl) + nout, double(rows_in(sl)), nout);
    const T r = T(1.0 / std::max(double(n) - correction, 0.0));  // 1/0: inf or nan, as NumPy
    for (int64_t c = 0; c < nout; ++c) out[c] = m2[c] * r;
    if (mean_out)
      for (int64_t c = 0; c < nout; ++c)
        mean_out[c] = mean[c] + x[(c / inner) * n * inner + c % inner];
    return;
  }
  for (int64_t sl = 1; sl < slices; ++sl)
    if (rows_in(sl)) fold_into(op, t, out, a_of(sl), nout);
  if (op == ReduceOp::kMean) {
    const T r = T(1) / T(n);
    for (int64_t k = 0; k < nout; ++k) out[k] *= r;
  }
}

// Products (ReduceOp::kProd).  Every split below depends on the shape alone, never on the
// thread count, so a product comes out the same bits at any number of threads and at every
// SIMD level (the row and column kernels multiply in one order on all of them).
constexpr int64_t kProdPiece = 65536;  // elements of a long row multiplied as one task
constexpr int64_t kProdCols = 1024;    // columns a task of the column layout carries
constexpr int64_t kProdSlice = 128;    // rows a slice takes when the columns give few tasks

// out[c] = the product over r < rows of x[r * step + c] for c < w (rows >= 1), in float64.
// Narrow contiguous rows (w == step) are taken k at a time as one row of k * w, whose k
// interleaved partial products are multiplied together at the end (in order).
template <typename T>
void prod_col_block(const KernelTable<T>& t, const T* x, int64_t rows, int64_t step, int64_t w,
                    double* out) {
  const int64_t k = w == step ? std::min(rows, kProdCols / w) : 1;
  alignas(64) double acc[kProdCols];
  std::fill(acc, acc + k * w, 1.0);
  const int64_t groups = rows / k, rem = rows - groups * k;
  t.col_prod(acc, x, k * w, groups, k * step);
  if (rem) t.col_prod(acc, x + groups * k * step, rem * w, 1, 0);
  std::copy(acc, acc + w, out);
  for (int64_t g = 1; g < k; ++g)
    for (int64_t c = 0; c < w; ++c) out[c] *= acc[g * w + c];
}

template <typename T>
void prod_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out) {
  const auto& t = table<T>();
  const int nt = threads_for(outer * n * inner);
  if (inner == 1) {
    if (n <= kProdPiece) {
      const int ntr = cap_threads(nt, outer);
#pragma omp parallel for num_threads(ntr) schedule(dynamic, grab_chunk(outer, ntr, n)) if (ntr > 1)
      for (int64_t o = 0; o < outer; ++o) out[o] = T(t.row_prod(x + o * n, n));
      return;
    }
    const int64_t pieces = (n + kProdPiece - 1) / kProdPiece;  // long rows: in pieces
    std::vector<double> part(size_t(outer * pieces));
    const int ntp = cap_threads(nt, outer * pieces);
#pragma omp parallel for num_threads(ntp) schedule(dynamic, 1) if (ntp > 1)
    for (int64_t it = 0; it < outer * pieces; ++it) {
      const int64_t o = it / pieces, i0 = it % pieces * kProdPiece;
      part[it] = t.row_prod(x + o * n + i0, std::min(kProdPiece, n - i0));
    }
    for (int64_t o = 0; o < outer; ++o) {
      double p = 1.0;
      for (int64_t k = 0; k < pieces; ++k) p *= part[o * pieces + k];
      out[o] = T(p);
    }
    return;
  }
  // Column layout: tasks are (outer, column chunk, row slice); few column tasks (a (rows,
  // features) array over its rows) slice the rows, and the slices' products are multiplied
  // in order at the end.
  const int64_t nout = outer * inner, nchunks = (inner + kProdCols - 1) / kProdCols;
  const int64_t slices =
      outer * nchunks < 8 && n >= 2 * kProdSlice ? (n + kProdSlice - 1) / kProdSlice : 1;
  const int64_t per = (n + slices - 1) / slices, items = outer * nchunks * slices;
  std::vector<double> part(size_t(slices * nout));
  const int ntc = cap_threads(nt, items);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t sl = it % slices, rest = it / slices;
    const int64_t o = rest / nchunks, c0 = rest % nchunks * kProdCols;
    const int64_t j0 = sl * per, rows = std::min(per, n - j0);
    double* dst = part.data() + sl * nout + o * inner + c0;
    if (rows > 0)
      prod_col_block(t, x + (o * n + j0) * inner + c0, rows, inner, std::min(kProdCols, inner - c0),
                     dst);
    else
      std::fill(dst, dst + std::min(kProdCols, inner - c0), 1.0);
  }
  for (int64_t c = 0; c < nout; ++c) {
    double p = part[c];
    for (int64_t sl = 1; sl < slices; ++sl) p *= part[sl * nout + c];
    out[c] = T(p);
  }
}

}  // namespace

template <typename T>
void reduce_axis(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out,
                 double correction) {
  const int64_t nout = outer * inner;
  if (nout == 0) return;
  if (n == 0) {
    T v = op == ReduceOp::kSum    ? T(0)
          : op == ReduceOp::kProd ? T(1)
                                  : std::numeric_limits<T>::quiet_NaN();
    std::fill(out, out + nout, v);
    return;
  }
  if (op == ReduceOp::kProd) return prod_axis(x, outer, n, inner, out);
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
#pragma omp parallel for num_threads(ntr) schedule(dynamic, grab_chunk(outer, ntr, n)) if (ntr > 1)
    for (int64_t o = 0; o < outer; ++o) out[o] = reduce_row(op, t, x + o * n, n, correction);
    return;
  }
  reduce_columns<T>(op, t, x, nullptr, outer, n, inner, out, nullptr, correction, nt);
}

// out = the cumulative sum (kProd: product) of x along the middle axis of (outer, n, inner),
// from the end when reverse (the backward), accumulated in double and rounded once per
// element, as PyTorch's CPU scan.  Threads over the outer slices and over blocks of the
// inner axis.
template <typename T, bool kProd>
void scan_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool reverse) {
  if (outer * n * inner == 0) return;
  constexpr int64_t kBlock = 256;  // inner columns a task carries (their sums in a double each)
  constexpr double kStart = kProd ? 1.0 : 0.0;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const int nt = cap_threads(threads_for(outer * n * inner), outer * blocks);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int64_t task = 0; task < outer * blocks; ++task) {
    const int64_t o = task / blocks, j0 = task % blocks * kBlock;
    const int64_t w = std::min(kBlock, inner - j0);
    auto step = [](double& a, T v) { return T(kProd ? a *= double(v) : a += double(v)); };
    if (inner == 1) {  // one row: its sum in a register (an array slot went through memory)
      const T* xo = x + o * n;
      T* yo = out + o * n;
      double a = kStart;
      if (reverse)
        for (int64_t i = n - 1; i >= 0; --i) yo[i] = step(a, xo[i]);
      else
        for (int64_t i = 0; i < n; ++i) yo[i] = step(a, xo[i]);
      continue;
    }
    double acc[kBlock];
    std::fill(acc, acc + w, kStart);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = reverse ? n - 1 - k : k;
      const T* xi = x + (o * n + i) * inner + j0;
      T* yi = out + (o * n + i) * inner + j0;
      for (int64_t j = 0; j < w; ++j) yi[j] = step(acc[j], xi[j]);
    }
  }
}

template <typename T>
void cumsum_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool reverse) {
  scan_axis<T, false>(x, outer, n, inner, out, reverse);
}

template <typename T>
void cumprod_axis(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool reverse) {
  scan_axis<T, true>(x, outer, n, inner, out, reverse);
}

template void cumprod_axis<float>(const float*, int64_t, int64_t, int64_t, float*, bool);
template void cumprod_axis<double>(const double*, int64_t, int64_t, int64_t, double*, bool);
template void cumsum_axis<float>(const float*, int64_t, int64_t, int64_t, float*, bool);
template void cumsum_axis<double>(const double*, int64_t, int64_t, int64_t, double*, bool);

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
#pragma omp parallel for num_threads(ntr) schedule(dynamic, grab_chunk(outer, ntr, n)) if (ntr > 1)
    for (int64_t o = 0; o < outer; ++o) out[o] = T(t.row_dot(g + o * n, h + o * n, n));
    return;
  }
  reduce_columns<T>(ReduceOp::kSum, t, g, h, outer, n, inner, out, nullptr, 0.0, nt);
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
    reduce_columns<T>(ReduceOp::kVar, t, x, nullptr, 1, outer, c, var, mean, 0.0, nt);
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

template <typename T>
void scatter_add_rows(T* out, const int64_t* rows, int64_t k, const T* g, int64_t width,
                      int64_t outer, int64_t n) {
  if (k == 0 || width == 0 || outer == 0) return;
  const auto& t = table<T>();
  constexpr int64_t kBlock = 1024;  // columns per work item: a 4 KiB slice of each row
  constexpr int64_t kNarrow = 16;   // narrower slices: a plain loop, not a kernel call a row
  const int64_t nblocks = (width + kBlock - 1) / kBlock, items = outer * nblocks;
  const int nt = cap_threads(threads_for(outer * k * width), items);
  const int64_t chunk = dyn_chunk(k * std::min(width, kBlock));
#pragma omp parallel for num_threads(nt) schedule(dynamic, chunk) if (nt > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t o = it / nblocks, c0 = (it % nblocks) * kBlock, w = std::min(kBlock, width - c0);
    T* dst = out + o * n * width + c0;
    const T* src = g + o * k * width + c0;
    if (w < kNarrow) {
      for (int64_t i = 0; i < k; ++i)
        for (int64_t c = 0; c < w; ++c) dst[rows[i] * width + c] += src[i * width + c];
    } else {
      for (int64_t i = 0; i < k; ++i)
        t.col_sum(dst + rows[i] * width, src + i * width, nullptr, w, 1, 0);
    }
  }
}

template <typename T>
void lerp_rows(const T* x, const int64_t* lo, const int64_t* hi, const T* f, T* y, int64_t outer,
               int64_t n, int64_t m, int64_t inner) {
  const int nt = cap_threads(threads_for(outer * m * inner), outer);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n * inner;
    for (int64_t j = 0; j < m; ++j) {
      const T w1 = f[j], w0 = T(1) - w1;
      const T *a = xo + lo[j] * inner, *b = xo + hi[j] * inner;
      T* out = y + (o * m + j) * inner;
      for (int64_t i = 0; i < inner; ++i) out[i] = w0 * a[i] + w1 * b[i];
    }
  }
}

template <typename T>
void lerp_rows_backward(const T* g, const int64_t* lo, const int64_t* hi, const T* f, T* gx,
                        int64_t outer, int64_t n, int64_t m, int64_t inner) {
  const int nt = cap_threads(threads_for(outer * m * inner), outer);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t o = 0; o < outer; ++o) {
    T* go = gx + o * n * inner;
    for (int64_t j = 0; j < m; ++j) {
      const T w1 = f[j], w0 = T(1) - w1;
      T *a = go + lo[j] * inner, *b = go + hi[j] * inner;  // (a == b at an edge)
      const T* src = g + (o * m + j) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        a[i] += w0 * src[i];
        b[i] += w1 * src[i];
      }
    }
  }
}

template void lerp_rows<float>(const float*, const int64_t*, const int64_t*, const float*, float*,
                               int64_t, int64_t, int64_t, int64_t);
template void lerp_rows<double>(const double*, const int64_t*, const int64_t*, const double*,
                                double*, int64_t, int64_t, int64_t, int64_t);
template void lerp_rows_backward<float>(const float*, const int64_t*, const int64_t*, const float*,
                                        float*, int64_t, int64_t, int64_t, int64_t);
template void lerp_rows_backward<double>(const double*, const int64_t*, const int64_t*,
                                         const double*, double*, int64_t, int64_t, int64_t,
                                         int64_t);

namespace {

// a ranks before b: larger (or smaller) first, NaN counted above every number (first among
// the largest, last among the smallest).
template <typename T, bool kLargest>
inline bool ranks_before(T a, T b) {
  if (a != a) return kLargest && b == b;
  if (b != b) return !kLargest;
  return kLargest ? a > b : a < b;
}

template <typename T, bool kLargest>
void topk_row(const T* x, int64_t n, int64_t k, T* v, int64_t* ix) {
  int64_t m = 0;  // filled entries of the sorted buffer (v, ix)
  for (int64_t i = 0; i < n; ++i) {
    const T xi = x[i];
    if (m == k && !ranks_before<T, kLargest>(xi, v[k - 1])) continue;  // the common case
    int64_t p = m < k ? m++ : k - 1;                                   // drop the last when full
    for (; p > 0 && ranks_before<T, kLargest>(xi, v[p - 1]); --p) {    // after equal values
      v[p] = v[p - 1];
      ix[p] = ix[p - 1];
    }
    v[p] = xi;
    ix[p] = i;
  }
}

}  // namespace

template <typename T>
void topk_rows(const T* x, int64_t rows, int64_t n, int64_t k, bool largest, T* vals,
               int64_t* idx) {
  if (rows == 0 || k == 0) return;
  const int nt = cap_threads(threads_for(rows * n), rows);
#pragma omp parallel for num_threads(nt) schedule(dynamic, dyn_chunk(n)) if (nt > 1)
  for (int64_t r = 0; r < rows; ++r) {
    if (largest)
      topk_row<T, true>(x + r * n, n, k, vals + r * k, idx + r * k);
    else
      topk_row<T, false>(x + r * n, n, k, vals + r * k, idx + r * k);
  }
}

template void topk_rows<float>(const float*, int64_t, int64_t, int64_t, bool, float*, int64_t*);
template void topk_rows<double>(const double*, int64_t, int64_t, int64_t, bool, double*, int64_t*);
template void scatter_add_rows<float>(float*, const int64_t*, int64_t, const float*, int64_t,
                                      int64_t, int64_t);
template void scatter_add_rows<double>(double*, const int64_t*, int64_t, const double*, int64_t,
                                       int64_t, int64_t);
template void reduce_axis<float>(ReduceOp, const float*, int64_t, int64_t, int64_t, float*, double);
template void reduce_axis<double>(ReduceOp, const double*, int64_t, int64_t, int64_t, double*,
                                  double);
template void mul_sum_axis<float>(const float*, const float*, int64_t, int64_t, int64_t, float*);
template void mul_sum_axis<double>(const double*, const double*, int64_t, int64_t, int64_t,
                                   double*);
template void channel_stats<float>(const float*, int64_t, int64_t, int64_t, float*, float*);
template void channel_stats<double>(const double*, int64_t, int64_t, int64_t, double*, double*);

}  // namespace autodiff::kernels
