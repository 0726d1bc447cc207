// Sorting along the last axis: values and the permutation, as torch.sort / np.sort.
#pragma once

#include <cstdint>

namespace autodiff::kernels {

// Sorts each of `rows` contiguous rows of n elements ascending (descending: largest first)
// into vals, with idx[j] the position in the row that vals[j] came from.  Stable: equal
// values (-0.0 and 0.0 among them) keep their order in the row.  NaN ranks above every
// number, as in NumPy and PyTorch: last ascending, first descending.  Threaded over rows.
// T: float, double, int32_t or int64_t.
template <typename T>
void sort_rows(const T* x, int64_t rows, int64_t n, bool descending, T* vals, int64_t* idx);

}  // namespace autodiff::kernels
