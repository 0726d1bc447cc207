// Gather / scatter-add along the last axis: rows are independent, so threads take whole rows
// and scatter-add needs no atomics.  np.take_along_axis (one thread) took 7 ms for 1024 x
// 1024 floats and np.add.at 18 ms.
#include "kernels/index.h"

#include <atomic>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

// Runs row(r, bad_out) over the rows in parallel; row returns false on a bad index.  The
// first bad index any thread finds is kept in *bad.
template <typename Row>
bool each_row(int64_t rows, int64_t work, int64_t* bad, Row row) {
  std::atomic<bool> ok{true};
  const int nt = cap_threads(threads_for(work), rows);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t b;
    if (!row(r, &b) && ok.exchange(false)) *bad = b;
  }
  return ok.load();
}

}  // namespace

template <typename T>
bool gather_last(const T* x, int64_t rows, int64_t n, const int64_t* idx, int64_t m, T* out,
                 int64_t* bad) {
  return each_row(rows, rows * m, bad, [&](int64_t r, int64_t* b) {
    const T* xr = x + r * n;
    const int64_t* ir = idx + r * m;
    T* o = out + r * m;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t i = ir[j];
      if (uint64_t(i) >= uint64_t(n)) {  // negative too: PyTorch's gather takes [0, n)
        *b = ir[j];
        return false;
      }
      o[j] = xr[i];
    }
    return true;
  });
}

template <typename T>
bool scatter_add_last(T* out, int64_t rows, int64_t n, const int64_t* idx, const T* src,
                      int64_t m, int64_t* bad) {
  return each_row(rows, rows * m, bad, [&](int64_t r, int64_t* b) {
    T* o = out + r * n;
    const int64_t* ir = idx + r * m;
    const T* s = src + r * m;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t i = ir[j];
      if (uint64_t(i) >= uint64_t(n)) {  // negative too: PyTorch's scatter_add takes [0, n)
        *b = ir[j];
        return false;
      }
      o[i] += s[j];
    }
    return true;
  });
}

template bool gather_last<float>(const float*, int64_t, int64_t, const int64_t*, int64_t, float*,
                                 int64_t*);
template bool gather_last<double>(const double*, int64_t, int64_t, const int64_t*, int64_t,
                                  double*, int64_t*);
template bool scatter_add_last<float>(float*, int64_t, int64_t, const int64_t*, const float*,
                                      int64_t, int64_t*);
template bool scatter_add_last<double>(double*, int64_t, int64_t, const int64_t*, const double*,
                                       int64_t, int64_t*);

}  // namespace autodiff::kernels
