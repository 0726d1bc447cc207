// Pooling: a direct loop over each window (the NumPy backend builds strided window views and
// combines them in several passes; this is one pass over the input).
#include "kernels/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

// The ox range [lo, hi) whose column ox * sw + off lies inside [0, w).
inline void column_range(const PoolGeom& g, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off < 0 ? (-off + g.sw - 1) / g.sw : 0;
  hi = g.w - 1 - off < 0 ? 0 : std::min(g.ow, (g.w - 1 - off) / g.sw + 1);
}

// Per output row: for each kernel offset (i, j), one branch-free pass along the row updates
// every window's running max and argmax (a strided load, a compare and two selects the
// compiler vectorizes); the column bounds become an ox range per offset, not a test per
// element.  Candidates come in (i, j) order: ties keep the first, a NaN replaces anything.
template <typename T>
void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx) {
  const int64_t plane_out = g.oh * g.ow;
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* xp = x + p * g.h * g.w;
    std::vector<T> bestv(size_t(g.ow));
    std::vector<int32_t> argv(size_t(g.ow));  // the compare's lane width: vectorizable
    T* __restrict best = bestv.data();
    int32_t* __restrict arg = argv.data();
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      std::fill(best, best + g.ow, -std::numeric_limits<T>::infinity());
      std::fill(arg, arg + g.ow, -1);
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t r = oy * g.sh - g.pt + i * g.dh;
        if (r < 0 || r >= g.h) continue;
        const T* __restrict xr = xp + r * g.w;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t off = j * g.dw - g.pl;  // column = ox * sw + off
          const int32_t k = int32_t(i * g.kw + j);
          int64_t lo, hi;
          column_range(g, off, lo, hi);
          const int64_t sw = g.sw;
          for (int64_t ox = lo; ox < hi; ++ox) {
            const T v = xr[ox * sw + off];
            const bool take = (v > best[ox]) | (v != v) | (arg[ox] < 0);
            best[ox] = take ? v : best[ox];
            arg[ox] = take ? k : arg[ox];
          }
        }
      }
      // a window wholly in the padding (not reachable with PyTorch's pad <= k / 2): -inf
      T* yrow = y + p * plane_out + oy * g.ow;
      int64_t* irow = idx + p * plane_out + oy * g.ow;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        yrow[ox] = best[ox];
        irow[ox] = std::max<int32_t>(arg[ox], 0);
      }
    }
  }
}

template <typename T>
void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx) {
  const int64_t kk = g.kh * g.kw;
  std::vector<int64_t> row_off(static_cast<size_t>(kk)), col_off(static_cast<size_t>(kk));
  for (int64_t k = 0; k < kk; ++k) {
    row_off[k] = (k / g.kw) * g.dh - g.pt;
    col_off[k] = (k % g.kw) * g.dw - g.pl;
  }
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t p = 0; p < g.planes; ++p) {
    T* gp = gx + p * g.h * g.w;
    const T* gyp = gy + p * g.oh * g.ow;
    const int64_t* ip = idx + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t o = oy * g.ow + ox, k = ip[o];
        if (k < 0 || k >= kk) continue;
        const int64_t r = oy * g.sh + row_off[k], c = ox * g.sw + col_off[k];
        if (r < 0 || r >= g.h || c < 0 || c >= g.w) continue;
        gp[r * g.w + c] += gyp[o];
      }
  }
}

// Each output's divisor div_h[oy] * div_w[ox] (in double: no integer overflow), as T.
template <typename T>
std::vector<T> divisor_table(const PoolGeom& g, const int64_t* div_h, const int64_t* div_w) {
  std::vector<T> d(size_t(g.oh * g.ow));
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox)
      d[size_t(oy * g.ow + ox)] = T(double(div_h[oy]) * double(div_w[ox]));
  return d;
}

// The outputs [a, b) whose whole window row (kw columns from ox * sw - pl) lies in the image;
// the others are the border, where each column is tested.
inline void interior_range(const PoolGeom& g, int64_t& a, int64_t& b) {
  int64_t lo0, hi0, lo1, hi1;
  column_range(g, -g.pl, lo0, hi0);
  column_range(g, g.kw - 1 - g.pl, lo1, hi1);
  a = std::max(lo0, lo1);
  b = std::max(a, std::min(hi0, hi1));
}

