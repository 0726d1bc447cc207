// Strided-to-contiguous copies (NumPy's ascontiguousarray), tiled for transposed layouts.
#pragma once

#include <cstdint>
#include <vector>

namespace autodiff::kernels {

// dst (C-contiguous, shape) = the array at src with element strides `strides` (any sign).
// T is an unsigned integer of the element's size: the copy moves bits.  Shapes and strides
// must describe memory the caller owns (they come from a valid NumPy array).
template <typename T>
void copy_to_contiguous(const T* src, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& strides, T* dst);

}  // namespace autodiff::kernels
