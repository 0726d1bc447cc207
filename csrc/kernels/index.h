// Gather and scatter-add along the last axis (torch.gather / scatter_add with dim = -1).
#pragma once

#include <cstdint>

namespace autodiff::kernels {

// out[r, j] = x[r, idx[r, j]] for r < rows, j < m, x of rows x n.  On an index outside
// [0, n) (PyTorch's range: no negative index) returns false with it in *bad (that element is
// not read); threaded over rows.
template <typename T>
bool gather_last(const T* x, int64_t rows, int64_t n, const int64_t* idx, int64_t m, T* out,
                 int64_t* bad);

// out[r, idx[r, j]] += src[r, j] for r < rows, j < m, out of rows x n, in j order within a
// row; indices as gather_last's (an index out of range is skipped and reported).
template <typename T>
bool scatter_add_last(T* out, int64_t rows, int64_t n, const int64_t* idx, const T* src,
                      int64_t m, int64_t* bad);

}  // namespace autodiff::kernels