// One input row of average pooling: acc[ox] += the row's kw window elements, left to right.
// KW > 0 fixes the window width and stride (KW == sw): the loop then reads a contiguous run
// the compiler vectorizes; KW == 0 takes g.kw and g.sw as they come.
template <int KW, typename T>
void avg_row_sum(const PoolGeom& g, const T* __restrict xr, T* __restrict acc, int64_t a,
                 int64_t b) {
  const int64_t kw = KW ? KW : g.kw, sw = KW ? KW : g.sw;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    if (ox == a) ox = b;  // the interior comes below
    if (ox >= g.ow) break;
    T s = acc[ox];
    for (int64_t j = 0; j < kw; ++j) {
      const int64_t c = ox * sw - g.pl + j;
      if (c >= 0 && c < g.w) s += xr[c];
    }
    acc[ox] = s;
  }
  const T* base = xr - g.pl;
  for (int64_t ox = a; ox < b; ++ox) {
    T s = acc[ox];
    for (int64_t j = 0; j < kw; ++j) s += base[ox * sw + j];
    acc[ox] = s;
  }
}

// One input row of the adjoint: gr[column] += share[ox] over each window's kw columns.
template <int KW, typename T>
void avg_row_spread(const PoolGeom& g, const T* __restrict share, T* __restrict gr, int64_t a,
                    int64_t b) {
  const int64_t kw = KW ? KW : g.kw, sw = KW ? KW : g.sw;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    if (ox == a) ox = b;
    if (ox >= g.ow) break;
    for (int64_t j = 0; j < kw; ++j) {
      const int64_t c = ox * sw - g.pl + j;
      if (c >= 0 && c < g.w) gr[c] += share[ox];
    }
  }
  T* base = gr - g.pl;
  for (int64_t ox = a; ox < b; ++ox)
    for (int64_t j = 0; j < kw; ++j) base[ox * sw + j] += share[ox];
}

// Each output row sums its window rows in order (i, then j within a row), PyTorch's order;
// padding adds nothing.
template <int KW, typename T>
void avg_pool_planes(const PoolGeom& g, const T* x, const T* divisor, T* y) {
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
  int64_t a, b;
  interior_range(g, a, b);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<T> accv(size_t(g.ow));
    T* acc = accv.data();
#pragma omp for schedule(static)
    for (int64_t p = 0; p < g.planes; ++p) {
      const T* xp = x + p * g.h * g.w;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        std::fill(acc, acc + g.ow, T(0));
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t r = oy * g.sh - g.pt + i;
          if (r >= 0 && r < g.h) avg_row_sum<KW>(g, xp + r * g.w, acc, a, b);
        }
        T* __restrict yrow = y + (p * g.oh + oy) * g.ow;
        const T* drow = divisor + oy * g.ow;
        for (int64_t ox = 0; ox < g.ow; ++ox) yrow[ox] = acc[ox] / drow[ox];
      }
    }
  }
}

// Row by row of gx: zeroed, then each window row that lands on it adds its output's share
// (dy / divisor, computed once per plane), so every gx row is written while it is in L1.
template <int KW, typename T>
void avg_spread_planes(const PoolGeom& g, const T* gy, const T* divisor, T* gx) {
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
  int64_t a, b;
  interior_range(g, a, b);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<T> sharev(size_t(g.oh * g.ow));
    T* share = sharev.data();
#pragma omp for schedule(static)
    for (int64_t p = 0; p < g.planes; ++p) {
      const T* gyp = gy + p * g.oh * g.ow;
      for (int64_t o = 0; o < g.oh * g.ow; ++o) share[o] = gyp[o] / divisor[o];
      T* gp = gx + p * g.h * g.w;
      for (int64_t r = 0; r < g.h; ++r) {
        T* gr = gp + r * g.w;
        std::fill(gr, gr + g.w, T(0));
        for (int64_t i = 0; i < g.kh; ++i) {  // window row i of output row oy lands on r
          const int64_t t = r + g.pt - i;
          if (t < 0 || t % g.sh) continue;
          const int64_t oy = t / g.sh;
          if (oy < g.oh) avg_row_spread<KW>(g, share + oy * g.ow, gr, a, b);
        }
      }
    }
  }
}

// Windows that tile the image from its corner (stride == kernel, no padding before, every
// window inside): the common 2x2 pool.  Each output row then reads kh whole input rows, and
// the adjoint writes each gx element once, so there is no zero fill.  KH, KW > 0 fix the
// kernel (the loops unroll and vectorize); 0 takes it from g.
inline bool tiles_exactly(const PoolGeom& g) {
  return g.pt == 0 && g.pl == 0 && g.sh == g.kh && g.sw == g.kw && g.oh * g.kh <= g.h &&
         g.ow * g.kw <= g.w;
}

