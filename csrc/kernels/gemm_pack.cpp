// Packing routines for GEMM: strided A and B into contiguous, zero-padded micro-panels.
#include <algorithm>
#include <cstring>

#include "kernels/gemm.h"

namespace autodiff::kernels {

// A block (mc x kc) -> ceil(mc / mr) panels, each kc columns of mr rows (column-major).
template <typename T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, int mr, T* pa) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - i0);
    const T* src = a + i0 * rsa;
    if (csa == 1) {  // row-major A: read each row sequentially
      for (int64_t i = 0; i < rows; ++i) {
        const T* row = src + i * rsa;
        for (int64_t k = 0; k < kc; ++k) pa[k * mr + i] = row[k];
      }
    } else if (rsa == 1 && rows == mr) {  // column-major A (a transposed view): copy columns
      for (int64_t k = 0; k < kc; ++k) std::memcpy(pa + k * mr, src + k * csa, sizeof(T) * mr);
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < rows; ++i) pa[k * mr + i] = src[i * rsa + k * csa];
    }
    for (int64_t i = rows; i < mr; ++i)
      for (int64_t k = 0; k < kc; ++k) pa[k * mr + i] = T(0);
    pa += mr * kc;
  }
}

// One B micro-panel: kc rows of nr columns (row-major), columns >= nr_valid zero.
template <typename T>
void pack_b_panel(int64_t kc, int64_t nr_valid, const T* b, int64_t rsb, int64_t csb, int nr,
                  T* pb) {
  if (csb == 1 && nr_valid == nr) {
    for (int64_t k = 0; k < kc; ++k) std::memcpy(pb + k * nr, b + k * rsb, sizeof(T) * nr);
    return;
  }
  if (rsb == 1) {  // column-major B (a transposed view): read each column sequentially
    for (int64_t j = 0; j < nr_valid; ++j) {
      const T* col = b + j * csb;
      for (int64_t k = 0; k < kc; ++k) pb[k * nr + j] = col[k];
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = nr_valid; j < nr; ++j) pb[k * nr + j] = T(0);
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t j = 0; j < nr_valid; ++j) pb[k * nr + j] = b[k * rsb + j * csb];
    for (int64_t j = nr_valid; j < nr; ++j) pb[k * nr + j] = T(0);
  }
}

template void pack_a<float>(int64_t, int64_t, const float*, int64_t, int64_t, int, float*);
template void pack_a<double>(int64_t, int64_t, const double*, int64_t, int64_t, int, double*);
template void pack_b_panel<float>(int64_t, int64_t, const float*, int64_t, int64_t, int, float*);
template void pack_b_panel<double>(int64_t, int64_t, const double*, int64_t, int64_t, int,
                                   double*);

}  // namespace autodiff::kernels
