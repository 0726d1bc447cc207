// Max pooling: a direct loop over each window (the NumPy backend builds strided window views
// and compares them in several passes; this is one pass over the input).
#include "kernels/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

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
          const int64_t lo = off < 0 ? (-off + g.sw - 1) / g.sw : 0;
          const int64_t hi = g.w - 1 - off < 0 ? 0 : std::min(g.ow, (g.w - 1 - off) / g.sw + 1);
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

template void max_pool2d_forward<float>(const PoolGeom&, const float*, float*, int64_t*);
template void max_pool2d_forward<double>(const PoolGeom&, const double*, double*, int64_t*);
template void max_pool2d_backward<float>(const PoolGeom&, const float*, const int64_t*, float*);
template void max_pool2d_backward<double>(const PoolGeom&, const double*, const int64_t*,
                                          double*);

}  // namespace autodiff::kernels