template <int KH, int KW, typename T>
void avg_tiled_forward(const PoolGeom& g, const T* x, const T* divisor, T* y) {
  const int64_t kh = KH ? KH : g.kh, kw = KW ? KW : g.kw, w = g.w;
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const T* __restrict xr = x + (p * g.h + oy * kh) * w;
      const T* __restrict drow = divisor + oy * g.ow;
      T* __restrict yrow = y + (p * g.oh + oy) * g.ow;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        T s = T(0);  // PyTorch's order: from 0, row by row
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) s += xr[i * w + ox * kw + j];
        yrow[ox] = s / drow[ox];
      }
    }
}

template <int KH, int KW, typename T>
void avg_tiled_backward(const PoolGeom& g, const T* gy, const T* divisor, T* gx) {
  const int64_t kh = KH ? KH : g.kh, kw = KW ? KW : g.kw, w = g.w;
  const int64_t covered = g.ow * kw;  // columns past it (and rows past oh * kh) get 0
  const int nt = cap_threads(threads_for(g.planes * g.h * g.w), g.planes);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t p = 0; p < g.planes; ++p) {
    T* gp = gx + p * g.h * w;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const T* __restrict gyrow = gy + (p * g.oh + oy) * g.ow;
      const T* __restrict drow = divisor + oy * g.ow;
      for (int64_t i = 0; i < kh; ++i) {
        T* __restrict gr = gp + (oy * kh + i) * w;
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const T share = gyrow[ox] / drow[ox];
          for (int64_t j = 0; j < kw; ++j) gr[ox * kw + j] = share;
        }
        std::fill(gr + covered, gr + w, T(0));
      }
    }
    std::fill(gp + g.oh * kh * w, gp + g.h * w, T(0));
  }
}

// The kernel for g: tiled or per output row, with the common window widths compiled in.
template <int KH, int KW, bool Forward, typename T>
void avg_tiled(const PoolGeom& g, const T* in, const T* divisor, T* out) {
  if constexpr (Forward) avg_tiled_forward<KH, KW>(g, in, divisor, out);
  else avg_tiled_backward<KH, KW>(g, in, divisor, out);
}

template <int KW, bool Forward, typename T>
void avg_rows(const PoolGeom& g, const T* in, const T* divisor, T* out) {
  if constexpr (Forward) avg_pool_planes<KW>(g, in, divisor, out);
  else avg_spread_planes<KW>(g, in, divisor, out);
}

template <bool Forward, typename T>
void avg_pool_dispatch(const PoolGeom& g, const T* in, const int64_t* div_h,
                       const int64_t* div_w, T* out) {
  const std::vector<T> dv = divisor_table<T>(g, div_h, div_w);
  const T* d = dv.data();
  if (tiles_exactly(g)) {
    if (g.kh == 2 && g.kw == 2) return avg_tiled<2, 2, Forward>(g, in, d, out);
    if (g.kh == 1 && g.kw == 2) return avg_tiled<1, 2, Forward>(g, in, d, out);
    if (g.kh == 3 && g.kw == 3) return avg_tiled<3, 3, Forward>(g, in, d, out);
    return avg_tiled<0, 0, Forward>(g, in, d, out);
  }
  if (g.kw == 2 && g.sw == 2) return avg_rows<2, Forward>(g, in, d, out);
  if (g.kw == 3 && g.sw == 3) return avg_rows<3, Forward>(g, in, d, out);
  avg_rows<0, Forward>(g, in, d, out);
}

template <typename T>
void avg_pool2d_forward(const PoolGeom& g, const T* x, const int64_t* div_h,
                        const int64_t* div_w, T* y) {
  avg_pool_dispatch<true>(g, x, div_h, div_w, y);
}

template <typename T>
void avg_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* div_h,
                         const int64_t* div_w, T* gx) {
  avg_pool_dispatch<false>(g, gy, div_h, div_w, gx);
}

template void avg_pool2d_forward<float>(const PoolGeom&, const float*, const int64_t*,
                                        const int64_t*, float*);
template void avg_pool2d_forward<double>(const PoolGeom&, const double*, const int64_t*,
                                         const int64_t*, double*);
template void avg_pool2d_backward<float>(const PoolGeom&, const float*, const int64_t*,
                                         const int64_t*, float*);
template void avg_pool2d_backward<double>(const PoolGeom&, const double*, const int64_t*,
                                          const int64_t*, double*);
template void max_pool2d_forward<float>(const PoolGeom&, const float*, float*, int64_t*);
template void max_pool2d_forward<double>(const PoolGeom&, const double*, double*, int64_t*);
template void max_pool2d_backward<float>(const PoolGeom&, const float*, const int64_t*, float*);
template void max_pool2d_backward<double>(const PoolGeom&, const double*, const int64_t*,
                                          double*);

}  // namespace autodiff::kernels
